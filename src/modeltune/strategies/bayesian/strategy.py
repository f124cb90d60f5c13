"""Bayesian optimisation with a Gaussian process and log expected improvement."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from scipy.spatial import cKDTree
from scipy.stats import qmc

from modeltune.core import ObjectiveType, Observation, TrainingJobStatus
from modeltune.space import SearchSpace
from modeltune.strategies.base import Strategy
from modeltune.strategies.bayesian.acquisition import log_expected_improvement
from modeltune.strategies.bayesian.encoding import Encoding
from modeltune.strategies.bayesian.gp import GaussianProcess, Posterior, fit_hyperparameters
from modeltune.strategies.bayesian.search import maximize
from modeltune.strategies.bayesian.targets import gp_targets, subset
from modeltune.strategies.bayesian.transfer import ParentPrior, ShiftedGP, prior_weight

# Hyperparameters are fitted on at most this many observations (the best quarter plus a random
# draw of the rest); the posterior uses at most _MAX_POSTERIOR of them, chosen the same way.
_MAX_FIT = 100
_MAX_POSTERIOR = 600
# Noise variance (relative to the signal) of fantasised outcomes: near zero, so the
# acquisition vanishes at a pending point and drops around it.
_FANTASY_NOISE = 1e-6
# Pending points (running jobs and earlier picks of a batch) keep new picks at least this far away
# (Euclidean, unit cube) when any candidate allows it: fantasies alone let a batch bunch up at a
# sharp optimum.
MIN_SEPARATION = 0.02
# New picks keep at least this distance from evaluated points when any candidate allows it, so that
# EI does not spend evaluations on near-copies for tiny modelled gains (e.g. on the plateau of an
# accuracy metric); small enough to refine an optimum (1e-3 cost Branin 5e-5 of its precision).
MIN_NOVELTY = 1e-4
# The smallest initial design, also under a transfer prior.
_MIN_DESIGN = 5
# The design takes at most this share of the budget (max_jobs). Median best over 5 seeds, sequential
# and 4-parallel: with budget 10 a 5-point design beat 3 points on 11 of 18 problem-mode pairs and the
# old 6-16 points on 16 of 18; with budget 25, 8 points beat 14 on 12 of 16.
_DESIGN_SHARE = 0.3
_ANCHORS = 5
# Local search starts from the best _ANCHORS of this many successes (by observed loss) as the model
# predicts them: predicting all 10,000 of a long history cost 0.4 s for the same few points.
_ANCHOR_POOL = 1000
_SAMPLE_TRIES = 200
# In spaces with categorical ranges, every this many model picks searches another value of the most
# relevant categorical range for improvement over that value's own best. In optimizer_lr (5 seeds, 100
# evaluations) this found Adam's optimum in 3 seeds (none before); every 2nd or 4th pick with the
# categoricals in turn in 3 and 0; a trigger on a stalled incumbent in 5, but it cost mixed7 four
# orders of magnitude of precision. Giving every such pick to the value with the best median result,
# searched with the other categorical ranges held at the incumbent's, found it in 4 of 5 seeds
# sequentially and 4 of 5 in batches of 4 (3 and 2 before).
_EXPLORE_EVERY = 3
# A budget (max_jobs) under this gets no exploring picks: a value searched on its own results takes a few
# dozen evaluations to pay off. Budget-25 runs of the five categorical problems (20 synthetic and 10
# scikit-learn seeds, both modes): mean normalised regret 0.166 with them, 0.151 without.
_EXPLORE_MIN_BUDGET = 50
# An exploring pick this close (Euclidean, unit cube, the non-categorical coordinates) to an evaluated point
# with its categorical values repeats a test already made, and teaches nothing. It gives way to a search of
# the categorical combination that looks best away from the incumbent's region. (Giving way whenever the
# pick is near the incumbent, tried or not, also replaced first tests of a value there: SGD on digits, 10
# seeds, mean normalised regret at 100 0.076 -> 0.081. Giving way only to repeats next to the incumbent
# left the value searches repeating tests in a basin every value shares: the five categorical problems,
# 40 synthetic and 20 scikit-learn seeds, both modes, mean normalised regret at 100 0.0615 -> 0.0567.)
_REPEAT = 0.1
# "Away from the incumbent's region": at least this far from it (as above). The results there estimate
# each categorical value's additive effect, and that search looks there only. shared_decoy (10 seeds,
# sequential, 100 evaluations): better than its decoy in 5 seeds with 0.5 (none with 0.3, where the
# search stayed on the slope of the incumbent's broad basin; none before).
_AWAY = 0.5
# Ridge penalty of the additive effects of the categorical values (targets are standardised).
_EFFECT_RIDGE = 1.0


class BayesianStrategy(Strategy):
    """GP-based Bayesian optimisation over mixed spaces.

    Starts with a scrambled Sobol design, then models the (warped, standardised)
    losses with a Matern 5/2 ARD Gaussian process whose prior mean is the worst
    result and whose hyperparameters are MAP estimates under log-normal priors,
    and suggests the maximiser of log expected improvement among feasible, not
    yet tried configurations. Running training jobs and earlier picks of the same
    batch are fantasised at their posterior mean (kriging believer), so parallel
    suggestions spread out. Failed jobs count as worse than the worst success.
    Everything is recomputed from the seed and the history on each call, so a
    restarted controller continues identically.
    """

    def __init__(
        self, space: SearchSpace, objective_type: ObjectiveType | str, random_seed: int, *, max_jobs: int | None = None
    ):
        super().__init__(space, objective_type, random_seed, max_jobs=max_jobs)
        self._encoding: Encoding | None = None
        self.initial_design = initial_design_size(len(space), max_jobs)
        categorical = [j for j, name in enumerate(space.names) if space.ranges[name].type == "Categorical"]
        # The categorical ranges exploring picks may search: none under a small budget.
        self._explored = categorical if max_jobs is None or max_jobs >= _EXPLORE_MIN_BUDGET else []

    @property
    def encoding(self) -> Encoding:
        """Snapping and feature maps of the space (built on first use)."""
        if self._encoding is None:
            self._encoding = Encoding(self.space)
        return self._encoding

    def suggest(self, history: Sequence[Observation], count: int) -> list[dict[str, Any]]:
        with _single_threaded_blas():
            return self._suggest(history, count)

    def _suggest(self, history: Sequence[Observation], count: int) -> list[dict[str, Any]]:
        rng = np.random.default_rng([self.random_seed, len(history)])
        # TransferLearning parents evaluated another function: a prior, not data (see transfer.py).
        usable, points, keys = self._encoded([o for o in history if not o.transfer])
        parents, parent_points, _ = self._encoded([o for o in history if o.transfer])
        seen = set(keys)
        size = self.space.size
        if size is not None:
            count = min(count, size - len(seen))
        losses = np.array([self._loss(o) for o in usable])
        running = np.array([o.running for o in usable], dtype=bool)
        # Failed jobs and non-finite objectives are data too: imputed as bad outcomes.
        data = ~running & np.array(
            [o.status == TrainingJobStatus.FAILED or o.objective is not None for o in usable], dtype=bool
        )
        finite = np.isfinite(losses) & data
        prior = None
        if parents:
            parent_losses = np.array([self._loss(o) for o in parents])
            prior = ParentPrior(self.encoding, parent_points, parent_losses, [o.source for o in parents], rng)
        done = sum(1 for o in history if not o.transfer)
        best = points[finite][np.argmin(losses[finite])] if finite.any() else None
        # A parent prior already tells the model about every dimension: half the design will do.
        design = (
            self.initial_design
            if prior is None
            else min(self.initial_design, max(_MIN_DESIGN, self.initial_design // 2))
        )
        suggestions: list[dict[str, Any]] = []
        model = None
        while len(suggestions) < count:
            position = done + len(suggestions)
            if position < design or finite.sum() < 2:
                point = self._initial_point(position, seen, prior, best)
            else:
                if model is None:
                    anchors = _best_points(points[finite], losses[finite], _ANCHOR_POOL)
                    model = _Model(self.encoding, points[data], losses[data], anchors, points[running], rng, prior)
                point = self._explore(model, position - design, seen, rng, best, prior)
            if point is None:
                point = self._random_unseen(seen, rng)
            if point is None:
                break
            config = self.space.decode(point)
            seen.add(self.space.key(config))
            suggestions.append(config)
            if model is not None:
                model.add_pending(point)
        return suggestions

    def _explore(
        self,
        model: _Model,
        step: int,
        seen: set[tuple[str, ...]],
        rng: np.random.Generator,
        best: np.ndarray | None,
        prior: ParentPrior | None,
    ) -> np.ndarray | None:
        """The model's pick, or, every ``_EXPLORE_EVERY``-th model pick in a space with categorical
        ranges and a budget of at least ``_EXPLORE_MIN_BUDGET`` (or none), the most promising point in
        another value of the categorical range that matters most (the shortest fitted length scale): a
        category whose good continuous values lie away from the incumbent's is otherwise judged, and
        dropped, at the incumbent's. When that point repeats a test of the value already made (often
        at the incumbent's place, where the value only shifts the incumbent's region, or in a basin every
        value shares), the pick goes to the combination of categorical values whose results look best
        away from the incumbent's region, searched there (see ``explore_combination``)."""
        if self._explored and best is not None and prior is None and step % _EXPLORE_EVERY == _EXPLORE_EVERY - 1:
            lengths = model.gp.hyper.lengthscales[self._explored]
            other = model.explore_level(seen, rng, self._explored[int(np.argmin(lengths))], best)
            if other is not None and model.repeats_test(other):
                combination = model.explore_combination(seen, rng, self._explored, best)
                other = other if combination is None else combination
            if other is not None:
                return other
        return model.next_point(seen, rng)[0]

    def _encoded(
        self, observations: Sequence[Observation]
    ) -> tuple[list[Observation], np.ndarray, list[tuple[str, ...]]]:
        """The observations the space can encode, with their unit-cube points ``(n, dim)`` and keys.

        A parent job's dropped category, for one, cannot be encoded: such observations are left out.
        """
        kept, points, keys = [], [], []
        for observation in observations:
            try:
                key = self.space.key(observation.hyperparameters)
                point = self.space.encode(observation.hyperparameters)
            except (KeyError, TypeError, ValueError):
                continue
            kept.append(observation)
            points.append(point)
            keys.append(key)
        return kept, np.array(points).reshape(-1, self.encoding.dim), keys

    def _initial_point(
        self, position: int, seen: set[tuple[str, ...]], prior: ParentPrior | None, best: np.ndarray | None
    ) -> np.ndarray | None:
        """The next initial-design point: the Sobol sequence, interleaved with the parents' best.

        The parents' best configuration goes first; each further one only after a Sobol point and
        only while a parent's configuration is the child's best so far, so a parent that does not
        transfer costs one evaluation.
        """
        seeds = prior.seeds() if prior is not None else np.empty((0, self.encoding.dim))
        keys = [self.space.key(self.space.decode(p)) for p in seeds]
        tried = sum(1 for key in keys if key in seen)
        others = position - tried
        paying = best is not None and self.space.key(self.space.decode(best)) in keys
        if tried < len(seeds) and (tried == 0 or (others >= tried and paying)):
            return next(p for p, key in zip(seeds, keys, strict=True) if key not in seen)
        return self._space_filling(max(0, others), seen)

    def _loss(self, observation: Observation) -> float:
        """The loss to minimise; NaN when there is none or it is not a finite number."""
        loss = self.loss(observation)
        return float(loss) if loss is not None and math.isfinite(loss) else math.nan

    def _space_filling(self, position: int, seen: set[tuple[str, ...]]) -> np.ndarray | None:
        """The first unseen point of the seed's Sobol sequence from ``position`` on."""
        dim = self.encoding.dim
        sobol = qmc.Sobol(dim, scramble=True, seed=np.random.default_rng([self.random_seed, dim]))
        sequence = self.encoding.snap(sobol.random_base2(max(6, math.ceil(math.log2(position + 64)))))
        for point in sequence[position:]:
            if self.space.key(self.space.decode(point)) not in seen:
                return point
        return None

    def _random_unseen(self, seen: set[tuple[str, ...]], rng: np.random.Generator) -> np.ndarray | None:
        """A random unseen feasible point, or None when none is found (the space is used up)."""
        every = self.encoding.enumerate()
        if every is not None:
            unseen = [p for p in every if self.space.key(self.space.decode(p)) not in seen]
            return unseen[rng.integers(len(unseen))] if unseen else None
        for _ in range(_SAMPLE_TRIES):
            point = self.encoding.snap(rng.random((1, self.encoding.dim)))[0]
            if self.space.key(self.space.decode(point)) not in seen:
                return point
        return None


