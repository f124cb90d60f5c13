"""An executor hears that the ends it reported are stored only once they are, also from a worker, whose
recorder sends what its training jobs did once per loop."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from modeltune.core import TrainingJobStatus
from modeltune.runners.local import LocalRunner
from modeltune.runners.recording import Recorder
from modeltune.spec import parse_spec
from modeltune.store import Store
from modeltune.store import repository as repo

from .fake_executor import FakeExecutor, Script
from helpers import toy_spec


@dataclass
class TellingExecutor(FakeExecutor):
    """Notes, whenever it is told that ends are stored, the stored status of every training job."""

    store: Store | None = None
    told: list[list[TrainingJobStatus]] = field(default_factory=list)

    def ends_recorded(self) -> None:
        assert self.store is not None
        tuning_job = repo.get_tuning_job(self.store, "toy")
        self.told.append([j.status for j in repo.list_training_jobs(self.store, tuning_job.id)])


def test_a_worker_s_executor_is_told_of_stored_ends_after_its_send(home: Path, tmp_path: Path) -> None:
    store = Store()
    spec = parse_spec(toy_spec())
    tuning_job = repo.create_tuning_job(store, "toy", spec.model_dump(mode="json"))
    new = repo.NewTrainingJob(1, "toy-001", {"x": 0.5, "k": 1, "kind": "a"}, str(tmp_path / "log"), str(tmp_path))
    [record] = repo.add_training_jobs(store, tuning_job.id, [new], owner="w1")
    executor = TellingExecutor(lambda hp: Script(["loss: 0.5"]), store=store)
    outbox = Recorder(store, owner="w1", gathering=True)
    runner = LocalRunner(store, executor, recorder=outbox)
    runner.launch(record, spec)
    while runner.active():
        runner.poll(0)
    assert executor.told == []  # the end is only in the worker's outbox
    outbox.send()
    assert executor.told == [[TrainingJobStatus.COMPLETED]]
    outbox.send()  # nothing more to send: told once
    assert len(executor.told) == 1
