"""Logger and metrics: one place, so every function logs and counts the same way.

Tracing is Lambda's own (`Tracing: Active` in the template): the X-Ray SDK that Powertools'
Tracer needs costs about 0.35 s of every cold start, for subsegments this automation does not
need.

Powertools reads POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE and LOG_LEVEL from the
environment when these are built; the template sets them for every function.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
metrics = Metrics()

__all__ = ["MetricUnit", "count", "logger", "measure", "metrics"]


def count(name: str, value: int = 1) -> None:
    """One business metric per decision (deployed, skipped, ignored, rejected...)."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def measure(name: str, unit: str, value: float) -> None:
    """A measurement (a latency, hours, dollars), with the default dimension only: the service
    it concerns goes in the log record as a property (`ecs_service`), not as a dimension, so
    the metric bill does not grow with the fleet."""
    metrics.add_metric(name=name, unit=MetricUnit(unit), value=value)
