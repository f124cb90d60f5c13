"""``modeltune predict``: one answer line per input line, without a server."""

from __future__ import annotations

from pathlib import Path

from .support import SCRIPTS
from helpers import modeltune_cli

DOUBLER = str(SCRIPTS / "doubler.py")


def test_csv_records_get_one_answer_line_each_and_blank_lines_stay(tmp_path: Path, toy_job: str) -> None:
    records = tmp_path / "in.csv"
    records.write_text("1,2\n3,4\n\n5,6\n")
    output = tmp_path / "out" / "answers.csv"

    args = ("--entry-point", DOUBLER, "--input", str(records), "--output", str(output))
    result = modeltune_cli("predict", toy_job, *args)

    assert result.returncode == 0, result.stderr
    assert output.read_text() == "2.0,4.0\n6.0,8.0\n\n10.0,12.0\n"
    assert result.stderr.startswith(f"Wrote 4 lines to {output} (training job toy-00")


def test_json_lines_answer_in_the_accepted_type_on_standard_output(tmp_path: Path, model_dir: Path) -> None:
    records = tmp_path / "in.jsonl"
    records.write_text("[[1, 2]]\n[3]\n7\n")
    args = ("--model-dir", str(model_dir), "--entry-point", DOUBLER, "--content-type", "application/json")

    as_json = modeltune_cli("predict", *args, "--input", str(records))
    as_csv = modeltune_cli("predict", *args, "--input", str(records), "--accept", "text/csv")

    assert as_json.stdout == "[[2, 4]]\n[6]\n14\n"
    assert as_csv.stdout == "2,4\n6\n14\n"


def test_an_answer_of_several_lines_is_refused(tmp_path: Path, model_dir: Path) -> None:
    records = tmp_path / "in.jsonl"
    records.write_text("[1, 2]\n")
    args = ("--model-dir", str(model_dir), "--entry-point", DOUBLER, "--input", str(records))

    result = modeltune_cli("predict", *args, "--content-type", "application/json", "--accept", "text/csv")

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: line 1: the answer spans several lines; an output_fn must answer one line per record"
    ]


def test_a_bad_record_stops_with_its_line_number(tmp_path: Path, model_dir: Path) -> None:
    records = tmp_path / "in.csv"
    records.write_text("1,2\n1,two\n")

    result = modeltune_cli("predict", "--model-dir", str(model_dir), "--entry-point", DOUBLER, "--input", str(records))

    assert result.returncode == 2
    assert result.stderr == (
        "error: line 2: the body is not valid text/csv: could not convert string 'two' to float64 at row 0, column 2.\n"
    )
