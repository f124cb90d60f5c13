"""Reading documents users hand over (spec files, request files) without trusting them.

A document is read in bounded memory and time: at most ``MAX_BYTES`` of UTF-8 (or UTF-16/32
with a byte-order mark), parsed as JSON or YAML, then walked once with limits on depth, on
the number of values (YAML aliases count each time they are used, so an alias "bomb" is
refused after ``MAX_VALUES`` steps instead of expanding) and on the size of numbers and
strings. Every problem is one ``SpecError`` sentence that names where it is and never
repeats the input wholesale.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from modeltune.errors import SpecError

MAX_BYTES = 1_000_000
MAX_DEPTH = 50
MAX_VALUES = 100_000
MAX_STRING = 100_000
# Integers a spec can hold; larger ones are a mistake (and a database cannot store them).
MAX_INTEGER = 2**63 - 1
_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]


def read_document(path: Path, kind: str = "spec file") -> Any:
    """The JSON (``.json``) or YAML content of ``path``, checked by ``check_shape``; ``kind`` names it in errors."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise SpecError(f"{path.name} is {size:,} bytes; a {kind} may be at most {MAX_BYTES:,} bytes")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SpecError(f"{kind} {str(path)!r} does not exist; check the path") from None
    except IsADirectoryError:
        raise SpecError(f"{str(path)!r} is a folder; give the {kind} inside it") from None
    except OSError as exc:
        raise SpecError(f"cannot read {kind} {str(path)!r}: {exc.strerror}") from None
    data = parse_text(decode(raw, path.name), path.name, as_json=path.suffix.lower() == ".json")
    check_shape(data, path.name)
    return data


def decode(raw: bytes, source: str) -> str:
    """``raw`` as text: UTF-8, or UTF-16/32 when a byte-order mark says so."""
    encoding = next((name for bom, name in _BOMS if raw.startswith(bom)), "utf-8")
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise SpecError(
            f"{source}: byte {exc.start} is not {encoding.upper().removesuffix('-SIG')} text; save the file as UTF-8"
        ) from None


def parse_text(text: str, source: str, as_json: bool) -> Any:
    """``text`` parsed as JSON or YAML; malformed input is a SpecError naming the line."""
    try:
        return json.loads(text) if as_json else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise SpecError(f"{source}: line {exc.lineno}: malformed JSON ({exc.msg})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise SpecError(f"{source}: {line}malformed YAML ({problem})") from None
    except RecursionError:
        raise SpecError(f"{source}: nested too deeply; a spec nests at most {MAX_DEPTH} levels") from None
    except ValueError as exc:  # e.g. an integer of thousands of digits
        raise SpecError(f"{source}: {str(exc).split(';')[0]}") from None


def check_shape(data: Any, source: str) -> None:
    """Raise SpecError when ``data`` nests too deeply, holds too many values (aliases expanded), or holds
    an integer, float or string no spec needs (NUL characters included)."""
    for count, (where, value) in enumerate(_walk(data, ()), start=1):
        if count > MAX_VALUES:
            raise SpecError(
                f"{source}: holds more than {MAX_VALUES:,} values (YAML aliases count each time they are used); "
                "a spec needs far fewer"
            )
        if len(where) > MAX_DEPTH:
            raise SpecError(
                f"{source}: nested too deeply at {_path(where[:3])}...; a spec nests at most {MAX_DEPTH} levels"
            )
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int) and abs(value) > MAX_INTEGER:
            raise SpecError(f"{source}: {_path(where)}: the integer is too large (at most {MAX_INTEGER})")
        if isinstance(value, str):
            if len(value) > MAX_STRING:
                raise SpecError(
                    f"{source}: {_path(where)}: the text is {len(value):,} characters; at most {MAX_STRING:,}"
                )
            if "\x00" in value:
                raise SpecError(f"{source}: {_path(where)}: contains a NUL character; remove it")


def _walk(value: Any, where: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield where, value
    if len(where) > MAX_DEPTH:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*where, str(key)), key
            yield from _walk(item, (*where, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*where, str(index)))


def _path(where: tuple[str, ...]) -> str:
    return location(where) or "the top level"


def location(parts: Sequence[object]) -> str:
    """Where in a document a value sits, as ``a.b.0``; keys that are not plain text are quoted, all cut short."""
    shown = []
    for part in parts:
        text = str(part)
        shown.append(text[:40] if text.isprintable() and " " not in text and text else short(text, 40))
    return ".".join(shown)


def short(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, for messages about user input."""
    text = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."
