"""The weekly cost report through the whole path: Cost Explorer responses in the API's shape
(queued in moto), Container Insights metrics, the ledger's parked hours, the email and S3."""

from __future__ import annotations

import csv
import email
import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from email.message import Message
from typing import Any

import boto3
import requests
from moto.ses.models import ses_backends

from autopilot.domain.report import CLUSTER_TAG, SERVICE_TAG, Week
from autopilot.local import costs
from autopilot.local.runner import LocalApp
from autopilot.local.session import send

ACCOUNT = "123456789012"  # moto's default account
WEEK = Week.parse("2026-W46")
REPORT = {"action": "cost-report", "week": str(WEEK)}


def queue(*responses: dict[str, Any]) -> None:
    body = json.dumps({"results": list(responses)})
    url = "http://motoapi.amazonaws.com/moto-api/static/ce/cost-and-usage-results"
    requests.post(url, data=body, timeout=10).raise_for_status()


def expected_totals(response: dict[str, Any], week: Week = WEEK) -> dict[str, Decimal]:
    """Per service, the week's total, summed straight from the response."""
    totals: dict[str, Decimal] = {}
    for result in response["ResultsByTime"]:
        day = result["TimePeriod"]["Start"]
        if not week.start.isoformat() <= day < week.end.isoformat():
            continue
        for group in result["Groups"]:
            cluster, service = (k.split("$", 1)[1] for k in group["Keys"])
            label = f"{cluster}/{service}" if cluster else "(no ECS tags)"
            amount = Decimal(group["Metrics"]["UnblendedCost"]["Amount"])
            totals[label] = totals.get(label, Decimal(0)) + amount
    return totals


def expected_usage(response: dict[str, Any]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for result in response["ResultsByTime"]:
        if result["TimePeriod"]["Start"] < WEEK.start.isoformat():
            continue
        for group in result["Groups"]:
            usage = group["Keys"][1]
            amount = Decimal(group["Metrics"]["UnblendedCost"]["Amount"])
            totals[usage] = totals.get(usage, Decimal(0)) + amount
    return totals


def sent_messages() -> list[Message]:
    backend = ses_backends[ACCOUNT]["us-east-1"]
    return [email.message_from_string(m.raw_data) for m in backend.sent_messages]


def run_report(app: LocalApp) -> dict[str, Any]:
    app.clock = lambda: datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    [line] = [x for x in send(app, [REPORT]) if x["type"] in {"result", "failed", "rejected"}]
    return line


def part(message: Message, content_type: str) -> str:
    for piece in message.walk():
        if piece.get_content_type() == content_type:
            payload = piece.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    raise AssertionError(f"no {content_type} part")


def test_every_number_in_the_email_matches_cost_explorer(
    app: LocalApp, services: dict[str, str]
) -> None:
    # Given two weeks of ECS cost in Cost Explorer's response shapes, and a week of metrics
    response = costs.cost_and_usage_results(WEEK)
    by_usage = costs.usage_type_results(WEEK)
    queue(response, by_usage)
    with app.aws_environment():
        costs.load_utilization(WEEK)

    # When the weekly report runs
    result = run_report(app)

    # Then one email went out, its subject has the week and the total
    [message] = sent_messages()
    totals = expected_totals(response)
    total = sum(totals.values(), Decimal(0))
    assert result["total"] == str(total)
    assert message["Subject"].startswith(f"ECS cost {WEEK}: ${total:,.2f}")
    assert message["To"] == "platform-team@ecs-autopilot.local"
    # And the CSV attachment has every service with this week's cost, to the cent
    table = list(csv.DictReader(io.StringIO(part(message, "text/csv"))))
    from_csv = {
        (
            row["cluster"]
            if row["service"] == "(no ECS tags)"
            else f"{row['cluster']}/{row['service']}"
        ): Decimal(row["this_week"])
        for row in table
    }
    assert from_csv == {label: amount.quantize(Decimal("0.01")) for label, amount in totals.items()}
    # And the HTML and the text show each service's cost
    html, text = part(message, "text/html"), part(message, "text/plain")
    for label, amount in totals.items():
        assert f"${amount:,.2f}" in html
        assert label in text
    # And each cluster's total and change match the sums of its services
    for cluster in ("prod", "staging"):
        now_total = sum(
            (a for label, a in totals.items() if label.startswith(f"{cluster}/")), Decimal(0)
        )
        before = sum(
            (
                a
                for label, a in expected_totals(response, WEEK.previous).items()
                if label.startswith(f"{cluster}/")
            ),
            Decimal(0),
        )
        change = now_total - before
        signed = f"{'+' if change > 0 else '-' if change < 0 else ''}${abs(change):,.2f}"
        assert f"{cluster:<28} {'$' + format(now_total, ',.2f'):>14}  {signed}" in text
    # And what the money went on, by usage type, adds up to the same total
    usage = expected_usage(by_usage)
    assert sum(usage.values(), Decimal(0)) == total
    for usage_type, amount in usage.items():
        assert f"{usage_type}" in text
        assert f"${amount:,.2f}" in html
    # And the footer says what the report cost to make: one request per grouping
    assert "2 Cost Explorer requests ($0.02)" in html
    # And the rightsizing candidate from Container Insights is named with its suggested size
    assert "prod/api: uses at most 22% CPU" in text
    assert "0.25 vCPU / 0.5 GB is enough" in text
    # And a copy is in S3
    bucket = app.physical("ReportsBucket")["Ref"]
    with app.aws_environment():
        keys = {o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=bucket)["Contents"]}
    assert keys == {f"reports/{WEEK}/report.html", f"reports/{WEEK}/report.csv"}


