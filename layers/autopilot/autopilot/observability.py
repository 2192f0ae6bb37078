"""Logger and metrics: one place, so every function logs and counts the same way.

Tracing is Lambda's own (`Tracing: Active` in the template): the X-Ray SDK that Powertools'
Tracer needs costs about 0.35 s of every cold start, for subsegments this automation does not
need.

Powertools reads POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE and LOG_LEVEL from the
environment when these are built; the template sets them for every function.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

# The template's values as defaults: whatever imports this first (a handler in Lambda, or the
# local runner before it sets a function's environment), every record names the service and
# every metric its namespace.
SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "ecs-autopilot"
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "ECSAutopilot"
logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

__all__ = ["MetricUnit", "count", "logger", "measure", "metrics"]


def count(name: str, value: int = 1) -> None:
    """One business metric per decision (deployed, skipped, ignored, rejected...)."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def measure(name: str, unit: str, value: float) -> None:
    """A measurement (a latency, hours, dollars), with the default dimension only: the service
    it concerns goes in the log record as a property (`ecs_service`), not as a dimension, so
    the metric bill does not grow with the fleet."""
    metrics.add_metric(name=name, unit=MetricUnit(unit), value=value)
