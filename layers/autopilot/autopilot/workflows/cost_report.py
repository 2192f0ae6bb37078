"""The weekly cost report: gather costs, utilization and parking from AWS, build, send, keep."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import Decimal

from autopilot.domain.alarms import service_arn
from autopilot.domain.report import (
    ParkedTime,
    Report,
    ServiceFacts,
    Week,
    build_report,
    tag_value,
)
from autopilot.observability import logger
from autopilot.ports import CloudWatchGateway, CostExplorerGateway, EcsGateway, Ledger, Mailer
from autopilot.reporting import render


@dataclass
class ReportSources:
    costs: CostExplorerGateway
    cloudwatch: CloudWatchGateway
    ecs: EcsGateway
    ledger: Ledger
    account: str
    region: str


def gather(sources: ReportSources, week: Week, now: datetime) -> Report:
    lines = sources.costs.daily_cost_by_service(week.previous.start, week.end)
    usage = sources.costs.daily_cost_by_usage_type(week.previous.start, week.end)
    names = sorted(
        {
            (tag_value(line.keys[0]), tag_value(line.keys[1]))
            for line in lines
            if len(line.keys) == 2 and tag_value(line.keys[0]) and tag_value(line.keys[1])
        }
    )
    arns = [service_arn(c, s, sources.account, sources.region) for c, s in names]
    described = sources.ecs.describe_services(arns) if arns else []
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
    utilization = sources.cloudwatch.utilization(names, start, end) if names else {}
    parked = [
        ParkedTime(s.cluster_name, s.name, Decimal(e.hours_parked), Decimal(e.saved_usd))
        for s in described
        for e in sources.ledger.recorded_between(s.arn, "unpark", start, end)
        if e.hours_parked and e.saved_usd
    ]
    report = build_report(
        week=week,
        by_service=lines,
        requests=sources.costs.requests,
        now=now,
        utilization=utilization,
        facts=facts,
        parked=parked,
        by_usage_type=usage,
    )
    logger.info(
        "cost report built",
        extra={"week": str(week), "total": str(report.total), "requests": report.requests},
    )
    return report


def deliver(report: Report, mailer: Mailer) -> dict[str, str]:
    """Email it (HTML, text, CSV) and keep the HTML and CSV in S3."""
    message_id = mailer.send(render.email(report))
    html = mailer.store(f"reports/{report.week}/report.html", render.html(report), "text/html")
    csv = mailer.store(f"reports/{report.week}/report.csv", render.csv_table(report), "text/csv")
    return {"message_id": message_id, "html": html, "csv": csv}
