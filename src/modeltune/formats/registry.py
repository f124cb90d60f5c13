"""The command line's entry points: a foreign file in by its form, a spec out in a named form."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from modeltune.errors import ModeltuneError
from modeltune.formats import cloudml, sagemaker, vertex
from modeltune.formats.local import Imported, LocalSettings
from modeltune.spec import TuningJobSpec
from modeltune.store import Store

# The foreign forms and how each is named in messages.
FORMATS = {"sagemaker": sagemaker.FORM, "cloudml": cloudml.FORM, "vertex": vertex.FORM}
PreviousJob = Callable[[str], dict[str, Any]]


def local_settings(
    command: str | None, source_dir: Path | None, channels: Sequence[str], name: str | None
) -> LocalSettings:
    """The ``--command``, ``--source-dir``, ``--channel NAME=DIR`` and ``--name`` options, with folders made
    absolute from the current directory."""
    import shlex

    mapped = {}
    for item in channels:
        channel, sep, folder = item.partition("=")
        if not sep or not channel or not folder:
            raise ModeltuneError(f"--channel {item!r} must be NAME=DIR, e.g. --channel train=data/train")
        mapped[channel] = str(Path(folder).resolve())
    argv = shlex.split(command) if command is not None else None
    if argv is not None and not argv:
        raise ModeltuneError("--command is empty; give the training command, e.g. --command 'python train.py'")
    return LocalSettings(
        command=argv,
        source_dir=str(source_dir.resolve()) if source_dir is not None else None,
        channels=mapped,
        name=name,
    )


def load_foreign(
    form: str,
    path: Path,
    command: str | None,
    source_dir: Path | None,
    channels: Sequence[str],
    name: str | None,
    previous: PreviousJob,
) -> Imported:
    """The native spec for the foreign file ``path`` of ``form`` (``previous`` reads a stored job's spec)."""
    local = local_settings(command, source_dir, channels, name)
    if form == "sagemaker":
        return sagemaker.load_request(path, local)
    if form == "cloudml":
        return cloudml.load_config(path, local, previous)
    if form == "vertex":
        return vertex.load_job(path, local)
    raise ModeltuneError(f"unknown format {form!r}; use one of {', '.join(FORMATS)}")


def export_foreign(form: str, spec: TuningJobSpec) -> tuple[str, str | None]:
    """``spec`` as the text of a ``form`` document, and a warning naming what that form cannot hold."""
    if form == "sagemaker":
        exported = sagemaker.export_request(spec)
        return json.dumps(exported.document, indent=2) + "\n", exported.warning(sagemaker.FORM)
    if form == "cloudml":
        exported = cloudml.export_config(spec)
        return dump_yaml(exported.document), exported.warning(cloudml.FORM)
    if form == "vertex":
        exported = vertex.export_job(spec)
        return dump_yaml(exported.document), exported.warning(vertex.FORM)
    raise ModeltuneError(f"unknown format {form!r}; use native or one of {', '.join(FORMATS)}")


def dump_yaml(document: dict[str, Any]) -> str:
    """A YAML document in the order it was built."""
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def describe_foreign(form: str, store: Store, name: str) -> dict[str, Any]:
    """A stored tuning job and its training jobs in the result shape of ``form``."""
    if form == "cloudml":
        return cloudml.describe_job(store, name)
    raise ModeltuneError(f"unknown format {form!r} for describe; use cloudml")
