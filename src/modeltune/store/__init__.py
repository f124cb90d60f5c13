"""The durable store: SQLite by default, PostgreSQL/MySQL when shared; the single source of truth."""

from modeltune.store.connection import Store, default_home, resolve_store_url
from modeltune.store.records import TrainingJob, TuningJob

__all__ = [
    "Store",
    "TrainingJob",
    "TuningJob",
    "default_home",
    "resolve_store_url",
]
