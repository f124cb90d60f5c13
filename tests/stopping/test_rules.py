"""The stopping rules on crafted histories: exact decisions at exact steps."""

from __future__ import annotations

import pytest

from modeltune.core import Observation
from modeltune.stopping import MedianStoppingRule, SuccessiveHalvingRule
from modeltune.stopping.successive_halving import bracket_count, rungs


def job(curve, status="Completed", number=0) -> Observation:
    curve = tuple((float(s), float(v)) for s, v in enumerate(curve, start=1))
    return Observation({}, status, curve[-1][1] if curve else None, curve=curve, number=number)


def test_median_rule_stops_a_job_worse_than_the_median_of_running_averages() -> None:
    rule = MedianStoppingRule("Maximize", min_steps=3, min_peers=3)
    peers = [job([0.5, 0.6, 0.7, 0.8]), job([0.6, 0.7, 0.8, 0.9]), job([0.1, 0.2, 0.3, 0.4])]
    # Running averages up to step 3: 0.6, 0.7, 0.2 -> median 0.6.
    slow = job([0.3, 0.4, 0.55], status="InProgress")
    fine = job([0.3, 0.4, 0.61], status="InProgress")

    decision = rule.should_stop(slow, [*peers, slow])

    assert decision is not None and decision.status == "Stopped"
    assert decision.reason == (
        "early stopping (median rule): its best value 0.55 by step 3 is worse than 0.6, the median of 3 finished "
        "training jobs' running averages up to that step"
    )
    assert rule.should_stop(fine, [*peers, fine]) is None


def test_median_rule_waits_for_enough_steps_and_peers() -> None:
    rule = MedianStoppingRule("Minimize", min_steps=3, min_peers=3)
    peers = [job([1.0, 0.9, 0.8]), job([1.0, 0.9, 0.8])]
    bad = job([5.0, 5.0, 5.0], status="InProgress")

    assert rule.should_stop(bad, [*peers, bad]) is None  # two peers only
    peers.append(job([1.0, 0.9, 0.8]))
    assert rule.should_stop(job([5.0, 5.0], status="InProgress"), peers) is None  # two steps only
    assert rule.should_stop(bad, [*peers, bad]) is not None
    # Peers whose curves stop before step 3, and running peers, do not count.
    short = [job([1.0]), job([1.0]), job([1.0, 0.9, 0.8], status="InProgress")]
    assert rule.should_stop(bad, [*short, bad]) is None


def test_hyperband_brackets_and_rungs_follow_the_reduction_factor() -> None:
    assert bracket_count(1, 27, 3) == 4
    assert rungs(0, 1, 27, 3) == [1, 3, 9]
    assert rungs(2, 1, 27, 3) == [9]
    assert rungs(3, 1, 27, 3) == []


def test_successive_halving_keeps_the_best_third_at_each_rung_and_completes_at_max_resource() -> None:
    rule = SuccessiveHalvingRule("Maximize", min_resource=1, max_resource=9, reduction_factor=3, random_seed=0)
    numbers = [n for n in range(1, 200) if rule.bracket(job([], number=n)) == 0][:4]
    peers = [job([0.9], number=numbers[0]), job([0.8], number=numbers[1]), job([0.7], number=numbers[2])]

    worst = job([0.6], status="InProgress", number=numbers[3])
    decision = rule.should_stop(worst, [*peers, worst])
    assert decision is not None
    assert decision.reason == (
        "Hyperband: at rung 1 of bracket 0 its value 0.6 is not in the best 1/3 of the 4 training jobs that reached it"
    )
    best = job([0.95], status="InProgress", number=numbers[3])
    assert rule.should_stop(best, [*peers, best]) is None
    done = job([0.95] * 9, status="InProgress", number=numbers[3])
    assert rule.should_stop(done, [*peers, done]).status == "Completed"


def test_the_first_job_at_a_rung_always_continues() -> None:
    rule = SuccessiveHalvingRule("Minimize", 1, 27, 3, random_seed=5)
    alone = job([100.0], status="InProgress", number=1)

    assert rule.should_stop(alone, [alone]) is None


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_aggressive_brackets_get_most_jobs_but_many_run_to_the_end(seed: int) -> None:
    rule = SuccessiveHalvingRule("Minimize", 1, 27, 3, random_seed=seed)
    counts = [0] * rule.brackets
    for number in range(1, 2001):
        counts[rule.bracket(job([], number=number))] += 1

    assert counts[0] > counts[1] > counts[-1]
    # Square roots of Hyperband's weights: 15% start in the bracket without rungs (Hyperband's own: 8%).
    assert 0.12 < counts[-1] / 2000 < 0.19
