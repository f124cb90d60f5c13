"""Keep a training job's ``model.tar.gz`` in its artifact location, fetch it back, and remove it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from modeltune import extras
from modeltune.artifacts.pack import MODEL_ARCHIVE, pack_model
from modeltune.errors import ModeltuneError


class ArtifactError(ModeltuneError):
    """A model artifact could not be kept in, or fetched from, its location."""


def artifact_uri(location: str, training_job: str) -> str:
    """Where a training job's archive goes: ``<location>/<training-job>/output/model.tar.gz``."""
    return f"{location.rstrip('/')}/{training_job}/output/{MODEL_ARCHIVE}"


def _is_url(uri: str) -> bool:
    return "://" in uri and not uri.startswith("file://")


def _filesystem(uri: str) -> Any:
    fsspec = extras.require("fsspec", "s3", f"keeping model artifacts at {uri} needs", ArtifactError)
    protocol = uri.split("://", 1)[0]
    try:
        # A new instance each time, so changed credentials in the environment take effect.
        return fsspec.filesystem(protocol, skip_instance_cache=True)
    except (ImportError, ValueError) as exc:
        raise ArtifactError(
            f"model artifacts cannot go to {uri} ({_first_line(exc)}); install its fsspec backend, e.g. "
            "pip install 'modeltune[s3]' for s3://"
        ) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _local(uri: str) -> Path:
    return Path(uri.removeprefix("file://"))


def keep_model(output_dir: Path, location: str, training_job: str, packed: bool = False) -> str:
    """Pack ``output_dir/model`` as ``output_dir/output/model.tar.gz`` (unless ``packed``: the archive is
    there already) and put it in ``location``.

    The packed copy in ``output_dir`` stays, whatever happens to the upload.

    Returns:
        The archive's URI in the location.

    Raises:
        ArtifactError: the archive could not be written to the location (one line, with the reason).
    """
    archive = output_dir / "output" / MODEL_ARCHIVE
    if not packed:
        pack_model(output_dir / "model", archive)
    uri = artifact_uri(location, training_job)
    try:
        if _is_url(uri):
            _filesystem(uri).put_file(str(archive), uri)
        elif _local(uri).resolve() != archive.resolve():
            _local(uri).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(archive, _local(uri))
    except ArtifactError:
        raise
    except Exception as exc:  # every backend raises its own errors: bad credentials, no bucket, network
        raise ArtifactError(f"could not upload {MODEL_ARCHIVE} to {uri} ({_first_line(exc)})") from None
    return uri


def fetch_model(uri: str, target: Path) -> Path:
    """Copy the archive at ``uri`` to the file ``target``.

    Raises:
        ArtifactError: it could not be read (one line, with the reason).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        if _is_url(uri):
            _filesystem(uri).get_file(uri, str(target))
        else:
            shutil.copyfile(_local(uri), target)
    except ArtifactError:
        raise
    except Exception as exc:
        raise ArtifactError(f"could not fetch {uri} ({_first_line(exc)})") from None
    return target


def remove_models(uris: list[str]) -> str | None:
    """Remove the archives at ``uris`` (one missing already counts as removed).

    After the first archive that cannot be removed, the rest are left too: a location that cannot be
    reached would make each of them wait for the same timeout.

    Returns:
        None when every archive is gone, else one line naming what was left, why, and what to do.
    """
    for done, uri in enumerate(uris):
        try:
            if _is_url(uri):
                _filesystem(uri).rm_file(uri)
            else:
                _local(uri).unlink(missing_ok=True)
        except FileNotFoundError:
            continue
        except Exception as exc:  # every backend raises its own errors: bad credentials, no bucket, network
            why = str(exc) if isinstance(exc, ArtifactError) else _first_line(exc)
            more = len(uris) - done - 1
            also = f"; it and {more} more model artifacts are left" if more else "; it is left"
            return f"could not remove {uri} ({why}){also} in their location, remove {'them' if more else 'it'} by hand"
    return None
