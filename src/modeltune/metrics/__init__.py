"""Metric values of training jobs: log regexes (``regex``), files written by reporting helpers
(``files``), and the ``report`` helper that training code calls (``report``, kept import-light)."""
