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

__all__ = ["MetricUnit", "count", "logger", "metrics"]


def count(name: str, value: int = 1) -> None:
    """One business metric per decision (deployed, skipped, ignored, rejected...)."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
