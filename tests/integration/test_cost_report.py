"""The weekly cost report through the whole path: Cost Explorer responses in the API's shape
(queued in moto), Container Insights metrics, the ledger's parked hours, the email and S3."""

from __future__ import annotations

import csv
import email
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.message import Message
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ReadTimeoutError
from moto.ses.models import ses_backends

from autopilot.adapters import mailer
from autopilot.adapters.report_deliveries import ReportDeliveries
from autopilot.domain.errors import ConflictError
from autopilot.domain.report import CLUSTER_TAG, SERVICE_TAG, Week
from autopilot.domain.report_delivery import (
    ABANDONED_AFTER,
    Delivery,
    DeliveryRecords,
    DeliveryState,
)
from autopilot.records import replace
from autopilot_tools.local import costs
from autopilot_tools.local.runner import LocalApp
from autopilot_tools.local.session import send
from tests.fakes.report import FakeReportDeliveries

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


# -- deleted clusters and services, under moto ---------------------------------------------------
#
# moto 5.2.5 answers DescribeServices as ECS documents for a service it never had (a `failures`
# entry, MISSING) and for a deleted service (status INACTIVE), but it differs from ECS in three
# ways, checked below: a deleted service stays INACTIVE forever (ECS purges it, then answers
# MISSING) and is never DRAINING; a deleted cluster stays INACTIVE and DescribeServices in it
# still answers with its INACTIVE services, so ClusterNotFoundException comes only for a
# cluster moto never had (ECS answers it once the cluster is gone); and moto deletes a cluster
# that still has ACTIVE services (ECS refuses: ClusterContainsServicesException). The unit tier
# replays ECS's own answers for each case (tests/unit/recorded/).


def with_groups(response: dict[str, Any], extra: dict[tuple[str, str], str]) -> dict[str, Any]:
    """The demo's costs plus, every day, `extra` cost for (cluster, service) pairs."""
    for result in response["ResultsByTime"]:
        result["Groups"] += [
            {
                "Keys": [f"{CLUSTER_TAG}${cluster}", f"{SERVICE_TAG}${service}"],
                "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}},
            }
            for (cluster, service), amount in extra.items()
        ]
    return response


def test_deleted_clusters_and_services_are_reported_with_their_cost_marked_deleted(
    app: LocalApp, services: dict[str, str]
) -> None:
    # Given prod/web-legacy was deleted this week (moto: INACTIVE), Cost Explorer still has its
    # cost, and also the cost of a service and a cluster ECS no longer has at all
    with app.aws_environment():
        ecs = boto3.client("ecs")
        ecs.update_service(cluster="prod", service="web-legacy", desiredCount=0)
        ecs.delete_service(cluster="prod", service="web-legacy")
        costs.load_utilization(WEEK)
    extra = {("prod", "reports"): "2.00", ("legacy", "batch"): "3.00"}
    response = with_groups(costs.cost_and_usage_results(WEEK), extra)
    queue(response, costs.usage_type_results(WEEK))

    # When the weekly report runs
    result = run_report(app)

    # Then it is sent, with every cost, the deleted ones included
    assert result["type"] == "result"
    assert result["delivery"] == "sent"
    totals = expected_totals(response)
    assert Decimal(result["total"]) == sum(totals.values(), Decimal(0))
    # And each deleted one is marked, in the services and the clusters
    [message] = sent_messages()
    text = part(message, "text/plain")
    for label in ("prod/web-legacy (deleted)", "prod/reports (deleted)"):
        assert label in text
    assert "legacy/batch (cluster deleted)" in text
    assert "legacy (cluster deleted)" in text
    assert "No longer in ECS: cluster legacy (deleted with its services)" in text
    # And nothing is missing: Container Insights and the ledger answered for the live services
    assert "Missing from this report" not in text
    assert "prod/api: uses at most 22% CPU" in text


def test_under_moto_a_deleted_cluster_shows_as_deleted_services(
    app: LocalApp, services: dict[str, str]
) -> None:
    # Given staging's services and then the cluster itself deleted (moto keeps it INACTIVE)
    with app.aws_environment():
        ecs = boto3.client("ecs")
        for name in ("web", "worker"):
            ecs.delete_service(cluster="staging", service=name, force=True)
        ecs.delete_cluster(cluster="staging")
    queue(costs.cost_and_usage_results(WEEK), costs.usage_type_results(WEEK))

    # When the weekly report runs
    result = run_report(app)

    # Then the report goes out; moto answered INACTIVE services, not ClusterNotFoundException,
    # so its services are marked deleted and the cluster is not
    assert result["delivery"] == "sent"
    text = part(sent_messages()[0], "text/plain")
    assert "staging/web (deleted)" in text
    assert "staging/worker (deleted)" in text
    assert "staging (cluster deleted)" not in text


