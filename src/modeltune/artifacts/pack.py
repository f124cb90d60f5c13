"""A model folder as ``model.tar.gz`` and back."""

from __future__ import annotations

import tarfile
from pathlib import Path

from modeltune.errors import ModeltuneError

MODEL_ARCHIVE = "model.tar.gz"


def pack_model(model_dir: Path, archive: Path) -> Path:
    """Write the contents of ``model_dir`` (at the archive's top level, as SageMaker does) to ``archive``."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    partial = archive.with_name(archive.name + ".partial")
    # Level 6 instead of tarfile's 9: model weights barely compress, and 9 is several times slower.
    with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
        if model_dir.is_dir():
            for path in sorted(model_dir.iterdir()):
                tar.add(path, arcname=path.name)
    partial.replace(archive)
    return archive


def unpack_model(archive: Path, folder: Path) -> Path:
    """Extract ``archive`` into ``folder`` (nothing outside it, no devices or links out).

    Raises:
        ModeltuneError: the archive cannot be read.
    """
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(folder, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise ModeltuneError(f"cannot unpack {str(archive)!r} ({exc}); fetch it again") from None
    return folder
