"""The weekly cost report: gather costs, utilization and parking from AWS, build, send once, keep.

The report degrades, it does not fail: a source other than Cost Explorer that cannot be read
(ECS, Container Insights, the ledger) or one of Cost Explorer's two groupings becomes a plain
note saying what is missing and why. Only when Cost Explorer answers neither grouping is there
nothing worth sending: every figure in the report is a cost, and "$0.00 this week" would be
read as a fact. Then the run fails, so that Lambda retries it and the failure is seen.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import TypeVar

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from autopilot.adapters.aws_errors import error_code
from autopilot.domain.alarms import service_arn
from autopilot.domain.errors import ConflictError
from autopilot.domain.measures import COST_EXPLORER_REQUESTS
from autopilot.domain.report import (
    CLUSTER_DELETED,
    SERVICE_DELETED,
    UNPARK_LOOKAHEAD,
    CostLine,
    CostsUnavailableError,
    Gap,
    ParkedTime,
    Report,
    ServiceFacts,
    Source,
    Week,
    build_report,
    parked_within,
    tag_value,
)
from autopilot.domain.report_delivery import (
    Delivery,
    DeliveryRecords,
    DeliveryRejectedError,
    DeliveryState,
    DeliveryUncertainError,
    outcome,
    resend_command,
    uncertain_notification,
)
from autopilot.observability import count, logger, measure
from autopilot.ports import (
    CloudWatchGateway,
    CostExplorerGateway,
    EcsGateway,
    Ledger,
    Mailer,
    Notifier,
)
from autopilot.records import replace
from autopilot.reporting import render

T = TypeVar("T")
# What a source that cannot be read raises, after botocore's own retries: AWS's answer (access
# denied, throttled, ...) or no answer at all. Anything else is a bug and fails the run.
_UNREADABLE = (ClientError, HTTPClientError, BotocoreConnectionError)


@dataclass
class ReportSources:
    costs: CostExplorerGateway
    cloudwatch: CloudWatchGateway
    ecs: EcsGateway
    ledger: Ledger
    account: str
    region: str


@dataclass
class ReportDelivery:
    mailer: Mailer
    deliveries: DeliveryRecords
    notifier: Notifier


class _Reader:
    """Reads optional sources: a failure becomes a Gap in the report, logged with its cause."""

    def __init__(self) -> None:
        self.gaps: list[Gap] = []
        self.errors: dict[Source, Exception] = {}

    def read(self, source: Source, what: str, call: Callable[[], T]) -> T | None:
        try:
            return call()
        except _UNREADABLE as exc:
            why = error_code(exc) if isinstance(exc, ClientError) else type(exc).__name__
            self.gaps.append(Gap(source, f"{what} failed ({why}, after retries)"))
            self.errors[source] = exc
            logger.warning(
                "cost report source unavailable",
                extra={"source": source.value, "error": why},
                exc_info=exc,
            )
            count("CostReportSourceMissing")
            return None


def gather(sources: ReportSources, week: Week, now: datetime) -> Report:
    reader = _Reader()
    by_service = reader.read(
        Source.COST_BY_SERVICE,
        "Cost Explorer's cost by cluster and service",
        lambda: sources.costs.daily_cost_by_service(week.previous.start, week.end),
    )
    usage = reader.read(
        Source.COST_BY_USAGE_TYPE,
        "Cost Explorer's cost by usage type",
        lambda: sources.costs.daily_cost_by_usage_type(week.previous.start, week.end),
    )
    if by_service is None and usage is None:
        raise CostsUnavailableError(
            f"no cost report for {week}: Cost Explorer answered neither grouping"
        ) from reader.errors[Source.COST_BY_SERVICE]
    names = _service_names(by_service or [])
    arns = {service_arn(c, s, sources.account, sources.region): (c, s) for c, s in names}
    described, gone_arns = (
        reader.read(
            Source.SERVICES,
            "ECS DescribeServices",
            lambda: sources.ecs.describe_services_or_gone(arns),
        )
        if arns
        else None
    ) or ([], {})
    gone = {
        arns[arn]: CLUSTER_DELETED if why == "ClusterNotFoundException" else SERVICE_DELETED
        for arn, why in gone_arns.items()
        if arn in arns
    }
    facts = {
        (s.cluster_name, s.name): ServiceFacts(
            cluster=s.cluster_name,
            service=s.name,
            cpu_units=int(s.task_size.vcpu * 1024),
            memory_mib=int(s.task_size.memory_gb * 1024),
            spot=s.task_size.spot,
            environment=s.tags.get("environment", s.tags.get("env", "")),
        )
        for s in described
    }
    start = datetime.combine(week.start, time.min, tzinfo=UTC)
    end = datetime.combine(week.end, time.min, tzinfo=UTC)
    running = sorted(facts)
    utilization = (
        reader.read(
            Source.UTILIZATION,
            "CloudWatch GetMetricData (Container Insights)",
            lambda: sources.cloudwatch.utilization(running, start, end),
        )
        if running
        else None
    )
    # Deleted services saved money while parked too: their ledger entries are kept by ARN.
    parked = reader.read(
        Source.PARKED,
        "Reading the ledger",
        lambda: [
            ParkedTime(cluster, service, *part)
            for arn, (cluster, service) in arns.items()
            for e in sources.ledger.recorded_between(arn, "unpark", start, end + UNPARK_LOOKAHEAD)
            if e.hours_parked and e.saved_usd
            for part in [
                parked_within(
                    e.recorded_at, Decimal(e.hours_parked), Decimal(e.saved_usd), start, end
                )
            ]
            if part is not None
        ],
    )
    report = build_report(
        week=week,
        by_service=by_service,
        requests=sources.costs.requests,
        now=now,
        utilization=utilization or {},
        facts=facts,
        parked=parked or [],
        by_usage_type=usage or [],
        gone=gone,
        gaps=reader.gaps,
    )
    logger.info(
        "cost report built",
        extra={
            "week": str(week),
            "total": str(report.total),
            "requests": report.requests,
            "missing": [g.source.value for g in report.gaps],
            "deleted": sorted(f"{c}/{s}" for c, s in gone),
        },
    )
    measure(COST_EXPLORER_REQUESTS, "Count", report.requests)  # $0.01 each
    return report


def _service_names(lines: list[CostLine]) -> list[tuple[str, str]]:
    return sorted(
        {
            (tag_value(line.keys[0]), tag_value(line.keys[1]))
            for line in lines
            if len(line.keys) == 2 and tag_value(line.keys[0]) and tag_value(line.keys[1])
        }
    )


def weekly_report(
    sources: ReportSources,
    delivery: ReportDelivery,
    week: Week,
    now: datetime,
    *,
    resend: bool = False,
) -> dict[str, str]:
    """The week's report, emailed once. A week already delivered (or perhaps delivered) is
    not gathered again: no Cost Explorer requests, no second email, unless `resend`."""
    if not resend:
        earlier = delivery.deliveries.find(str(week))
        if earlier is not None:
            return _settled(earlier, delivery)
    return deliver(gather(sources, week, now), delivery, now, resend=resend)


def deliver(
    report: Report, delivery: ReportDelivery, now: datetime, *, resend: bool = False
) -> dict[str, str]:
    """Keep the HTML and CSV in S3, then claim the week, email it (HTML, text, CSV), and
    record the outcome. Raises DeliveryRejectedError (claim released) so that a retry sends."""
    week = str(report.week)
    mailer = delivery.mailer
    # The copies first: overwriting them is harmless, and if S3 fails nothing was mailed yet.
    html = mailer.store(f"reports/{week}/report.html", render.html(report), "text/html")
    csv = mailer.store(f"reports/{week}/report.csv", render.csv_table(report), "text/csv")
    message = render.email(report)
    claimed = Delivery(
        week=week,
        state=DeliveryState.SENDING,
        claim=uuid.uuid4().hex,
        claimed_at=now,
        total=str(report.total),
        html=html,
        csv=csv,
    )
    if not delivery.deliveries.claim(claimed, takeover=resend):
        return _settled(_must_find(delivery, week), delivery)
    try:
        message_id = mailer.send(message)
    except DeliveryRejectedError:
        delivery.deliveries.release(claimed)
        logger.warning("cost report rejected by SES; the week is free for a retry")
        raise
    except DeliveryUncertainError as exc:
        return _uncertain(replace(claimed, reason=str(exc)), delivery)
    logger.info("cost report emailed", extra={"week": week, "message_id": message_id})
    sent = replace(claimed, state=DeliveryState.SENT, message_id=message_id, sent_at=now)
    delivery.deliveries.settle(sent)
    count("CostReportSent")
    return {**outcome(sent), "delivery": "resent" if resend else "sent"}


def _settled(earlier: Delivery, delivery: ReportDelivery) -> dict[str, str]:
    """What a run does about a week another run has claimed."""
    if earlier.state is DeliveryState.SENDING:
        # That run stopped between the claim and SES's answer (or is still waiting for it):
        # the email may be out. Say so instead of sending a second one.
        reason = (
            f"an earlier attempt claimed the week at {earlier.claimed_at:%Y-%m-%d %H:%M} UTC "
            "and stopped before recording SES's answer"
        )
        return _uncertain(replace(earlier, reason=reason), delivery, only_from_sending=True)
    logger.info(
        "cost report already delivered", extra={"week": earlier.week, "state": earlier.state}
    )
    return outcome(earlier, earlier=True)


def _uncertain(
    delivery_record: Delivery, delivery: ReportDelivery, *, only_from_sending: bool = False
) -> dict[str, str]:
    uncertain = replace(delivery_record, state=DeliveryState.UNCERTAIN)
    try:
        delivery.deliveries.settle(
            uncertain, only_from=DeliveryState.SENDING if only_from_sending else None
        )
    except ConflictError:
        # The record moved on meanwhile (the other run recorded SES's answer, or a resend).
        return _settled(_must_find(delivery, uncertain.week), delivery)
    logger.error(
        "cost report may have been sent: not sending it again",
        extra={
            "week": uncertain.week,
            "reason": uncertain.reason,
            "resend": resend_command(uncertain.week),
        },
    )
    count("CostReportMayHaveBeenSent")
    delivery.notifier.send(uncertain_notification(uncertain))
    return outcome(uncertain)


def _must_find(delivery: ReportDelivery, week: str) -> Delivery:
    found = delivery.deliveries.find(week)
    if found is None:
        # Claimed a moment ago, released since (SES refused it): a retry starts afresh.
        raise ConflictError(f"the report for {week} changed hands meanwhile")
    return found
