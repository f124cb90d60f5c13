"""Hyperopt TPE through its ``Trials`` / ``Domain`` / ``tpe.suggest`` machinery.

This is what ``fmin`` does inside its loop, unrolled: each suggestion is inserted as a
new trial before the next is drawn, as ``fmin(max_queue_len=4)`` does for parallel
workers; TPE counts queued trials with an infinite loss, so they act as pessimistic lies.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from hyperopt import STATUS_OK, Trials, hp, tpe
from hyperopt.base import JOB_STATE_DONE, JOB_STATE_RUNNING, Domain

from benchmarks.optimizers.adapters.base import Adapter, Pending
from benchmarks.optimizers.adapters.params import Param

logging.getLogger("hyperopt").setLevel(logging.ERROR)


def _node(p: Param) -> Any:
    if p.kind == "cat":
        return hp.choice(p.name, list(p.labels))
    if p.kind == "int":
        if p.log:
            return hp.qloguniform(p.name, math.log(p.low), math.log(p.high), 1)
        return hp.uniformint(p.name, p.low, p.high)
    if p.log:
        return hp.loguniform(p.name, math.log(p.low), math.log(p.high))
    return hp.uniform(p.name, p.low, p.high)


class HyperoptAdapter(Adapter):
    """Hyperopt's TPE with its default settings (20 random startup trials)."""

    def __init__(self, ranges: Mapping[str, Any], seed: int):
        super().__init__(ranges, seed)
        self._domain = Domain(lambda _: 0.0, {p.name: _node(p) for p in self.params})
        self._trials = Trials()
        self._rng = np.random.default_rng(seed)
        self._pending = Pending()

    def _raw_to_config(self, vals: Mapping[str, list[Any]]) -> dict[str, Any]:
        raw = {}
        for p in self.params:
            v = vals[p.name][0]
            raw[p.name] = p.labels[int(v)] if p.kind == "cat" else v
        return self.decode(raw)

    def ask(self, n: int) -> list[dict[str, Any]]:
        configs = []
        for _ in range(n):
            ids = self._trials.new_trial_ids(1)
            self._trials.refresh()
            docs = tpe.suggest(ids, self._domain, self._trials, int(self._rng.integers(2**31 - 1)))
            for doc in docs:
                doc["state"] = JOB_STATE_RUNNING
            self._trials.insert_trial_docs(docs)
            self._trials.refresh()
            for doc in docs:
                config = self._raw_to_config(doc["misc"]["vals"])
                self._pending.add(config, doc["tid"])
                configs.append(config)
        return configs

    def _finish(self, tid: int, value: float) -> None:
        for doc in self._trials._dynamic_trials:
            if doc["tid"] == tid:
                doc["state"] = JOB_STATE_DONE
                doc["result"] = {"loss": float(value), "status": STATUS_OK}
                break
        self._trials.refresh()

    def tell(self, config: Mapping[str, Any], value: float) -> None:
        self._finish(self._pending.pop(config), value)

    def observe(self, configs: Sequence[Mapping[str, Any]], values: Sequence[float]) -> None:
        ids = self._trials.new_trial_ids(len(configs))
        docs = []
        for tid, c, v in zip(ids, configs, values):
            vals = {}
            for p in self.params:
                raw = p.encode(c[p.name])
                vals[p.name] = [p.labels.index(raw) if p.kind == "cat" else raw]
            idxs = {k: [tid] for k in vals}
            misc = {"tid": tid, "cmd": self._domain.cmd, "workdir": None, "idxs": idxs, "vals": vals}
            result = {"loss": float(v), "status": STATUS_OK}
            doc = self._trials.new_trial_docs([tid], [None], [result], [misc])[0]
            doc["state"] = JOB_STATE_DONE
            docs.append(doc)
        self._trials.insert_trial_docs(docs)
        self._trials.refresh()
