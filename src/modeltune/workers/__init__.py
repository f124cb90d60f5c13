"""``modeltune worker``: processes on any machine that reaches the store claim training jobs and run them."""

from modeltune.workers.worker import Worker

__all__ = ["Worker"]
