"""Serving a tuning job's model with SageMaker's inference contract (``/ping``, ``/invocations``).

``deploy`` starts a server in a child process and returns a ``Predictor``; the ``modeltune deploy``
and ``modeltune predict`` commands serve in the foreground and predict a file of records.
"""

from modeltune.serving.predictor import Predictor, deploy

__all__ = ["Predictor", "deploy"]
