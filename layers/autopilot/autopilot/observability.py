"""Logger, tracer and metrics: one place, so every function logs and counts the same way.

Powertools reads POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE and LOG_LEVEL from the
environment when these are built; the template sets them for every function.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
tracer = Tracer()
metrics = Metrics()

__all__ = ["MetricUnit", "count", "logger", "metrics", "tracer"]


def count(name: str, value: int = 1) -> None:
    """One business metric per decision (deployed, skipped, ignored, rejected...)."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
