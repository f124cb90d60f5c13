"""Which model to serve: a training job's ``model/`` folder (or any folder) and the inference script for it."""

from __future__ import annotations

import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from modeltune.errors import ServingError
from modeltune.store import Store

MODEL_ARCHIVE = "model.tar.gz"


@dataclass(frozen=True)
class ModelLocation:
    """A model folder, the inference script that loads it, and what it is (for messages).

    ``model_dir`` may hold only ``model.tar.gz``; ``unpacked`` gives the folder to load from.
    """

    model_dir: Path
    entry_point: Path
    what: str


def locate_training_job(
    store: Store, job: str, training_job: str | None = None, entry_point: str | None = None
) -> ModelLocation:
    """The model of a tuning job's best training job (or of ``training_job``, a name or number).

    The inference script is ``entry_point`` (searched in the current folder, then in the training
    code's ``source_dir``) or else the training script itself, as SageMaker script mode does.

    Raises:
        NotFoundError: no such tuning job or training job.
        ServingError: no training job with an objective yet, no saved model, or no inference script.
    """
    from modeltune.analytics.listing import named_or_best
    from modeltune.spec import TuningJobSpec
    from modeltune.store import repository as repo

    record = named_or_best(store, job, training_job)
    if record is None:
        raise ServingError(
            f"tuning job {job!r} has no training job with an objective value yet; wait for one, "
            "or name a training job with --training-job"
        )
    model_dir = Path(record.output_dir) / "model"
    if not model_dir.is_dir() or not any(model_dir.iterdir()):
        raise ServingError(
            f"training job {record.name!r} ({record.status}) saved no model in {str(model_dir)!r}; its training "
            "script must write the model to SM_MODEL_DIR, or name another one with --training-job"
        )
    training = TuningJobSpec.model_validate(repo.get_tuning_job_by_id(store, record.tuning_job_id).spec).training
    source_dir = Path(training.source_dir)
    if entry_point is not None:
        script = _find(entry_point, [Path.cwd(), source_dir])
    else:
        script_name = next((arg for arg in training.command if arg.endswith(".py")), None)
        if script_name is None:
            raise ServingError(
                f"the training command of {job!r} ({' '.join(training.command)}) names no .py script to take "
                "model_fn from; name the inference script with --entry-point (entry_point= in Python)"
            )
        script = _find(script_name, [source_dir])
    return ModelLocation(model_dir, script, f"training job {record.name} of tuning job {job}")


def locate_folder(model_dir: str | Path, entry_point: str | None) -> ModelLocation:
    """A model folder that belongs to no tuning job (SageMaker's ``SM_MODEL_DIR``) and its inference script.

    ``entry_point`` is searched in the current folder, then in ``model_dir/code`` (where SageMaker's
    model archives keep it).

    Raises:
        ServingError: the folder or the script does not exist, or no script is named.
    """
    folder = Path(model_dir).resolve()
    if not folder.is_dir():
        raise ServingError(f"the model folder {str(folder)!r} does not exist; check --model-dir or SM_MODEL_DIR")
    if entry_point is None:
        raise ServingError(
            "serving a model folder needs its inference script; name it with --entry-point or SAGEMAKER_PROGRAM"
        )
    return ModelLocation(folder, _find(entry_point, [Path.cwd(), folder / "code"]), f"model folder {folder}")


def _find(script: str, folders: Sequence[Path]) -> Path:
    for folder in folders:
        path = folder / script  # an absolute script path stays as it is
        if path.is_file():
            return path.resolve()
    searched = " or ".join(repr(str(f)) for f in folders)
    raise ServingError(f"the entry point {script!r} does not exist in {searched}; check --entry-point")


@contextmanager
def unpacked(model_dir: Path) -> Iterator[Path]:
    """``model_dir`` itself, or, when it holds only ``model.tar.gz``, a temporary folder with its contents.

    Raises:
        ServingError: the archive cannot be read.
    """
    archive = model_dir / MODEL_ARCHIVE
    if [p.name for p in model_dir.iterdir()] != [MODEL_ARCHIVE]:
        yield model_dir
        return
    with tempfile.TemporaryDirectory(prefix="modeltune-model-") as folder:
        try:
            with tarfile.open(archive) as tar:
                tar.extractall(folder, filter="data")
        except (tarfile.TarError, OSError) as exc:
            raise ServingError(f"cannot unpack {str(archive)!r} ({exc}); check the model archive") from None
        yield Path(folder)
