"""Loading an inference script, in process: module names, sys.path, and the Accept header's weights."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

from modeltune.serving import payloads
from modeltune.serving.handlers import load_handlers


def test_a_script_named_like_a_loaded_module_does_not_replace_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "path", [*sys.path])  # loading puts the script's folder first
    (tmp_path / "helper_for_csv_script.py").write_text("FACTOR = 3\n")
    script = tmp_path / "csv.py"
    script.write_text("from helper_for_csv_script import FACTOR\n\ndef model_fn(model_dir):\n    return FACTOR\n")

    handlers = load_handlers(script)

    assert handlers.model_fn("unused") == 3  # its folder is on sys.path, so its helper imports
    assert sys.modules["csv"] is csv
    assert sys.modules["modeltune_entry_point_csv"].model_fn is handlers.model_fn


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        ("text/csv;q=0, application/x-npy", payloads.NPY),
        ("text/csv;q=0.2, application/json;q=0.8", payloads.JSON),
        ("application/x-npy;q=0.5, text/*", payloads.CSV),
    ],
)
def test_accept_weights_choose_the_type(accept: str, chosen: str) -> None:
    assert payloads.negotiate(accept) == chosen


def test_nothing_acceptable_or_a_bad_weight_is_406() -> None:
    for accept in ("text/csv;q=0", "text/csv;q=high"):
        with pytest.raises(payloads.RequestError) as error:
            payloads.negotiate(accept)
        assert error.value.status == 406
