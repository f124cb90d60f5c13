"""LogMetricParser: metric values from log lines by the metric definitions' regexes."""

from __future__ import annotations

from datetime import timedelta

from modeltune.core import utcnow
from modeltune.metrics.regex import LogMetricParser
from modeltune.spec import MetricDefinition


def parser(**regexes: str) -> LogMetricParser:
    return LogMetricParser([MetricDefinition(name=name, regex=regex) for name, regex in regexes.items()])


def test_each_match_is_one_value_and_steps_count_per_metric() -> None:
    p = parser(loss=r"loss: ([0-9.]+)", acc=r"acc: ([0-9.]+)")
    lines = [
        "epoch 1 loss: 0.9 acc: 0.51",
        "some unrelated line",
        "epoch 2 loss: 0.7",
        "epoch 3 loss: 0.5 acc: 0.77",
    ]
    found = [v for line in lines for v in p.feed(line)]
    assert [(v.name, v.value, v.step) for v in found] == [
        ("loss", 0.9, 1),
        ("acc", 0.51, 1),
        ("loss", 0.7, 2),
        ("loss", 0.5, 3),
        ("acc", 0.77, 2),
    ]


def test_several_matches_in_one_line_give_several_values() -> None:
    p = parser(loss=r"loss=([0-9.]+)")
    found = p.feed("batch losses: loss=0.3 loss=0.2 loss=0.1")
    assert [(v.value, v.step) for v in found] == [(0.3, 1), (0.2, 2), (0.1, 3)]


def test_two_metrics_may_match_the_same_text() -> None:
    p = parser(**{"validation:auc": r"validation-auc:([0-9.]+)", "any:auc": r"auc:([0-9.]+)"})
    found = p.feed("[3]\ttrain-auc:0.91\tvalidation-auc:0.88")
    assert [(v.name, v.value) for v in found] == [("validation:auc", 0.88), ("any:auc", 0.91), ("any:auc", 0.88)]


def test_named_step_group_gives_the_step() -> None:
    p = parser(acc=r"epoch (?P<step>\d+): acc=([0-9.]+)")
    assert [(v.value, v.step) for v in p.feed("epoch 10: acc=0.5")] == [(0.5, 10)]
    assert [(v.value, v.step) for v in p.feed("epoch 20: acc=0.6")] == [(0.6, 20)]


def test_step_group_may_come_after_the_value_group() -> None:
    p = parser(acc=r"acc=([0-9.]+) at step (?P<step>[0-9.]+)")
    assert [(v.value, v.step) for v in p.feed("acc=0.25 at step 7.5")] == [(0.25, 7.5)]


def test_optional_step_group_that_did_not_match_falls_back_to_the_counter() -> None:
    p = parser(acc=r"(?:step (?P<step>\d+) )?acc=([0-9.]+)")
    assert [v.step for v in p.feed("step 5 acc=0.1")] == [5]
    assert [v.step for v in p.feed("acc=0.2")] == [2]


def test_numbers_in_every_float_notation() -> None:
    p = parser(loss=r"loss=(\S+)")
    values = [v.value for line in ["loss=1e-3", "loss=-2.5", "loss=+7", "loss=.5", "loss=3"] for v in p.feed(line)]
    assert values == [1e-3, -2.5, 7.0, 0.5, 3.0]
    assert all(type(v) is float for v in values)


def test_non_numeric_values_are_ignored_and_not_counted() -> None:
    p = parser(loss=r"loss=(\S+)")
    for line in ["loss=abc", "loss=1.2.3", "loss="]:
        assert p.feed(line) == []
    [value] = p.feed("loss=0.25")
    assert (value.value, value.step) == (0.25, 1)


def test_nan_and_infinities_are_values_for_the_caller_to_judge() -> None:
    p = parser(loss=r"loss=(\S+)")
    values = [v for line in ["loss=nan", "loss=NaN", "loss=inf", "loss=-Infinity"] for v in p.feed(line)]
    assert [(str(v.value), v.step) for v in values] == [("nan", 1), ("nan", 2), ("inf", 3), ("-inf", 4)]


def test_value_group_that_did_not_participate_is_ignored() -> None:
    p = parser(acc=r"acc(?:=([0-9.]+))?")
    assert p.feed("acc") == []
    assert [v.value for v in p.feed("acc=0.5")] == [0.5]


def test_values_are_timestamped_now_in_utc() -> None:
    before = utcnow()
    [value] = parser(a=r"a=(\d+)").feed("a=1")
    assert before - timedelta(seconds=1) <= value.timestamp <= utcnow()
    assert value.timestamp.tzinfo is None


def test_parsers_are_independent() -> None:
    first, second = parser(a=r"a=(\d+)"), parser(a=r"a=(\d+)")
    first.feed("a=1")
    first.feed("a=2")
    assert [v.step for v in second.feed("a=3")] == [1]
