"""Looking back at tuning jobs: SageMaker-style descriptions and the trials DataFrame."""

from modeltune.analytics.describe import describe_tuning_job, training_job_summary

__all__ = ["describe_tuning_job", "training_job_summary"]
