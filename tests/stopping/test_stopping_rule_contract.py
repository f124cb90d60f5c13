"""What every stopping rule promises, checked for each rule (a new rule added to RULES gets these for free)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from modeltune.core import Observation, TrainingJobStatus
from modeltune.stopping import MedianStoppingRule, StoppingRule, SuccessiveHalvingRule

RULES: dict[str, Callable[[str], StoppingRule]] = {
    "median": lambda objective: MedianStoppingRule(objective, min_steps=2, min_peers=2),
    "successive-halving": lambda objective: SuccessiveHalvingRule(objective, 1, 9, 3, random_seed=0),
}


@pytest.fixture(params=sorted(RULES))
def make_rule(request: pytest.FixtureRequest) -> Callable[[str], StoppingRule]:
    return RULES[str(request.param)]


def curve(values: list[float]) -> tuple[tuple[float, float], ...]:
    return tuple((float(step), value) for step, value in enumerate(values, start=1))


def finished(number: int, values: list[float], source: str = "") -> Observation:
    return Observation({}, TrainingJobStatus.COMPLETED, values[-1], source=source, curve=curve(values), number=number)


def running(number: int, values: list[float]) -> Observation:
    return Observation({}, TrainingJobStatus.IN_PROGRESS, curve=curve(values), number=number)


# Losses falling over 9 steps; job i's curve is offset by i * 0.1, so a larger offset is worse.
PEERS = [finished(n, [1.0 / step + 0.1 * n for step in range(1, 10)]) for n in range(1, 13)]


def test_a_clearly_worse_job_is_stopped_before_its_end_with_a_reason(
    make_rule: Callable[[str], StoppingRule],
) -> None:
    rule = make_rule("Minimize")
    decisions = []
    for steps in range(1, 9):  # job 13 is in Hyperband's most aggressive bracket (rungs at 1 and 3)
        bad = running(13, [5.0] * steps)
        decisions.append(rule.should_stop(bad, [*PEERS, bad]))

    stopped = [d for d in decisions if d is not None]
    assert stopped and stopped[0].status == TrainingJobStatus.STOPPED and stopped[0].reason


def test_the_best_job_so_far_is_never_stopped_early(make_rule: Callable[[str], StoppingRule]) -> None:
    rule = make_rule("Minimize")
    for steps in range(1, 9):
        best = running(13, [0.5 / step for step in range(1, steps + 1)])

        decision = rule.should_stop(best, [*PEERS, best])

        assert decision is None or decision.status == TrainingJobStatus.COMPLETED


def test_a_job_without_values_is_never_stopped(make_rule: Callable[[str], StoppingRule]) -> None:
    job = running(13, [])

    assert make_rule("Minimize").should_stop(job, [*PEERS, job]) is None


def test_decisions_are_stateless_and_repeatable(make_rule: Callable[[str], StoppingRule]) -> None:
    jobs = [running(13, [5.0] * steps) for steps in range(1, 10)]

    first = [make_rule("Minimize").should_stop(job, [*PEERS, job]) for job in jobs]
    reused = make_rule("Minimize")
    again = [reused.should_stop(job, [*PEERS, job]) for job in reversed(jobs)]

    assert first == list(reversed(again))


def test_maximizing_the_negated_values_decides_the_same(make_rule: Callable[[str], StoppingRule]) -> None:
    def negated(o: Observation) -> Observation:
        return Observation(
            {},
            o.status,
            None if o.objective is None else -o.objective,
            curve=tuple((s, -v) for s, v in o.curve),
            number=o.number,
        )

    for steps in range(1, 10):
        job = running(13, [1.0 / step + 0.55 for step in range(1, steps + 1)])
        minimize = make_rule("Minimize").should_stop(job, [*PEERS, job])
        maximize = make_rule("Maximize").should_stop(negated(job), [*map(negated, PEERS), negated(job)])

        assert (minimize is None) == (maximize is None)
        assert minimize is None or maximize is None or minimize.status == maximize.status


def test_warm_start_parents_are_not_peers(make_rule: Callable[[str], StoppingRule]) -> None:
    parents = [finished(n, [0.01] * 9, source="parent") for n in range(1, 13)]
    job = running(1, [5.0, 5.0, 5.0])

    decision = make_rule("Minimize").should_stop(job, [*parents, job])

    assert decision is None
