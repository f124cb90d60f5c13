"""From observed losses to GP targets: robust scaling, a power transform, failure imputation."""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats

# Failed training jobs count as this many standard deviations worse than the worst success.
FAILURE_PENALTY = 0.5
_LAMBDA_BOUNDS = (-3.0, 3.0)


def gp_targets(losses: np.ndarray) -> np.ndarray | None:
    """Standardised, Yeo-Johnson-warped targets for losses to minimise.

    Losses are first centred by the median and scaled by the inter-quartile range,
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
    q25, median, q75 = np.percentile(values, [25, 50, 75])
    scale = (q75 - q25) / 1.349 or values.std() or 1.0
    scaled = (values - median) / scale
    if np.ptp(scaled) > 0 and len(scaled) >= 3:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                lam = float(np.clip(stats.yeojohnson_normmax(scaled), *_LAMBDA_BOUNDS))
            except (ValueError, FloatingPointError, RuntimeError):
                lam = 1.0
            warped = stats.yeojohnson(scaled, lam)
        if np.all(np.isfinite(warped)) and np.ptp(warped) > 0:
            scaled = warped
    std = scaled.std()
    targets = np.empty(len(losses))
    targets[ok] = (scaled - scaled.mean()) / (std if std > 0 else 1.0)
    targets[~ok] = targets[ok].max() + FAILURE_PENALTY
    return targets
