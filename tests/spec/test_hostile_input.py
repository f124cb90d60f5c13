"""Hostile and mangled input: every bad spec, file or value is one line, in bounded memory and time."""

from __future__ import annotations

import copy
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modeltune.errors import SpecError
from modeltune.spec import TuningJobSpec, parse_spec, read_spec_file
from modeltune.store import Store
from modeltune.store import repository as repo

from helpers import toy_spec, write_spec

BILLION_LAUGHS = "\n".join(
    ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
    + ["name: *i"]
)


def cli(*args: str, memory_mb: int = 1500) -> subprocess.CompletedProcess[str]:
    """The real command line with its address space capped, so an input that expands fails loudly."""

    def cap() -> None:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return subprocess.run(
        [sys.executable, "-m", "modeltune", *args], capture_output=True, text=True, timeout=60, preexec_fn=cap
    )


def assert_one_line(result: subprocess.CompletedProcess[str], starts: str) -> None:
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith(f"error: {starts}"), result.stderr
    assert len(result.stderr) < 400


def spec_text(**changes: Any) -> str:
    spec = toy_spec()
    for key, value in changes.items():
        spec[key] = value
    return yaml.safe_dump(spec)


@pytest.mark.parametrize(
    ("content", "starts"),
    [
        (BILLION_LAUGHS.encode(), "spec.yaml: holds more than 100,000 values"),
        ("a: " + "[" * 2000 + "]" * 2000 + "\n", "spec.yaml: nested too deeply"),
        (f"name: {'9' * 4301}\n".encode(), "spec.yaml: Exceeds the limit (4300 digits)"),
        ("name: caf\xe9\n".encode("latin-1"), "spec.yaml: byte 9 is not UTF-8 text; save the file as UTF-8"),
        (spec_text().replace("limits:", "limits: 5\nunused:").encode(), "spec.yaml: limits: must be a mapping"),
        (spec_text(random_seed=True).encode(), "spec.yaml: random_seed: input should be a valid integer"),
        (
            spec_text(ranges={"x": {"type": "Continuous", "min": float("-inf"), "max": 1}}).encode(),
            "spec.yaml: ranges.x.min",
        ),
        (spec_text(ranges={"a=b": {"type": "Integer", "min": 1, "max": 3}}).encode(), "spec.yaml: ranges.a=b"),
        (spec_text(ranges={"x": {"type": "Categorical", "values": ["ok", "bad\x00"]}}).encode(), "spec.yaml: ranges.x"),
        (
            spec_text(
                strategy="Grid", ranges={f"n{i}": {"type": "Integer", "min": 1, "max": 100} for i in range(5)}
            ).encode(),
            "spec.yaml: Grid search over 10,000,000,000 combinations",
        ),
        (b"name: x\n" + b"#" * 1_100_000, "spec.yaml is 1,100,008 bytes"),
    ],
    ids=[
        "alias-bomb",
        "deep",
        "huge-integer",
        "latin-1",
        "limits-5",
        "bool-seed",
        "minus-inf",
        "equals",
        "nul",
        "grid",
        "big",
    ],
)
def test_a_hostile_spec_file_is_one_line_in_bounded_memory(
    home: Path, tmp_path: Path, content: bytes, starts: str
) -> None:
    path = tmp_path / "spec.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    started = time.monotonic()

    result = cli("run", str(path))

    assert_one_line(result, starts)
    assert time.monotonic() - started < 30
    assert not (home / "modeltune.db").exists() or not Store().jobs_folder().exists()


def test_a_utf16_spec_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(spec_text(), encoding="utf-16")

    assert parse_spec(read_spec_file(path)).name == "toy"


# --- property-based: mutated specs are refused in one line or round-trip through the store -------------

LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["Continuous", "Integer", "Categorical", "Discrete", "Grid", "Maximize", "Auto", "-x", "a=b"]),
)
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += paths(value, (*prefix, index))
    return found


@st.composite
def mutated_specs(draw: st.DrawFn) -> dict[str, Any]:
    spec = copy.deepcopy(toy_spec(name="fuzz"))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        where = draw(st.sampled_from(paths(spec)[1:]))
        parent = spec
        for key in where[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "delete" and isinstance(parent, dict):
            parent.pop(where[-1], None)
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.text(max_size=8))] = draw(VALUES)
        else:
            parent[where[-1]] = draw(VALUES)
    return spec


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=mutated_specs())
def test_every_mutated_spec_is_refused_in_one_line_or_round_trips_through_the_store(
    spec: dict[str, Any], tmp_path: Path
) -> None:
    try:
        parsed = parse_spec(spec, "spec.yaml")
    except SpecError as exc:
        message = str(exc)
        assert "\n" not in message and 0 < len(message) < 600, message
        return
    store = Store(f"sqlite:///{tmp_path / 'fuzz.db'}", home=tmp_path)
    try:
        name = f"fuzz-{len(repo.list_tuning_jobs(store))}"
        stored = repo.create_tuning_job(store, name, parsed.model_copy(update={"name": name}).model_dump(mode="json"))
        again = TuningJobSpec.model_validate(repo.get_tuning_job(store, stored.name).spec)
        assert again.model_dump(mode="json") == {**parsed.model_dump(mode="json"), "name": name}
    finally:
        store.dispose()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=300) | st.text(max_size=300).map(lambda t: t.encode("utf-16")))
def test_arbitrary_bytes_are_a_spec_or_one_line(raw: bytes, tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_bytes(raw)
    try:
        parse_spec(read_spec_file(path), path.name)
    except SpecError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 600


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_a_valid_spec_written_back_reads_the_same(tmp_path: Path, suffix: str) -> None:
    spec = parse_spec(toy_spec())
    path = tmp_path / f"again{suffix}"
    data = spec.model_dump(mode="json")
    path.write_text(json.dumps(data) if suffix == ".json" else yaml.safe_dump(data))

    assert parse_spec(read_spec_file(path)) == spec
    assert write_spec(tmp_path / "w", data).exists()