# -- each week's email is sent once --------------------------------------------------------------


def delivery_item(app: LocalApp) -> dict[str, Any]:
    with app.aws_environment():
        item = boto3.client("dynamodb").get_item(
            TableName=app.physical("LedgerTable")["Ref"],
            Key={"pk": {"S": f"REPORT#{WEEK}"}, "sk": {"S": "EMAIL"}},
            ConsistentRead=True,
        )
    return {k: v.get("S") for k, v in item.get("Item", {}).items()}


def test_a_replayed_schedule_document_sends_no_second_email(
    app: LocalApp, services: dict[str, str]
) -> None:
    # Given the week's report was sent
    queue(costs.cost_and_usage_results(WEEK), costs.usage_type_results(WEEK))
    first = run_report(app)

    # When the schedule delivers the same document again
    again = run_report(app)

    # Then one email; the second run returns the first's result and asks Cost Explorer nothing
    [message] = sent_messages()
    assert again == {**first, "delivery": "already-sent"}
    item = delivery_item(app)
    assert (item["state"], item["message_id"]) == ("sent", first["message_id"])
    assert message["Subject"].startswith(f"ECS cost {WEEK}")


def test_ses_refusing_the_email_leaves_the_week_free_and_a_later_run_sends_it_once(
    app: LocalApp, services: dict[str, str]
) -> None:
    # Given the sender is not verified in SES (SES refuses: MessageRejected)
    with app.aws_environment():
        boto3.client("ses").delete_identity(Identity="cost-report@ecs-autopilot.local")
    queue(*[costs.cost_and_usage_results(WEEK), costs.usage_type_results(WEEK)] * 4)

    # When the report runs (Lambda retries it twice), then runs again once the sender is verified
    failed = run_report(app)
    assert failed["type"] == "failed"
    assert "DeliveryRejectedError" in failed["reason"]
    assert sent_messages() == []
    assert delivery_item(app) == {}
    with app.aws_environment():
        boto3.client("ses").verify_email_identity(EmailAddress="cost-report@ecs-autopilot.local")
    sent = run_report(app)

    # Then exactly one email, recorded as sent
    assert sent["delivery"] == "sent"
    assert len(sent_messages()) == 1
    assert delivery_item(app)["state"] == "sent"


