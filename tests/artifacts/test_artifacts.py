"""Each training job's model as model.tar.gz in the artifact location (a folder or s3://), and fetched back."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from modeltune.analytics import describe_tuning_job, trials_dataframe
from modeltune.store import Store
from modeltune.store import repository as repo

from helpers import modeltune_cli, run_to_end, toy_spec
from s3server import S3Server


def ended(store: Store, name: str) -> list[repo.TrainingJob]:  # type: ignore[name-defined]
    return repo.list_training_jobs(store, repo.get_tuning_job(store, name).id)


def test_models_land_under_sagemakers_keys_and_the_best_is_fetched(
    home: Path, tmp_path: Path, s3_env: S3Server
) -> None:
    store = Store()
    run_to_end(store, toy_spec("to-s3", training__output_path=f"s3://{s3_env.bucket}/tuning/"))
    records = ended(store, "to-s3")
    assert [r.status for r in records] == ["Completed"] * 4
    listed = s3_env.client().list_objects_v2(Bucket=s3_env.bucket)["Contents"]  # type: ignore[attr-defined]
    assert sorted(o["Key"] for o in listed) == [f"tuning/to-s3-00{n}/output/model.tar.gz" for n in range(1, 5)]
    for record in records:
        assert record.artifact_uri == f"s3://models/tuning/{record.name}/output/model.tar.gz"
        with tarfile.open(Path(record.output_dir) / "output" / "model.tar.gz") as tar:
            assert tar.getnames() == ["model.txt"]  # the model folder's contents at the top, as SageMaker packs

    best = describe_tuning_job(store, "to-s3")["BestTrainingJob"]
    key = f"s3://models/tuning/{best['TrainingJobName']}/output/model.tar.gz"
    assert best["ModelArtifacts"] == {"S3ModelArtifacts": key}
    frame = trials_dataframe(store, "to-s3")
    assert frame["ModelArtifacts"].tolist() == [r.artifact_uri for r in records]

    fetched = modeltune_cli("artifacts", "to-s3", "-o", str(tmp_path / "best"), check=True)
    assert best["TrainingJobName"] in fetched.stdout
    best_loss = best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    assert float((tmp_path / "best" / "model" / "model.txt").read_text()) == pytest.approx(best_loss)
    assert (tmp_path / "best" / "model.tar.gz").is_file()


def test_the_default_location_is_the_training_jobs_own_folder(home: Path, tmp_path: Path) -> None:
    store = Store()
    run_to_end(store, toy_spec("at-home", limits={"max_jobs": 2, "max_parallel_jobs": 2}))
    for record in ended(store, "at-home"):
        assert record.artifact_uri == str(Path(record.output_dir) / "output" / "model.tar.gz")
        assert Path(record.artifact_uri).is_file()
    modeltune_cli("artifacts", "at-home", "2", "-o", str(tmp_path / "two"), check=True)
    second = ended(store, "at-home")[1]
    assert (tmp_path / "two" / "model" / "model.txt").read_text() == str(second.final_objective)


@pytest.mark.parametrize(
    ("case", "location", "expected"),
    [
        (
            "missing-bucket",
            "s3://no-such-bucket/x",
            "s3://no-such-bucket/x/missing-bucket-001/output/model.tar.gz (FileNotFoundError: The specified bucket "
            "does not exist",
        ),
        ("wrong-key", "s3://models/wrong", "The AWS Access Key Id you provided does not exist"),
    ],
)
def test_a_failed_upload_is_one_line_and_keeps_the_local_copy(
    home: Path,
    tmp_path: Path,
    s3_env: S3Server,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
    location: str,
    expected: str,
) -> None:
    if case == "wrong-key":
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAWRONGWRONGWRONG0")
    store = Store()
    run_to_end(store, toy_spec(case, training__output_path=location, limits={"max_jobs": 1, "max_parallel_jobs": 1}))
    (record,) = ended(store, case)
    assert record.status == "Completed" and record.final_objective is not None  # the objective still counts
    assert record.artifact_uri is None
    reason = record.status_reason or ""
    assert reason.startswith("model artifact upload failed: could not upload model.tar.gz to ")
    assert expected in reason and "\n" not in reason, reason
    assert reason.endswith(f"kept in {record.output_dir}/model")
    assert (Path(record.output_dir) / "model" / "model.txt").is_file()
    assert (Path(record.output_dir) / "output" / "model.tar.gz").is_file()

    result = modeltune_cli("artifacts", case, "-o", str(tmp_path / "none"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: training job '{record.name}' (Completed) kept no model artifact: {reason}"
    ]


def test_fetching_from_a_location_that_lost_the_archive_is_one_line(
    home: Path, tmp_path: Path, s3_env: S3Server
) -> None:
    store = Store()
    run_to_end(
        store,
        toy_spec("lost", training__output_path="s3://models/lost", limits={"max_jobs": 1, "max_parallel_jobs": 1}),
    )
    s3_env.client().delete_object(Bucket="models", Key="lost/lost-001/output/model.tar.gz")  # type: ignore[attr-defined]
    result = modeltune_cli("artifacts", "lost", "-o", str(tmp_path / "x"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: could not fetch s3://models/lost/lost-001/output/model.tar.gz (FileNotFoundError: "
        "The specified key does not exist.)"
    ]


def keys(s3: S3Server, prefix: str) -> list[str]:
    listed = s3.client().list_objects_v2(Bucket=s3.bucket, Prefix=prefix)  # type: ignore[attr-defined]
    return sorted(o["Key"] for o in listed.get("Contents", []))


def test_delete_removes_the_models_from_the_bucket(home: Path, s3_env: S3Server) -> None:
    store = Store()
    spec = toy_spec("gone", training__output_path="s3://models/gone", limits={"max_jobs": 2, "max_parallel_jobs": 2})
    run_to_end(store, spec)
    assert len(keys(s3_env, "gone/")) == 2
    result = modeltune_cli("delete", "gone", "--yes", check=True)
    assert result.stderr == ""
    assert keys(s3_env, "gone/") == []
    assert repo.list_tuning_jobs(store) == []


def test_delete_with_the_bucket_out_of_reach_warns_in_one_line(
    home: Path, s3_env: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store()
    spec = toy_spec("far", training__output_path="s3://models/far", limits={"max_jobs": 2, "max_parallel_jobs": 2})
    run_to_end(store, spec)
    first = ended(store, "far")[0]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAWRONGWRONGWRONG0")  # the bucket refuses this process
    result = modeltune_cli("delete", "far", "--yes")
    assert result.returncode == 0
    (warning,) = result.stderr.strip().splitlines()
    assert warning.startswith(f"warning: could not remove {first.artifact_uri} (PermissionError: The AWS Access Key")
    assert warning.endswith("it and 1 more model artifacts are left in their location, remove them by hand")
    assert "Deleted tuning job far." in result.stdout
    assert len(keys(s3_env, "far/")) == 2  # left where they were, as the warning says
    assert repo.list_tuning_jobs(store) == []