def test_every_page_is_read_and_every_request_is_counted(
    app: LocalApp, services: dict[str, str]
) -> None:
    # Given Cost Explorer answers in two pages
    full = costs.cost_and_usage_results(WEEK)
    first = {**full, "ResultsByTime": full["ResultsByTime"][:7], "NextPageToken": "page-2"}
    second = {**full, "ResultsByTime": full["ResultsByTime"][7:]}
    queue(first, second, costs.usage_type_results(WEEK))

    # When the report runs
    result = run_report(app)

    # Then both pages count, in the total and in the footer
    [message] = sent_messages()
    assert Decimal(result["total"]) == sum(expected_totals(full).values(), Decimal(0))
    assert "3 Cost Explorer requests ($0.03)" in part(message, "text/html")


def test_without_split_cost_allocation_the_report_says_how_to_turn_it_on(
    app: LocalApp, services: dict[str, str]
) -> None:
    # Given every cost lands in the untagged bucket
    response = costs.cost_and_usage_results(WEEK)
    for result in response["ResultsByTime"]:
        for group in result["Groups"]:
            group["Keys"] = [f"{CLUSTER_TAG}$", f"{SERVICE_TAG}$"]
    queue(response)

    # When the report runs
    run_report(app)

    # Then it explains that split cost allocation data is off and how to enable it
    [message] = sent_messages()
    text = part(message, "text/plain")
    assert "split cost allocation data is probably not enabled" in text
    assert "aws:ecs:clusterName" in text


def test_estimated_days_are_flagged_as_incomplete(app: LocalApp, services: dict[str, str]) -> None:
    # Given Cost Explorer marks the week's last two days as estimated
    queue(costs.cost_and_usage_results(WEEK, estimated_days=2))

    # When the report runs (well after the 48 hours)
    app.clock = lambda: datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    [_line] = [x for x in send(app, [REPORT]) if x["type"] == "result"]

    # Then it says the data is incomplete
    [message] = sent_messages()
    assert "Incomplete data" in part(message, "text/plain")


def test_hours_parked_by_schedules_appear_with_the_money_they_saved(
    app: LocalApp, services: dict[str, str]
) -> None:
    # Given staging parked from Friday 20:00 to Monday 07:00 within the week
    app.clock = lambda: datetime(2026, 11, 13, 19, 0, tzinfo=UTC)
    send(app, [{"action": "park", "group": "nightly"}])
    app.clock = lambda: datetime(2026, 11, 15, 6, 0, tzinfo=UTC)
    send(app, [{"action": "unpark", "group": "nightly"}])
    queue(costs.cost_and_usage_results(WEEK))

    # When the report runs
    run_report(app)

    # Then each parked service shows its hours and savings
    text = part(sent_messages()[0], "text/plain")
    assert "staging/web: parked 35.0 h by schedule - saved $1.38" in text
    assert "staging/worker: parked 35.0 h by schedule - saved $0.69" in text
