"""Statuses of tuning jobs and training jobs, with SageMaker's names.

Both are ``StrEnum``: a status compares equal to its name (``TrainingJobStatus.FAILED == "Failed"``),
so the store keeps plain strings and JSON output needs no conversion.
"""

from __future__ import annotations

from enum import StrEnum


class TrainingJobStatus(StrEnum):
    """Where a training job is in its life: Pending -> InProgress -> (Stopping ->) an ended status."""

    PENDING = "Pending"
    IN_PROGRESS = "InProgress"
    STOPPING = "Stopping"
    COMPLETED = "Completed"
    FAILED = "Failed"
    STOPPED = "Stopped"

    @property
    def running(self) -> bool:
        """True until the training job has ended (Pending, InProgress, Stopping)."""
        return self in RUNNING_TRAINING

    @property
    def terminal(self) -> bool:
        """True once the training job has ended (Completed, Failed, Stopped)."""
        return self in TERMINAL_TRAINING

    @property
    def scored(self) -> bool:
        """True for the statuses whose final objective value counts (Completed, Stopped)."""
        return self in SCORED_TRAINING


class TuningJobStatus(StrEnum):
    """Where a tuning job is: InProgress (-> Stopping) -> Completed, Failed or Stopped."""

    IN_PROGRESS = "InProgress"
    STOPPING = "Stopping"
    COMPLETED = "Completed"
    FAILED = "Failed"
    STOPPED = "Stopped"

    @property
    def terminal(self) -> bool:
        """True once the tuning job has ended."""
        return self in TERMINAL_TUNING


RUNNING_TRAINING = frozenset({TrainingJobStatus.PENDING, TrainingJobStatus.IN_PROGRESS, TrainingJobStatus.STOPPING})
TERMINAL_TRAINING = frozenset({TrainingJobStatus.COMPLETED, TrainingJobStatus.FAILED, TrainingJobStatus.STOPPED})
# A stopped training job's last value counts as its final objective, as in SageMaker.
SCORED_TRAINING = frozenset({TrainingJobStatus.COMPLETED, TrainingJobStatus.STOPPED})
TERMINAL_TUNING = frozenset({TuningJobStatus.COMPLETED, TuningJobStatus.FAILED, TuningJobStatus.STOPPED})
# Training jobs whose model folder is packed and kept (SageMaker keeps the model of a stopped job too).
KEPT_MODELS = frozenset({TrainingJobStatus.COMPLETED, TrainingJobStatus.STOPPED})
# How the status reason of a training job whose model artifact could not be kept begins.
UPLOAD_FAILED = "model artifact upload failed"
