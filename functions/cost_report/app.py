"""Weekly schedule -> the cost report for the last full week, emailed and kept in S3."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from aws_lambda_powertools.utilities.typing import LambdaContext

from autopilot import wiring
from autopilot.domain.report import Week
from autopilot.entry import handle_event
from autopilot.models.events import CostReportDocument
from autopilot.observability import logger, metrics
from autopilot.workflows.cost_report import deliver, gather


def _report(document: CostReportDocument) -> dict[str, Any]:
    now = wiring.utc_now()
    today = now.astimezone(ZoneInfo(document.timezone)).date()
    week = Week.parse(document.week) if document.week else Week.last_full(today)
    report = gather(wiring.report_sources(), week, now)
    return {"week": str(week), "total": str(report.total), **deliver(report, wiring.mailer())}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_event(event, CostReportDocument.model_validate, _report, source="cost_report")