def test_an_answer_lost_after_ses_took_the_email_is_not_sent_again_and_is_notified(
    app: LocalApp, services: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given SES takes the email but the answer is lost on the way back (once)
    lost = {"left": 1}

    def answer_lost(**_: Any) -> None:
        if lost["left"]:
            lost["left"] -= 1
            raise ReadTimeoutError(endpoint_url="https://email.us-east-1.amazonaws.com")

    real_client = mailer.single_attempt_ses

    def ses_losing_answers() -> Any:
        client = real_client()
        client.meta.events.register("after-call.ses.SendRawEmail", answer_lost)
        return client

    monkeypatch.setattr(mailer, "single_attempt_ses", ses_losing_answers)
    queue(*[costs.cost_and_usage_results(WEEK), costs.usage_type_results(WEEK)] * 2)

    # When the report runs, and the schedule's document comes again
    app.clock = lambda: datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    lines = send(app, [REPORT, REPORT])

    # Then one email only, both runs say it may have been sent and how to resend it
    results = [line for line in lines if line["type"] == "result"]
    assert [r["delivery"] for r in results] == ["may-have-been-sent", "may-have-been-sent"]
    assert results[0]["resend"] == f"autopilot report --week {WEEK} --resend"
    assert len(sent_messages()) == 1
    # And the ledger says so; one notification tells the team
    assert delivery_item(app)["state"] == "may-have-been-sent"
    [note] = [line for line in lines if line["type"] == "notification"]
    assert note["subject"] == f"[autopilot] cost report {WEEK} may not have been delivered"


# -- the delivery records: DynamoDB in moto keeps the same contract as the unit tier's fake ------


@pytest.fixture(params=["dynamodb", "in-memory"])
def records(request: pytest.FixtureRequest, app: LocalApp) -> Iterator[DeliveryRecords]:
    if request.param == "in-memory":
        yield FakeReportDeliveries()
        return
    with app.aws_environment():
        yield ReportDeliveries(app.physical("LedgerTable")["Ref"], retention_days=30)


def claimed(claim: str, at: datetime, state: DeliveryState = DeliveryState.SENDING) -> Delivery:
    return Delivery(str(WEEK), state, claim, at, total="98.00", html="s3://b/k")


def test_records_hold_a_week_for_one_claim_at_a_time(records: DeliveryRecords) -> None:
    now = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    first = claimed("run-1", now)
    # Given one run holds the week, a second cannot claim it
    assert records.claim(first)
    assert not records.claim(claimed("run-2", now))
    # And only the holder settles it, and only from the state it names
    with pytest.raises(ConflictError):
        records.settle(replace(claimed("run-2", now), state=DeliveryState.SENT))
    with pytest.raises(ConflictError):
        records.settle(replace(first, state=DeliveryState.SENT), only_from=DeliveryState.UNCERTAIN)
    sent = replace(first, state=DeliveryState.SENT, message_id="m-1", sent_at=now)
    records.settle(sent)
    assert records.find(str(WEEK)) == sent
    # And a settled week is not released, even by its holder
    records.release(first)
    assert records.find(str(WEEK)) == sent


def test_records_release_a_refused_send_and_let_a_resend_take_over_only_what_is_not_in_flight(
    records: DeliveryRecords,
) -> None:
    now = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    # Given a claim released after SES refused the email: the week is free
    records.claim(claimed("run-1", now))
    records.release(claimed("run-1", now))
    assert records.find(str(WEEK)) is None
    # And a fresh SENDING claim is not taken over by a resend; an abandoned one is
    records.claim(claimed("run-2", now))
    assert not records.claim(claimed("resend-1", now + timedelta(minutes=1)), takeover=True)
    later = now + ABANDONED_AFTER + timedelta(seconds=1)
    assert records.claim(claimed("resend-2", later), takeover=True)
    # And a settled one (sent, or may have been sent) is taken over at once
    records.settle(replace(claimed("resend-2", later), state=DeliveryState.UNCERTAIN))
    assert records.claim(claimed("resend-3", later), takeover=True)
    found = records.find(str(WEEK))
    assert found is not None
    assert found.claim == "resend-3"


# -- the demo's figures add up -------------------------------------------------------------------


def test_the_demo_weeks_savings_explain_its_cost_changes(
    app: LocalApp, services: dict[str, str]
) -> None:
    # Given the nightly group parked over the demo's weekend (Friday 20:00 to Monday 07:00,
    # Berlin), and Cost Explorer's figures built hour by hour from the fleet and those schedules
    weekend = costs.DEMO_WEEKEND
    app.clock = lambda: weekend.start
    send(app, [{"action": "park", "group": "nightly"}])
    app.clock = lambda: weekend.end
    send(app, [{"action": "unpark", "group": "nightly"}])
    week = Week.parse("2026-W47")
    queue(
        costs.cost_and_usage_results(week, schedules=costs.DEMO_SCHEDULES),
        costs.usage_type_results(week, schedules=costs.DEMO_SCHEDULES),
    )

    # When the report for the week just ended runs on Monday at noon
    app.clock = lambda: datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    send(app, [{"action": "cost-report", "week": str(week)}])

    # Then each parked service's cost fell by what parking saved, to the cent: 53 of the 59
    # hours parked fell in this week (the rest on Monday, next week), at the list price
    [message] = sent_messages()
    text = part(message, "text/plain")
    rows = {
        f"{r['cluster']}/{r['service']}": r
        for r in csv.DictReader(io.StringIO(part(message, "text/csv")))
    }
    per_task_hour = Decimal("0.5") * Decimal("0.03238") + Decimal("1") * Decimal("0.00356")
    for label, tasks in (("staging/web", 2), ("staging/worker", 1)):
        saved = (53 * tasks * per_task_hour).quantize(Decimal("0.01"))
        assert f"{label}: parked 53.0 h by schedule - saved ${saved}" in text
        assert -Decimal(rows[label]["change"]) == saved
        list_price = ((7 * 24 - 53) * tasks * per_task_hour).quantize(Decimal("0.01"))
        assert Decimal(rows[label]["this_week"]) == list_price
        # And Fargate Spot would save 70% of what the service cost, not more
        spot = (Decimal(rows[label]["this_week"]) * Decimal("0.7")).quantize(Decimal("0.01"))
        assert f"spot: {label}: not production" in text
        assert f"- ${spot} a week" in text
    # And services that were never parked cost the same both weeks
    for label in ("prod/web", "prod/api", "prod/web-legacy"):
        assert rows[label]["change"] == "0.00"
    # And the total fell by the sum of the savings
    total_change = sum((Decimal(r["change"]) for r in rows.values()), Decimal(0))
    assert total_change == -(53 * 3 * per_task_hour).quantize(Decimal("0.01"))
