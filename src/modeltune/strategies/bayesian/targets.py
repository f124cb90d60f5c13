"""From observed losses to GP targets: robust scaling, a power transform, failure imputation."""

from __future__ import annotations

import numpy as np

# Failed training jobs count as this many standard deviations worse than the worst success.
_FAILURE_PENALTY = 0.5
# Yeo-Johnson exponents tried; a grid keeps the fit cheap and deterministic.
_LAMBDAS = np.linspace(-2.0, 1.0, 31)
# Losses more than this many robust standard deviations above the median count as outliers.
_OUTLIER = 8.0


def gp_targets(losses: np.ndarray) -> np.ndarray | None:
    """Standardised, Yeo-Johnson-warped targets for losses to minimise.

    Losses are first centred by the median and scaled by the median absolute
    deviation, and values far above the median are compressed logarithmically,
    so a few huge values (diverged training) cannot squash the rest; the
    Yeo-Johnson transform, with its exponent fitted by maximum likelihood, then
    makes heavy tails Gaussian-like. Failed jobs (NaN) get a value worse than the
    worst success, so their region looks unattractive without dominating the fit.

    Args:
        losses: shape ``(n,)``; NaN marks a failed job.

    Returns:
        Targets of shape ``(n,)``, or None when there is no successful job.
    """
    ok = np.isfinite(losses)
    if not ok.any():
        return None
    values = losses[ok]
    median = np.median(values)
    scale = 1.4826 * np.median(np.abs(values - median)) or values.std() or 1.0
    scaled = (values - median) / scale
    # Bad outliers (a diverged run) are pulled in logarithmically; good values keep their resolution.
    high = scaled > _OUTLIER
    scaled[high] = _OUTLIER + np.log1p(scaled[high] - _OUTLIER)
    if np.ptp(scaled) > 0 and len(scaled) >= 3:
        scaled = _yeo_johnson(scaled)
    std = scaled.std()
    targets = np.empty(len(losses))
    targets[ok] = (scaled - scaled.mean()) / (std if std > 0 else 1.0)
    targets[~ok] = targets[ok].max() + _FAILURE_PENALTY
    return targets


def _yeo_johnson(x: np.ndarray) -> np.ndarray:
    """``x`` through the Yeo-Johnson transform whose exponent maximises the Gaussian likelihood."""
    lam = _LAMBDAS[:, None]
    positive = x >= 0
    log_pos, log_neg = np.log1p(np.where(positive, x, 0.0)), np.log1p(np.where(positive, 0.0, -x))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        # expm1(l * log1p(x)) / l, and its mirror with 2 - l for negative x; l = 0 or 2 is the log limit.
        up = np.where(lam == 0, log_pos, np.expm1(lam * log_pos) / np.where(lam == 0, 1.0, lam))
        down = np.where(lam == 2, log_neg, np.expm1((2 - lam) * log_neg) / np.where(lam == 2, 1.0, 2 - lam))
        warped = np.where(positive, up, -down)
        loglik = -0.5 * len(x) * np.log(warped.var(1)) + (lam[:, 0] - 1) * (np.sign(x) * np.log1p(np.abs(x))).sum()
    loglik[~np.isfinite(loglik) | ~np.isfinite(warped).all(1)] = -np.inf
    if not np.isfinite(loglik).any():
        return x
    return warped[int(np.argmax(loglik))]


def subset(targets: np.ndarray, limit: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of at most ``limit`` rows: the best quarter, then a random draw of the rest."""
    if len(targets) <= limit:
        return np.arange(len(targets))
    order = np.argsort(targets, kind="stable")
    best = order[: limit // 4]
    rest = rng.choice(order[limit // 4 :], size=limit - len(best), replace=False)
    return np.sort(np.concatenate([best, rest]))
