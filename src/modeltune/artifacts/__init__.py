"""Model artifacts: each training job's model folder packed as ``model.tar.gz`` and kept in an artifact location.

The location is a folder or an fsspec URL (``s3://bucket/prefix``, ``pip install 'modeltune[s3]'``);
a training job's archive is at ``<location>/<training-job>/output/model.tar.gz``, SageMaker's layout.
"""

from modeltune.artifacts.keep import ArtifactError, artifact_uri, fetch_model, keep_model, remove_models
from modeltune.artifacts.pack import MODEL_ARCHIVE, pack_model, unpack_model

__all__ = [
    "MODEL_ARCHIVE",
    "ArtifactError",
    "artifact_uri",
    "fetch_model",
    "keep_model",
    "pack_model",
    "remove_models",
    "unpack_model",
]
