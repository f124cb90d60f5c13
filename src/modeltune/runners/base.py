"""The runner interface: run a tuning job's training jobs and record what they report."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

from modeltune.core import MetricValue
from modeltune.spec import TuningJobSpec
from modeltune.store import TrainingJob


@dataclass
class RunnerEvents:
    """What happened since the last poll, already recorded in the store.

    Attributes:
        values: new metric values per training job id, in the order they were reported.
        changed: training jobs whose record changed (they started or ended), as now stored.
    """

    values: dict[int, list[MetricValue]] = field(default_factory=dict)
    changed: list[TrainingJob] = field(default_factory=list)


class Runner(ABC):
    """Runs training jobs and records their metric values, status and outcome in the store.

    The controller calls every method from one thread. It creates a training job's
    record (status Pending) before ``launch``, and records a stop request (status
    Stopping, ``stop_reason``, ``stop_status``) before ``stop``. Everything else about a
    training job's record is the runner's to write: that it started, its metric values
    with how far its output was read, and how it ended. A runner keeps nothing that the
    store and the training jobs' own files cannot give a successor (see ``recover``).
    """

    # Whether new training jobs wait in the store, without an owner, for a worker to claim them.
    claimable = False

    @abstractmethod
    def launch(self, record: TrainingJob, spec: TuningJobSpec) -> TrainingJob:
        """Start a Pending training job; returns its record as now stored."""

    @abstractmethod
    def recover(self, records: Sequence[TrainingJob], spec: TuningJobSpec) -> list[TrainingJob]:
        """Follow training jobs a previous controller left unfinished; returns those that never started
        (still Pending, for the controller to launch or drop)."""

    @abstractmethod
    def stop(self, record: TrainingJob, grace_seconds: float) -> None:
        """Stop a running training job whose stop request is recorded (``record.stop_reason``)."""

    @abstractmethod
    def poll(self, timeout: float) -> RunnerEvents:
        """What happened since the last call, waiting up to ``timeout`` seconds for something."""

    @abstractmethod
    def active(self) -> list[str]:
        """Names of the training jobs this runner runs or waits for."""

    def keeping(self) -> list[str]:
        """Names of ended training jobs whose model artifact is still being kept (``poll`` reports each
        record once its ``artifact_uri``, or the upload's failure, is recorded)."""
        return []

    def keep_again(self, records: Sequence[TrainingJob], spec: TuningJobSpec) -> None:
        """Keep the model artifacts of ended ``records`` whose keeping a previous controller did not finish (it
        crashed while packing or uploading); ``poll`` reports them as ``keeping`` does. A runner whose model
        folders are on other machines leaves them."""
        return None

    def abandon(self, why: str) -> RunnerEvents:
        """Give up keeping the model artifacts still in progress: record each upload as failed, with ``why``."""
        return RunnerEvents()
