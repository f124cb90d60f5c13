"""The controller's promises hold the same on SQLite, PostgreSQL and MariaDB: non-finite objectives,
the one-controller lease, and the position of its reading kept with the values."""

from __future__ import annotations

import math
from typing import Any

import pytest

from controller.fake_executor import FakeExecutor, Script
from modeltune.controller import service
from modeltune.controller.loop import Controller
from modeltune.errors import ConflictError
from modeltune.spec import parse_spec
from modeltune.store import Store, leases
from modeltune.store import repository as repo

from helpers import toy_spec


def submit(store: Store, name: str, objective: str = "Minimize", **overrides: Any) -> str:
    spec = toy_spec(name=name, limits={"max_jobs": 3, "max_parallel_jobs": 1}, **overrides)
    spec["objective"]["type"] = objective
    spec["training"]["metric_definitions"] = [{"name": "loss", "regex": r"loss: (\S+)"}]
    return service.submit(store, parse_spec(spec)).name


@pytest.mark.parametrize("objective", ["Minimize", "Maximize"])
def test_a_non_finite_objective_fails_its_training_job_and_is_never_stored_or_best(
    store: Store, objective: str
) -> None:
    lines = iter([["loss: 0.5", "loss: nan"], ["loss: 1.0", "loss: inf"], ["loss: -inf"]])
    name = submit(store, "nonfinite", objective)

    job = Controller(store, name, executor=FakeExecutor(lambda hp: Script(next(lines))), poll_seconds=0).run()

    jobs = repo.list_training_jobs(store, job.id)
    assert [(j.status, j.final_objective) for j in jobs] == [("Failed", None)] * 3
    assert [j.status_reason for j in jobs] == [
        "objective value is nan at step 2",
        "objective value is inf at step 2",
        "objective value is -inf at step 1",
    ]
    values = repo.metric_values(store, [j.id for j in jobs])
    assert all(math.isfinite(v.value) for vs in values.values() for v in vs)
    assert job.status == "Failed"  # every training job failed, none became the best


def test_only_one_controller_holds_a_tuning_job_and_an_expired_lease_can_be_taken_over(store: Store) -> None:
    name = submit(store, "leased")
    job = repo.get_tuning_job(store, name)
    assert leases.take_lease(store, job, "first", 1, "elsewhere")

    job = repo.get_tuning_job(store, name)
    assert not leases.take_lease(store, job, "second", 2, "elsewhere")
    with pytest.raises(ConflictError, match="is already run by a controller on elsewhere"):
        Controller(store, name, executor=FakeExecutor(lambda hp: Script([]))).run()

    repo.update_tuning_job(store, job.id, lease_expires_at=job.lease_expires_at.replace(year=2000))
    assert leases.take_lease(store, repo.get_tuning_job(store, name), "second", 2, "elsewhere")
    assert not leases.renew_lease(store, job.id, "first")  # the first one learns it lost the job
    assert leases.renew_lease(store, job.id, "second")
