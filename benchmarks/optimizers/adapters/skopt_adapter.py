"""scikit-optimize's GP optimizer (what ``gp_minimize`` builds) through ``skopt.Optimizer``.

Parallel asks use ``ask(n_points, strategy="cl_min")``, skopt's documented constant liar.
Results are buffered and told in one call before the next ask, as skopt recommends,
because every ``tell`` refits the GP and re-optimises the acquisition function.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from skopt import Optimizer
from skopt.space import Categorical, Integer, Real, Space
from skopt.utils import cook_estimator

from benchmarks.optimizers.adapters.base import Adapter, Pending
from benchmarks.optimizers.adapters.params import Param

# gp_minimize's defaults, except the acquisition optimiser: skopt's "sampling" (best of
# 10,000 random candidates) instead of "lbfgs" (that plus 5 L-BFGS restarts per acquisition
# function), which made skopt cost 3-4x more than any other optimizer (see README).
N_INITIAL_POINTS = 10
ACQ_OPTIMIZER = "sampling"
ACQ_KWARGS = {"n_points": 10000}


def _dimension(p: Param) -> Any:
    prior = "log-uniform" if p.log else "uniform"
    if p.kind == "cat":
        return Categorical(list(p.labels), name=p.name)
    if p.kind == "int":
        return Integer(int(p.low), int(p.high), prior=prior, name=p.name)
    return Real(p.low, p.high, prior=prior, name=p.name)


class SkoptAdapter(Adapter):
    """``skopt.Optimizer`` with a GP as ``gp_minimize`` configures it (noise="gaussian", gp_hedge)."""

    def __init__(self, ranges: Mapping[str, Any], seed: int):
        super().__init__(ranges, seed)
        space = Space([_dimension(p) for p in self.params])
        estimator = cook_estimator("GP", space=space, random_state=seed, noise="gaussian")
        self._opt = Optimizer(
            space.dimensions,
            base_estimator=estimator,
            n_initial_points=N_INITIAL_POINTS,
            acq_func="gp_hedge",
            acq_optimizer=ACQ_OPTIMIZER,
            acq_optimizer_kwargs=dict(ACQ_KWARGS),
            random_state=seed,
        )
        self._pending = Pending()
        self._told_x: list[list[Any]] = []
        self._told_y: list[float] = []

    def _flush(self) -> None:
        if self._told_x:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._opt.tell(self._told_x, self._told_y)
            self._told_x, self._told_y = [], []

    def ask(self, n: int) -> list[dict[str, Any]]:
        self._flush()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            xs = [self._opt.ask()] if n == 1 else self._opt.ask(n_points=n, strategy="cl_min")
        configs = []
        for x in xs:
            config = self.decode({p.name: v for p, v in zip(self.params, x)})
            self._pending.add(config, list(x))
            configs.append(config)
        return configs

    def tell(self, config: Mapping[str, Any], value: float) -> None:
        self._told_x.append(self._pending.pop(config))
        self._told_y.append(float(value))

    def observe(self, configs: Sequence[Mapping[str, Any]], values: Sequence[float]) -> None:
        for c, v in zip(configs, values):
            self._told_x.append([p.encode(c[p.name]) for p in self.params])
            self._told_y.append(float(v))
