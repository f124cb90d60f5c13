"""Foreign tuning-job documents in and out: SageMaker requests, Cloud ML and Vertex AI configs.

Importers turn a foreign document into the native ``TuningJobSpec`` (so validation is the spec's
own); exporters turn a stored spec back into the foreign shape. ``load_foreign`` and
``export_foreign`` are what the command line calls.
"""

from modeltune.formats.local import Exported, Imported, LocalSettings
from modeltune.formats.registry import FORMATS, describe_foreign, export_foreign, load_foreign

__all__ = ["FORMATS", "Exported", "Imported", "LocalSettings", "describe_foreign", "export_foreign", "load_foreign"]
