"""Fetch the model of a tuning job's training job (by default its best) from the artifact location."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from modeltune.artifacts.keep import ArtifactError, fetch_model
from modeltune.artifacts.pack import MODEL_ARCHIVE, unpack_model
from modeltune.store import Store, TrainingJob


@dataclass(frozen=True)
class FetchedModel:
    """A fetched model: whose it is, where it came from, the archive and the folder it was unpacked into."""

    training_job: TrainingJob
    uri: str
    archive: Path
    model_dir: Path


def fetch_training_job_model(store: Store, job: str, training_job: str | None, folder: Path) -> FetchedModel:
    """Copy a training job's ``model.tar.gz`` into ``folder`` and unpack it into ``folder/model``.

    Args:
        store: the store holding the tuning job.
        job: the tuning job's name.
        training_job: a training job's name or number; None for the best one.
        folder: where the archive and the unpacked model go (created if missing).

    Raises:
        NotFoundError: no such tuning job or training job.
        ArtifactError: the training job kept no model artifact, or it cannot be fetched.
    """
    from modeltune.analytics.listing import named_or_best

    record = named_or_best(store, job, training_job)
    if record is None:
        raise ArtifactError(
            f"tuning job {job!r} has no training job with an objective value yet; wait for one, or name a training job"
        )
    if not record.artifact_uri:
        why = f": {record.status_reason}" if record.status_reason else ""
        raise ArtifactError(f"training job {record.name!r} ({record.status}) kept no model artifact{why}")
    archive = fetch_model(record.artifact_uri, folder / MODEL_ARCHIVE)
    return FetchedModel(record, record.artifact_uri, archive, unpack_model(archive, folder / "model"))
