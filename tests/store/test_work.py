"""What runners and workers write and what their controller reads back, on every store backend."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError

from modeltune.core import UPLOAD_FAILED, MetricValue, TrainingJobStatus, TuningJobStatus, utcnow
from modeltune.runners import pool
from modeltune.runners.recording import Recorder
from modeltune.spec import parse_spec
from modeltune.store import Store, TrainingJob, repository, work
from modeltune.store.notices import WorkNotices
from modeltune.store.schema import MetricValueRow

from .backends import Backend
from .test_store_contract import SPEC, add_job


def two_jobs(store: Store) -> tuple[TrainingJob, TrainingJob]:
    tuning_job = repository.create_tuning_job(store, "xgb", SPEC)
    return add_job(store, tuning_job.id, 1), add_job(store, tuning_job.id, 2)


def value(number: float) -> MetricValue:
    return MetricValue("auc", number, number, utcnow())


def test_a_worker_s_changes_land_together_and_only_on_training_jobs_it_still_owns(store: Store) -> None:
    owned, other = two_jobs(store)
    repository.update_training_job(store, owned.id, owner="w1")
    repository.update_training_job(store, other.id, owner="w2")
    changes = repository.TrainingJobChanges()
    changes.set(owned.id, status=TrainingJobStatus.IN_PROGRESS, cursor={"log": 0})
    changes.set(other.id, exit_code=3)
    changes.set(owned.id, status=TrainingJobStatus.COMPLETED, final_objective=0.9, cursor={"log": 42})
    changes.values += [(owned.id, value(0.5)), (owned.id, value(0.9))]
    changes.logs.append((owned.id, 0, "auc=0.5\nauc=0.9\n"))

    assert repository.record_changes(store, changes, owner="w1") == {other.id}

    done = repository.get_training_job_by_id(store, owned.id)
    assert (done.status, done.final_objective, done.cursor) == (TrainingJobStatus.COMPLETED, 0.9, {"log": 42})
    assert repository.get_training_job_by_id(store, other.id).exit_code is None
    assert [v.value for v in repository.metric_values(store, [owned.id])[owned.id]] == [0.5, 0.9]
    assert work.read_log(store, owned.id) == [(0, "auc=0.5\nauc=0.9\n")]
    # Once ended, the training job takes no more updates from its worker but where its model artifact went.
    late = repository.TrainingJobChanges(columns={owned.id: {"status": TrainingJobStatus.FAILED}})
    assert repository.record_changes(store, late, owner="w1") == {owned.id}
    kept = repository.TrainingJobChanges(columns={owned.id: {"artifact_uri": "s3://models/xgb-001/model.tar.gz"}})
    assert repository.record_changes(store, kept, owner="w1") == set()
    assert repository.record_changes(store, kept, owner="w2") == {owned.id}
    done = repository.get_training_job_by_id(store, owned.id)
    assert (done.status, done.artifact_uri) == (TrainingJobStatus.COMPLETED, "s3://models/xgb-001/model.tar.gz")


def test_changes_made_while_gathering_reach_the_store_together_when_the_block_ends(store: Store) -> None:
    first, second = two_jobs(store)
    recorder = Recorder(store)
    with recorder.gathered():
        recorder.progress(first, [value(0.5)], {"log": 10})
        recorder.update(second, status=TrainingJobStatus.FAILED)
        assert repository.metric_values(store, [first.id])[first.id] == []
        assert repository.get_training_job_by_id(store, second.id).status == TrainingJobStatus.PENDING
    assert [v.value for v in repository.metric_values(store, [first.id])[first.id]] == [0.5]
    assert repository.get_training_job_by_id(store, first.id).cursor == {"log": 10}
    assert repository.get_training_job_by_id(store, second.id).status == TrainingJobStatus.FAILED
    recorder.update(first, exit_code=0)  # outside the block: at once
    assert repository.get_training_job_by_id(store, first.id).exit_code == 0


def test_values_that_commit_out_of_id_order_still_reach_the_controller(store: Store, backend: Backend) -> None:
    if backend.name == "sqlite":
        pytest.skip("SQLite commits one writer at a time, so values always commit in id order")
    slow, fast = two_jobs(store)
    seen = {slow.id: 0, fast.id: 0}
    other = Store(store.url, home=store.home)
    with other.write() as session:  # the slow worker's transaction takes an id first and commits last
        session.execute(
            insert(MetricValueRow).values(training_job_id=slow.id, name="auc", value=0.1, step=1, timestamp=utcnow())
        )
        repository.record_changes(store, repository.TrainingJobChanges(values=[(fast.id, value(0.2))]))
        _, values, newest = work.followed_training_jobs(store, seen)
        assert list(values) == [fast.id]
        seen.update(newest)
    _, values, newest = work.followed_training_jobs(store, seen)
    assert [v.value for v in values[slow.id]] == [0.1]
    other.dispose()


def test_claims_take_each_waiting_training_job_once_and_only_of_running_tuning_jobs(store: Store) -> None:
    running = repository.create_tuning_job(store, "running", SPEC)
    stopped = repository.create_tuning_job(store, "stopped", SPEC)
    repository.update_tuning_job(store, stopped.id, status="Stopped")
    jobs = [add_job(store, running.id, number) for number in range(1, 8)]
    add_job(store, stopped.id, 1)
    repository.update_training_job(store, jobs[0].id, owner="elsewhere")
    repository.update_training_job(store, jobs[1].id, status=TrainingJobStatus.IN_PROGRESS)

    first = work.claim_training_jobs(store, "w1", 2)
    assert [j.id for j in first] == [jobs[2].id, jobs[3].id]
    assert all(j.owner == "w1" and j.owner_expires_at is not None for j in first)
    assert work.claim_training_jobs(store, "w2", 2, tuning_job="stopped") == []
    second = work.claim_training_jobs(store, "w2", 10, tuning_job="running")
    assert [j.id for j in second] == [j.id for j in jobs[4:]]
    assert work.claim_training_jobs(store, "w3", 5) == []
    assert work.claim_training_jobs(store, "w3", 0) == []
    owners = {j.id: j.owner for j in repository.list_training_jobs(store, running.id)}
    assert owners == {
        jobs[0].id: "elsewhere",
        jobs[1].id: None,
        **{j.id: "w1" for j in first},
        **{j.id: "w2" for j in second},
    }


def test_training_jobs_added_together_are_stored_as_given_and_in_order(store: Store) -> None:
    tuning_job = repository.create_tuning_job(store, "xgb", SPEC)
    failed = add_job(store, tuning_job.id, 1)
    new = [
        repository.NewTrainingJob(n, f"xgb-{n:03d}", {"eta": n / 10}, f"/logs/{n}", f"/out/{n}", retry)
        for n, retry in ((2, None), (3, failed.id), (4, None))
    ]
    added = repository.add_training_jobs(store, tuning_job.id, new)
    assert [(j.number, j.name, j.hyperparameters, j.retry_of, j.output_dir) for j in added] == [
        (2, "xgb-002", {"eta": 0.2}, None, "/out/2"),
        (3, "xgb-003", {"eta": 0.3}, failed.id, "/out/3"),
        (4, "xgb-004", {"eta": 0.4}, None, "/out/4"),
    ]
    assert repository.list_training_jobs(store, tuning_job.id) == [failed, *added]
    # Without an owner they wait for workers; with one, they are its own.
    assert [j.id for j in work.claim_training_jobs(store, "w1", 10)] == [failed.id, *(j.id for j in added)]
    own = repository.NewTrainingJob(5, "xgb-005", {}, "/logs/5", "/out/5")
    [own] = repository.add_training_jobs(store, tuning_job.id, [own], owner="c1")
    assert own.owner == "c1" and work.claim_training_jobs(store, "w1", 10) == []
    assert repository.add_training_jobs(store, tuning_job.id, []) == []


def test_workers_claiming_at_once_never_share_a_training_job(store: Store) -> None:
    tuning_job = repository.create_tuning_job(store, "busy", SPEC)
    for number in range(1, 41):
        add_job(store, tuning_job.id, number)
    stores = [Store(store.url, home=store.home) for _ in range(4)]
    claimed: dict[str, list[int]] = {}

    def claim(index: int) -> None:
        mine = claimed.setdefault(f"w{index}", [])
        while batch := work.claim_training_jobs(stores[index], f"w{index}", 3):
            mine += [j.id for j in batch]

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for opened in stores:
        opened.dispose()
    everything = [job_id for ids in claimed.values() for job_id in ids]
    assert sorted(everything) == sorted(j.id for j in repository.list_training_jobs(store, tuning_job.id))
    owners = {j.id: j.owner for j in repository.list_training_jobs(store, tuning_job.id)}
    assert all(owners[job_id] == worker for worker, ids in claimed.items() for job_id in ids)


def test_an_idle_worker_looks_for_work_rarely_but_soon_after_a_training_job_is_added(store: Store) -> None:
    tuning_job = repository.create_tuning_job(store, "xgb", SPEC)
    notices = WorkNotices(store)
    try:
        assert notices.due()  # a worker looks when it starts
        notices.looked(found=False)
        assert not notices.due()

        looks, started = 0, time.monotonic()
        while time.monotonic() - started < 2.0:  # idle: a worker loop asks every 10 ms
            if notices.due():
                looks += 1
                notices.looked(found=False)
            time.sleep(0.01)
        assert looks <= 6  # it looked 200 times in 2 s before (every loop with a free slot)

        added = add_job(store, tuning_job.id, 1)
        stored = repository.list_training_jobs(store, tuning_job.id)
        assert stored == [added]  # what adding returns is what the store holds
        waited = time.monotonic()
        while not notices.due():  # PostgreSQL: the notice; elsewhere: the next look, at most 1 s away
            time.sleep(0.01)
        assert time.monotonic() - waited < (0.2 if store.backend == "postgresql" else 1.1)
    finally:
        notices.close()


def status(store: Store, record: TrainingJob) -> TrainingJobStatus:
    return next(j.status for j in repository.list_training_jobs(store, record.tuning_job_id) if j.id == record.id)


def test_a_batch_that_fails_writes_nothing_and_leaves_the_store_usable(store: Store) -> None:
    owned, other = two_jobs(store)
    repository.update_training_job(store, owned.id, owner="w1")
    broken = repository.TrainingJobChanges()
    broken.set(owned.id, status=TrainingJobStatus.IN_PROGRESS)
    broken.values.append((owned.id, MetricValue(None, 0.5, 0, utcnow())))  # type: ignore[arg-type]  # no name
    with pytest.raises(IntegrityError):
        repository.record_changes(store, broken, owner="w1")
    assert status(store, owned) == TrainingJobStatus.PENDING
    assert repository.metric_values(store, [owned.id]) == {owned.id: []}

    fine = repository.TrainingJobChanges()
    fine.set(owned.id, status=TrainingJobStatus.IN_PROGRESS)
    fine.values.append((owned.id, value(0.5)))
    assert repository.record_changes(store, fine, owner="w1") == set()
    assert status(store, owned) == TrainingJobStatus.IN_PROGRESS
    assert [v.value for v in repository.metric_values(store, [owned.id])[owned.id]] == [0.5]


def test_a_worker_s_ending_and_its_next_claim_land_together_or_not_at_all(store: Store) -> None:
    tuning_job = repository.create_tuning_job(store, "xgb", SPEC)
    running, other, waiting = (add_job(store, tuning_job.id, n) for n in range(1, 4))
    repository.update_training_job(store, running.id, owner="w1", status=TrainingJobStatus.IN_PROGRESS)
    repository.update_training_job(store, other.id, owner="w2")
    broken = repository.TrainingJobChanges()
    broken.set(running.id, status=TrainingJobStatus.COMPLETED, final_objective=0.9)
    broken.values.append((running.id, MetricValue(None, 0.5, 0, utcnow())))  # type: ignore[arg-type]  # no name
    with pytest.raises(IntegrityError):
        work.exchange(store, "w1", broken, claim=1)
    assert status(store, running) == TrainingJobStatus.IN_PROGRESS
    assert repository.get_training_job_by_id(store, waiting.id).owner is None

    ended = repository.TrainingJobChanges()
    ended.set(running.id, status=TrainingJobStatus.COMPLETED, final_objective=0.9)
    ended.set(other.id, exit_code=1)  # no longer this worker's
    ended.values.append((running.id, value(0.9)))
    not_held, claimed, _ = work.exchange(store, "w1", ended, claim=2)
    assert not_held == {other.id}
    assert [(j.id, j.owner) for j in claimed] == [(waiting.id, "w1")]
    assert claimed[0].hyperparameters == {"eta": 0.1} and claimed[0].owner_expires_at is not None
    assert status(store, running) == TrainingJobStatus.COMPLETED
    assert repository.get_training_job_by_id(store, other.id).exit_code is None
    assert work.exchange(store, "w1", repository.TrainingJobChanges(), claim=1) == (set(), [], [])


def test_a_worker_s_heartbeat_and_its_look_for_stops_go_with_its_changes(store: Store) -> None:
    tuning_job = repository.create_tuning_job(store, "xgb", SPEC)
    running, stopping, waiting = (add_job(store, tuning_job.id, n) for n in range(1, 4))
    work.register_worker(store, "w1", "host", 1, 2, None)
    soon = utcnow() + timedelta(seconds=1)
    repository.update_training_job(store, running.id, owner="w1", owner_expires_at=soon, status="InProgress")
    repository.update_training_job(store, stopping.id, owner="w1", owner_expires_at=soon, status="Stopping")
    changes = repository.TrainingJobChanges()
    changes.values.append((running.id, value(0.7)))
    before = work.list_workers(store)[0].heartbeat_at

    answer = work.exchange(store, "w1", changes, claim=1, beat=True, look_for_stops=True)

    assert [job.id for job in answer.claimed] == [waiting.id]
    assert [job.id for job in answer.stopping] == [stopping.id]
    assert [v.value for v in repository.metric_values(store, [running.id])[running.id]] == [0.7]
    renewed = repository.get_training_job_by_id(store, running.id).owner_expires_at
    assert renewed is not None and renewed > soon + timedelta(seconds=work.WORK_LEASE_SECONDS / 2)
    assert work.list_workers(store)[0].heartbeat_at > before
    quiet = work.exchange(store, "w1", repository.TrainingJobChanges())  # nothing due: nothing asked
    assert quiet == (set(), [], [])


def test_a_lost_worker_s_unkept_models_are_named_and_their_results_stand(store: Store) -> None:
    tuning_job = repository.create_tuning_job(store, "xgb", SPEC)
    expired, later = utcnow() - timedelta(seconds=1), utcnow() + timedelta(seconds=60)
    ended = {
        "status": TrainingJobStatus.COMPLETED,
        "started_at": utcnow(),
        "ended_at": utcnow(),
        "final_objective": 0.5,
    }
    unkept, kept, running, alive, beating = (add_job(store, tuning_job.id, n) for n in range(1, 6))
    repository.update_training_job(store, unkept.id, owner="w1", owner_expires_at=expired, **ended)
    repository.update_training_job(
        store, kept.id, owner="w1", owner_expires_at=expired, artifact_uri="s3://b/k", **ended
    )
    repository.update_training_job(store, running.id, owner="w1", owner_expires_at=expired, status="InProgress")
    repository.update_training_job(store, alive.id, owner="w2", owner_expires_at=later, **ended)
    repository.update_training_job(store, beating.id, owner="w3", owner_expires_at=expired, **ended)
    work.heartbeat(store, "w3")  # a worker still keeping a model renews its hold on that training job too

    assert work.expire_lost(store, tuning_job.id) == [running.id]  # only unfinished ones are retried
    assert work.expire_lost(store, tuning_job.id) == []
    stored = {j.id: j for j in repository.list_training_jobs(store, tuning_job.id)}
    assert stored[unkept.id].status == TrainingJobStatus.COMPLETED
    assert stored[unkept.id].final_objective == 0.5
    assert stored[unkept.id].status_reason.startswith(f"{UPLOAD_FAILED}: worker lost: w1")  # type: ignore[union-attr]
    assert stored[running.id].status == TrainingJobStatus.FAILED and stored[running.id].retryable
    assert all(stored[j.id].status_reason is None for j in (kept, alive, beating))


def test_any_worker_names_a_model_lost_with_its_worker_after_the_tuning_job_ended(store: Store) -> None:
    ended_job = repository.create_tuning_job(store, "done", {**SPEC, "name": "done"})
    running_job = repository.create_tuning_job(store, "xgb", SPEC)
    expired = utcnow() - timedelta(seconds=1)
    unkept, lost = add_job(store, ended_job.id, 1), add_job(store, running_job.id, 1)
    ended = {
        "status": TrainingJobStatus.COMPLETED,
        "started_at": utcnow(),
        "ended_at": utcnow(),
        "final_objective": 0.5,
    }
    repository.update_training_job(store, unkept.id, owner="w1", owner_expires_at=expired, **ended)
    repository.update_training_job(store, lost.id, owner="w1", owner_expires_at=expired, status="InProgress")
    repository.update_tuning_job(store, ended_job.id, status=TuningJobStatus.COMPLETED, ended_at=utcnow())

    assert work.expire_lost(store) == [lost.id]  # as a worker checks: every tuning job, ended ones too
    [named] = repository.list_training_jobs(store, ended_job.id)
    assert named.status == TrainingJobStatus.COMPLETED and named.final_objective == 0.5
    assert named.status_reason.startswith(f"{UPLOAD_FAILED}: worker lost: w1")  # type: ignore[union-attr]


def test_a_worker_listens_again_once_its_listening_connection_is_lost(store: Store) -> None:
    if store.backend != "postgresql":
        pytest.skip("only PostgreSQL sends notices")
    tuning_job = repository.create_tuning_job(store, "xgb", SPEC)
    notices = WorkNotices(store)
    try:
        notices.looked(found=False)
        with store.autocommit() as session:  # as a server restart would
            ended = session.scalars(text(_END_LISTENERS)).all()
        assert ended == [True]
        time.sleep(0.2)
        # psycopg sees the connection gone at its second read: the worker then looks, and listens again
        assert any(notices.due() for _ in range(2))
        notices.looked(found=False)
        time.sleep(0.3)
        assert not notices.due()  # listening again: no look without a notice for a second
        add_job(store, tuning_job.id, 1)
        waited = time.monotonic()
        while not notices.due():
            time.sleep(0.01)
        assert time.monotonic() - waited < 0.2
    finally:
        notices.close()


def test_a_controller_following_workers_looks_when_one_ends_a_training_job(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if store.backend != "postgresql":
        pytest.skip("only PostgreSQL sends notices")
    monkeypatch.setattr(pool, "_LOOK_SECONDS_LISTENING", 30.0)  # no look on the timer in this test
    tuning_job = repository.create_tuning_job(store, "xgb", SPEC)
    record = add_job(store, tuning_job.id, 1)
    runner = pool.WorkerPoolRunner(store)
    runner.launch(record, parse_spec({**SPEC, "training": {**SPEC["training"], "source_dir": str(tmp_path)}}))
    runner.poll(0)  # the first look
    looks: list[float] = []
    look = runner._look
    monkeypatch.setattr(runner, "_look", lambda: looks.append(time.monotonic()) or look())
    [claimed] = work.claim_training_jobs(store, "w1", 1)
    started = Recorder(store, owner="w1")
    started.progress(claimed, [value(0.5)], {"log": 9})  # a start and a value: seen at the next look
    started.update(claimed, status=TrainingJobStatus.IN_PROGRESS, started_at=utcnow())
    assert runner.poll(0.5).changed == [] and looks == []

    ended = Recorder(store, owner="w1")
    end_at = threading.Timer(
        0.3, ended.update, (claimed,), {"status": TrainingJobStatus.COMPLETED, "ended_at": utcnow()}
    )
    end_at.start()
    waited = time.monotonic()
    events = runner.poll(10.0)
    assert time.monotonic() - waited < 5.0  # the worker's notice, not the 10 s timeout
    assert [(j.id, j.status) for j in events.changed] == [(claimed.id, TrainingJobStatus.COMPLETED)]
    assert [v.value for v in events.values[claimed.id]] == [0.5] and len(looks) == 1
    assert runner.watched == {} and runner._news is None  # nothing followed: no longer listening


_END_LISTENERS = (
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
    "WHERE datname = current_database() AND query LIKE 'LISTEN %'"
)
