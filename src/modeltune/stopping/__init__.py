"""Early stopping: rules that end running training jobs which are unlikely to win."""

from modeltune.stopping.base import StopDecision, StoppingRule
from modeltune.stopping.median import MedianStoppingRule
from modeltune.stopping.successive_halving import SuccessiveHalvingRule

__all__ = ["MedianStoppingRule", "StopDecision", "StoppingRule", "SuccessiveHalvingRule"]