class _Model:
    """The fitted GP of one ``suggest`` call, with pending points fantasised as they are added."""

    def __init__(
        self,
        encoding: Encoding,
        points: np.ndarray,
        losses: np.ndarray,
        successes: np.ndarray,
        running: np.ndarray,
        rng: np.random.Generator,
        prior: ParentPrior | None = None,
    ):
        self.encoding = encoding
        targets = gp_targets(losses)
        if targets is None:
            raise ValueError("the model needs at least one successful training job")
        features = encoding.features(points)
        groups = encoding.group_of_feature
        fit = subset(targets, _MAX_FIT, rng)
        runs = 2 if len(fit) <= 40 else 1
        # The prior mean is the worst target: where there is no data the model expects a bad result,
        # so EI looks for improvement next to good results instead of in empty corners of the space.
        worst = float(targets.max())
        hyper = fit_hyperparameters(features[fit], targets[fit], groups, encoding.dim, rng, runs, mean=worst)
        keep = subset(targets, _MAX_POSTERIOR, rng)
        self.gp: Posterior = GaussianProcess(features[keep], targets[keep], hyper, groups, mean=worst)
        self.weight = 0.0
        if prior is not None and prior.gp is not None:
            shift = prior.mean(features)[0]
            self.weight = prior_weight(self.gp, targets[keep], shift[keep])
            if self.weight > 0:
                # Refit on the residual: a related parent leaves little signal, so the model trusts it.
                residual = targets - self.weight * shift
                worst = float(residual.max())
                hyper = fit_hyperparameters(features[fit], residual[fit], groups, encoding.dim, rng, 1, mean=worst)
                gp = GaussianProcess(features[keep], residual[keep], hyper, groups, mean=worst)
                self.weight = prior_weight(gp, targets[keep], shift[keep])
                residual = targets - self.weight * shift
                gp = GaussianProcess(features[keep], residual[keep], hyper, groups, mean=float(residual.max()))
                self.gp = ShiftedGP(gp, prior, self.weight)
        mean = self.gp.predict(encoding.features(successes))[0]
        self.best = float(mean.min())
        self.anchors = successes[np.argsort(mean, kind="stable")[:_ANCHORS]]
        if prior is not None and self.weight > 0:  # the parents' best regions are worth a local look too
            self.anchors = np.vstack([self.anchors, prior.seeds()])
        self.evaluated = points
        self.features, self.targets, self.worst = features, targets, float(targets.max())
        self.pending = np.empty((0, encoding.dim))
        for point in running:
            self.add_pending(point)

    def add_pending(self, point: np.ndarray) -> None:
        """Fantasise the outcome at ``point`` as the posterior mean (kriging believer)."""
        features = self.encoding.features(point[None, :])
        mean = self.gp.predict(features)[0]
        self.gp = self.gp.condition(features, mean, _FANTASY_NOISE * self.gp.hyper.signal)
        self.best = min(self.best, float(mean[0]))
        self.pending = np.vstack([self.pending, point])

    def next_point(
        self,
        seen: set[tuple[str, ...]],
        rng: np.random.Generator,
        level: tuple[list[int], np.ndarray] | None = None,
        model: tuple[Posterior, float] | None = None,
        away: np.ndarray | None = None,
    ) -> tuple[np.ndarray | None, float]:
        """The unseen feasible point with the highest log EI among those searched, and that log EI.

        Args:
            level: ``(ranges, positions)``: search only points whose (categorical) ``ranges`` take these
                positions; the local search starts from the best evaluated points of the first one's value.
            model: another posterior and the value EI counts improvement from (default: this model's).
            away: a point ``(dim,)``: keep to candidates at least ``_AWAY`` from it (see ``distance``)
                when any is.
        """
        gp, target = model if model is not None else (self.gp, self.best)

        def fix(points: np.ndarray) -> np.ndarray:
            if level is None:
                return points
            points = points.copy()
            points[:, level[0]] = level[1]
            return points

        def acquisition(points: np.ndarray, gradient: bool) -> tuple[np.ndarray, ...]:
            out = log_expected_improvement(gp, self.encoding.features(fix(points)), target, gradient)
            if not gradient:
                return out
            # Continuous coordinates are feature columns as they are; others get no gradient.
            grad = np.zeros_like(points)
            for j in np.flatnonzero(self.encoding.continuous):
                grad[:, j] = out[1][:, self.encoding.groups[j][0]]
            return out[0], grad

        anchors = self.anchors if level is None else self._level_anchors(level[0][0], float(level[1][0]))
        candidates, values = maximize(acquisition, self.encoding, fix(anchors), rng)
        candidates = fix(candidates)
        if away is not None:
            far = self.distance(candidates, away) >= _AWAY
            if far.any():
                candidates, values = candidates[far], values[far]
        novel = _gaps(candidates, self.evaluated) >= MIN_NOVELTY
        if len(self.pending):
            novel &= _gaps(candidates, self.pending) >= MIN_SEPARATION
        order = np.concatenate([np.flatnonzero(novel), np.flatnonzero(~novel)])
        space = self.encoding.space
        for i in order:
            if space.key(space.decode(candidates[i])) not in seen:
                return candidates[i], float(values[i])
        return None, -math.inf

    def explore_level(
        self, seen: set[tuple[str, ...]], rng: np.random.Generator, j: int, incumbent: np.ndarray
    ) -> np.ndarray | None:
        """The most promising point in another value of categorical range ``j`` than the incumbent's.

        The value is the one whose results have the best median: a good typical result is the sign
        of a good region not found yet, while choosing by EI spread the picks over every value, each
        too thin to find anything. It is modelled on its own results only (same hyperparameters) and
        searched for improvement over its own best, so a region that lies elsewhere in the other
        ranges is looked for there instead of being judged by the incumbent's region. The other
        categorical ranges are held at the incumbent's values: a handful of results cannot tell
        their effects apart, and searching them too spent the picks on varying them. None when no
        other value has results.
        """
        at = {p: np.abs(self.evaluated[:, j] - p) < 1e-9 for p in self.encoding.choices(j)}
        others = [p for p, here in at.items() if here.any() and abs(p - incumbent[j]) >= 1e-9]
        if not others:
            return None
        position = min(others, key=lambda p: float(np.median(self.targets[at[p]])))
        held = [i for i, axis in enumerate(self.encoding.axes) if axis.kind == "categorical" and i != j]
        positions = np.concatenate([[position], incumbent[held]])
        return self.next_point(seen, rng, ([j, *held], positions), self.value_model(at[position], j, position))[0]

    def explore_combination(
        self, seen: set[tuple[str, ...]], rng: np.random.Generator, explored: list[int], incumbent: np.ndarray
    ) -> np.ndarray | None:
        """The most promising point, away from the incumbent's region, in the categorical values whose
        results there are best.

        Near the incumbent every category may share one broad basin, so results there say nothing about
        which categories hold a better, narrower optimum elsewhere. Away from it (``_AWAY``), each value
        of the ``explored`` categorical ranges gets an additive effect (ridge regression of the targets on
        one-hot values), and the combination of the best values is searched there: the range whose best
        value gains most over the incumbent's, on that value's own results away from the incumbent, the
        other categorical ranges at their best values. Searching one value with the others held at the
        incumbent's only ever tried a category with the incumbent's (decoy-basin) partners, and its own
        best result, in the shared basin, kept the search there. None when fewer than three results lie
        away from the incumbent or no value beats the incumbent's.
        """
        away = self.distance(self.evaluated, incumbent) >= _AWAY
        if away.sum() < 3:
            return None
        values = [(j, float(p)) for j in explored for p in self.encoding.choices(j)]
        columns = np.array([self.evaluated[away, j] for j, _ in values]).T
        onehot = (np.abs(columns - np.array([p for _, p in values])) < 1e-9).astype(float)
        # An intercept (not penalised) and one effect per value; a value without results there gets 0.
        design = np.hstack([np.ones((len(onehot), 1)), onehot])
        penalty = _EFFECT_RIDGE * np.diag([0.0] + [1.0] * len(values))
        targets = self.targets[away]
        effects = np.linalg.solve(design.T @ design + penalty, design.T @ (targets - targets.mean()))[1:]
        present = onehot.any(axis=0)
        best_value: dict[int, float] = {}
        gain: dict[int, float] = {}
        for j in explored:
            mine = [k for k, (i, _) in enumerate(values) if i == j and present[k]]
            if not mine:
                continue
            top = min(mine, key=lambda k: effects[k])
            best_value[j] = values[top][1]
            current = next(k for k, (i, p) in enumerate(values) if i == j and abs(p - incumbent[j]) < 1e-9)
            gain[j] = float(effects[current] - effects[top])
        if not gain or max(gain.values()) <= 0:
            return None
        j = max(gain, key=gain.__getitem__)
        position = best_value[j]
        held = [i for i, axis in enumerate(self.encoding.axes) if axis.kind == "categorical" and i != j]
        positions = np.array([position, *(best_value.get(i, incumbent[i]) for i in held)])
        here = np.abs(self.evaluated[:, j] - position) < 1e-9
        if (here & away).any():
            here &= away
        model = self.value_model(here, j, position)
        return self.next_point(seen, rng, ([j, *held], positions), model, away=incumbent)[0]

    def value_model(self, here: np.ndarray, j: int, position: float) -> tuple[Posterior, float]:
        """A GP of the results ``here`` (of categorical ``j``'s value ``position``) with the strategy's
        kernel hyperparameters, its pending points there as fantasies, and the best it predicts there."""
        gp: Posterior = GaussianProcess(
            self.features[here], self.targets[here], self.gp.hyper, self.encoding.group_of_feature, mean=self.worst
        )
        best = float(gp.predict(self.features[here])[0].min())
        for point in self.pending[np.abs(self.pending[:, j] - position) < 1e-9]:
            features = self.encoding.features(point[None, :])
            gp = gp.condition(features, gp.predict(features)[0], _FANTASY_NOISE * gp.hyper.signal)
        return gp, best

    def repeats_test(self, point: np.ndarray) -> bool:
        """Whether ``point`` lies within ``_REPEAT`` of an evaluated point with the same categorical values."""
        categorical = np.array([axis.kind == "categorical" for axis in self.encoding.axes])
        same = np.all(np.abs(self.evaluated[:, categorical] - point[categorical]) < 1e-9, axis=1)
        return bool(same.any() and (self.distance(self.evaluated[same], point) < _REPEAT).any())

    def distance(self, points: np.ndarray, point: np.ndarray) -> np.ndarray:
        """Euclidean distance ``(n,)`` from each of ``points`` ``(n, dim)`` to ``point`` over the
        non-categorical coordinates (unit cube)."""
        numeric = np.array([axis.kind != "categorical" for axis in self.encoding.axes])
        return np.linalg.norm(points[:, numeric] - point[numeric], axis=1)

    def _level_anchors(self, j: int, position: float) -> np.ndarray:
        """The best evaluated points whose categorical range ``j`` takes ``position``."""
        here = np.flatnonzero(np.abs(self.evaluated[:, j] - position) < 1e-9)
        return self.evaluated[here[np.argsort(self.targets[here], kind="stable")[:_ANCHORS]]]


