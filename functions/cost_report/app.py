"""Weekly schedule -> the cost report for the last full week, emailed once and kept in S3."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from aws_lambda_powertools.utilities.typing import LambdaContext

from autopilot import wiring
from autopilot.adapters.notifier import Notifier
from autopilot.adapters.report_deliveries import ReportDeliveries
from autopilot.domain.report import Week
from autopilot.entry import handle_event
from autopilot.models.events import CostReportDocument
from autopilot.observability import logger, metrics
from autopilot.workflows.cost_report import ReportDelivery, weekly_report


def _delivery() -> ReportDelivery:
    settings = wiring.settings()
    return ReportDelivery(
        mailer=wiring.mailer(),
        deliveries=ReportDeliveries(settings.ledger_table, settings.ledger_retention_days),
        notifier=Notifier(settings.notify_topic_arn, settings.chat_webhook_secret_arn),
    )


def _report(document: CostReportDocument) -> dict[str, Any]:
    now = wiring.utc_now()
    today = now.astimezone(ZoneInfo(document.timezone)).date()
    week = Week.parse(document.week) if document.week else Week.last_full(today)
    return weekly_report(wiring.report_sources(), _delivery(), week, now)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_event(event, CostReportDocument.parse, _report, source="cost_report")
