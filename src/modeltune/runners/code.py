"""A tuning job's ``source_dir`` travels to other machines: packed when the job starts (as SageMaker
uploads ``source_dir``) and unpacked once per machine, by the workers through the store and by Ray tasks
through Ray's object store."""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
import shutil
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING

from modeltune.errors import SpecError

if TYPE_CHECKING:  # the store is imported where it is used: a Ray task unpacks code without it
    from modeltune.store import Store

# Packed code larger than this is refused: data belongs in channels, not in source_dir.
MAX_PACKAGE_BYTES = 100 * 1024 * 1024
# Folders that are never code to ship.
_SKIPPED = {".git", "__pycache__", ".venv", ".mypy_cache", ".pytest_cache", ".ruff_cache"}


def pack(source_dir: Path) -> bytes:
    """``source_dir`` as a gzipped tar (without version-control and cache folders).

    Raises:
        SpecError: the folder does not exist, or packs to more than ``MAX_PACKAGE_BYTES``.
    """
    if not source_dir.is_dir():
        raise SpecError(f"training.source_dir {str(source_dir)!r} is not a folder; check the path")
    buffer = io.BytesIO()
    # Level 1: this repository's 3.5 MB of code packs in 0.6 s, not 3.1 s as at tarfile's 9 (2 busy cores); 15% larger.
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as archive:
        for root, folders, files in os.walk(source_dir):
            folders[:] = sorted(f for f in folders if f not in _SKIPPED)
            for name in sorted(files):
                path = Path(root) / name
                archive.add(path, arcname=str(path.relative_to(source_dir)), recursive=False)
                if buffer.tell() > MAX_PACKAGE_BYTES:
                    raise SpecError(
                        f"training.source_dir {str(source_dir)!r} packs to more than {MAX_PACKAGE_BYTES >> 20} MB, "
                        "too much to send to workers through the store; keep data out of it and pass it as a channel"
                    )
    return buffer.getvalue()


def store_code(store: Store, tuning_job_id: int, source_dir: Path) -> str:
    """Pack ``source_dir`` into the store for the tuning job (unless the same code is there); its digest."""
    from modeltune.store import work

    data = pack(source_dir)
    digest = hashlib.sha256(data).hexdigest()
    if work.code_package_digest(store, tuning_job_id) != digest:
        work.put_code_package(store, tuning_job_id, digest, data)
    return digest


def fetch_code(store: Store, tuning_job_id: int, cache: Path) -> Path | None:
    """The tuning job's code unpacked in ``cache`` (once per digest); None when it has none in the store."""
    from modeltune.store import work

    digest = work.code_package_digest(store, tuning_job_id)
    if digest is None:
        return None
    folder = cache / digest
    if folder.is_dir():
        return folder
    cache.mkdir(parents=True, exist_ok=True)
    # Workers of one machine that start together fetch and unpack it once: the others wait for the first.
    with open(cache / f".{digest}.lock", "wb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if folder.is_dir():
            return folder
        data = work.code_package(store, tuning_job_id)
        if data is None:
            return None
        return unpack(data, digest, cache)


def unpack(data: bytes, digest: str, cache: Path) -> Path:
    """Packed code unpacked in ``cache/digest`` (once: a folder already there is the same code)."""
    folder = cache / digest
    if folder.is_dir():
        return folder
    partial = cache / f".{digest}.{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        archive.extractall(partial, filter="data")  # no absolute paths, no '..', no devices
    try:
        partial.rename(folder)
    except OSError:  # another worker on this machine unpacked it at the same time
        shutil.rmtree(partial, ignore_errors=True)
    return folder