def initial_design_size(dimensions: int, max_jobs: int | None = None) -> int:
    """Sobol points before the model takes over: 2 (d + 1), at least 5 and at most 16, and at most
    30% of the budget ``max_jobs`` (but at least 5).

    A design this size (BoTorch's usual choice) gives the first fit enough spread in every dimension:
    with d + 2 points, sequential Hartmann-6 ended in a local optimum at 50 evaluations in 5 of 10
    seeds (2 of 10 with this size), at the price of a slower start on 2- to 4-dimensional problems.
    A small budget cannot afford that start: it gets to the model sooner.
    """
    size = max(_MIN_DESIGN, min(2 * (dimensions + 1), 16))
    if max_jobs is not None:
        size = min(size, max(_MIN_DESIGN, round(_DESIGN_SHARE * max_jobs)))
    return size


def _best_points(points: np.ndarray, losses: np.ndarray, limit: int) -> np.ndarray:
    """The ``limit`` points with the lowest losses (all of them, in their order, when there are fewer)."""
    if len(points) <= limit:
        return points
    return points[np.sort(np.argsort(losses, kind="stable")[:limit])]


def _gaps(points: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Euclidean distance from each of ``points`` to the nearest of ``others`` (inf when there are none).

    A k-d tree answers in O(log n) per point: with 10,000 evaluated points the full distance matrix
    to the ~1,500 candidates took over a second.
    """
    if len(others) == 0:
        return np.full(len(points), np.inf)
    return cKDTree(others).query(points)[0]


@contextlib.contextmanager
def _single_threaded_blas() -> Iterator[None]:
    """Run BLAS on one thread: the matrices here are small, and with training jobs busy on the
    same cores, threaded BLAS spins and runs tens of times slower."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: without it BLAS keeps its default threading
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
