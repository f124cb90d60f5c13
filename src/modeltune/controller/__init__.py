"""The tuning loop and the operations on tuning jobs built on it."""

from modeltune.controller.loop import Controller
from modeltune.controller.progress import Progress, best_training_job

__all__ = ["Controller", "Progress", "best_training_job"]
