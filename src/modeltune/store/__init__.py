"""The durable store: SQLite by default, PostgreSQL/MySQL when shared; the single source of truth."""

from modeltune.store.connection import Store, default_home, resolve_store_url
from modeltune.store.repository import (
    TERMINAL_TRAINING_STATUSES,
    TERMINAL_TUNING_STATUSES,
    MetricValue,
    TrainingJob,
    TuningJob,
    utcnow,
)

__all__ = [
    "MetricValue",
    "Store",
    "TERMINAL_TRAINING_STATUSES",
    "TERMINAL_TUNING_STATUSES",
    "TrainingJob",
    "TuningJob",
    "default_home",
    "resolve_store_url",
    "utcnow",
]
