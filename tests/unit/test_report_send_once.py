"""A week's email is sent once, whatever is retried.

SES, S3 and SNS are replayed at the HTTP level (tests/unit/aws_wire.py) through the real Mailer
and Notifier; `Ses` keeps the emails that "reached" SES, so a test can fail the call before it
takes effect (SES refuses it, or cannot be reached) or after (the answer is lost), then retry as
Lambda does, and count emails. The deliveries are recorded in memory with the adapter's
conditions (the integration tier runs the same story against DynamoDB)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs

import pytest
from botocore.awsrequest import AWSPreparedRequest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from autopilot.adapters.cloudwatch import CloudWatchGateway
from autopilot.adapters.costexplorer import CostExplorerGateway
from autopilot.adapters.ecs import EcsGateway
from autopilot.adapters.ledger import Ledger
from autopilot.adapters.mailer import Mailer
from autopilot.adapters.notifier import Notifier
from autopilot.domain.errors import ConflictError
from autopilot.domain.report import CLUSTER_TAG, SERVICE_TAG, CostLine, Report, Week, build_report
from autopilot.domain.report_delivery import (
    ABANDONED_AFTER,
    Delivery,
    DeliveryRejectedError,
    DeliveryState,
)
from autopilot.records import replace
from autopilot.workflows.cost_report import ReportDelivery, ReportSources, deliver, weekly_report
from autopilot_tools.cli.main import main
from tests.fakes.report import FakeReportDeliveries
from tests.unit.aws_wire import Replay, Wire, xml_answer
from tests.unit.report_fakes import days

WEEK = Week(2026, 46)
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SES_XMLNS = "http://ses.amazonaws.com/doc/2010-12-01/"
RESEND = "autopilot report --week 2026-W46 --resend"


@dataclass
class Ses:
    """SES as the tests see it: the emails it took, whatever the caller heard back."""

    outbox: list[str] = field(default_factory=list)

    def _take(self, request: AWSPreparedRequest) -> None:
        body = request.body if isinstance(request.body, bytes) else str(request.body).encode()
        self.outbox.append(parse_qs(body.decode())["RawMessage.Data"][0])

    def accepts(self, message_id: str, then: Callable[[], object] | None = None) -> Wire:
        def take(request: AWSPreparedRequest) -> None:
            self._take(request)
            if then is not None:
                then()

        body = (
            f'<SendRawEmailResponse xmlns="{SES_XMLNS}"><SendRawEmailResult>'
            f"<MessageId>{message_id}</MessageId></SendRawEmailResult>"
            "<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></SendRawEmailResponse>"
        )
        return Wire(200, body.encode(), {"Content-Type": "text/xml"}, effect=take)

    @staticmethod
    def refuses() -> Wire:
        """SES answers with an error: nothing was sent."""
        return xml_answer(
            f'<ErrorResponse xmlns="{SES_XMLNS}"><Error><Type>Sender</Type>'
            "<Code>MessageRejected</Code><Message>Email address is not verified.</Message>"
            "</Error><RequestId>r</RequestId></ErrorResponse>",
            status=400,
        )

    @staticmethod
    def unreachable() -> Wire:
        """The connection is never made: the request did not leave."""
        return Wire(
            raises=EndpointConnectionError(endpoint_url="https://email.us-east-1.amazonaws.com")
        )

    def loses_the_answer(self) -> Wire:
        """SES takes the email; the answer never comes back (a read timeout)."""
        return Wire(
            raises=ReadTimeoutError(endpoint_url="https://email.us-east-1.amazonaws.com"),
            effect=self._take,
        )


S3_STORED = Wire(200, b"", {"ETag": '"0123456789abcdef"'})
PUBLISHED = xml_answer(
    '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult>'
    "<MessageId>n-1</MessageId></PublishResult>"
    "<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PublishResponse>"
)


@dataclass
class World:
    ses: Ses
    replay: Replay
    records: FakeReportDeliveries
    delivery: ReportDelivery

    def notifications(self) -> list[dict[str, list[str]]]:
        return [parse_qs(body.decode()) for op, body in self.replay.calls if op == "Publish"]


def world(
    *ses_answers: Callable[[Ses], Wire], records: FakeReportDeliveries | None = None
) -> World:
    """SES answers as given, in order; S3 stores every copy; SNS publishes every notification."""
    ses, replay = Ses(), Replay()
    replay.queue("SendRawEmail", *(answer(ses) for answer in ses_answers))
    replay.queue("PutObject", *[S3_STORED] * 20)
    replay.queue("Publish", *[PUBLISHED] * 5)
    kept = records if records is not None else FakeReportDeliveries()
    delivery = ReportDelivery(
        mailer=Mailer(
            "cost-report@example.com",
            ["team@example.com"],
            "reports",
            ses=replay.client("ses"),
            s3=replay.client("s3"),
        ),
        deliveries=kept,
        notifier=Notifier("arn:aws:sns:us-east-1:123456789012:autopilot", sns=replay.client("sns")),
    )
    return World(ses, replay, kept, delivery)


def the_report() -> Report:
    keys = (f"{CLUSTER_TAG}$prod", f"{SERVICE_TAG}$web")
    lines = [CostLine(d, keys, Decimal("10"), "USD", estimated=False) for d in days(WEEK.start, 7)]
    return build_report(week=WEEK, by_service=lines, requests=2, now=NOW)


def attempts(run: Callable[[], dict[str, str]], tries: int = 3) -> list[dict[str, str] | Exception]:
    """Lambda's asynchronous invocation: the first try and up to two retries after an error."""
    results: list[dict[str, str] | Exception] = []
    for _ in range(tries):
        try:
            results.append(run())
        except Exception as exc:  # noqa: BLE001 - Lambda's contract: any error is retried
            results.append(exc)
        else:
            return results
    return results


def record(w: World) -> Delivery:
    found = w.records.find(str(WEEK))
    assert found is not None
    return found


# -- failures before the email takes effect ------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [lambda ses: Ses.refuses(), lambda ses: Ses.unreachable()],
    ids=["SES refuses", "SES unreachable"],
)
def test_a_send_that_never_took_effect_is_retried_and_mails_once(
    failure: Callable[[Ses], Wire],
) -> None:
    # Given SES fails the first call before taking the email, and accepts the second
    w = world(failure, lambda ses: ses.accepts("m-2"))

    # When the report is delivered, with Lambda's retries
    first, second = attempts(lambda: deliver(the_report(), w.delivery, NOW))

    # Then the first try failed for a retry and gave the week up; the retry mailed it
    assert isinstance(first, DeliveryRejectedError)
    assert isinstance(second, dict)
    assert second["delivery"] == "sent"
    assert second["message_id"] == "m-2"
    # And exactly one email went out, which the ledger records as sent with SES's id
    assert len(w.ses.outbox) == 1
    assert (record(w).state, record(w).message_id) == (DeliveryState.SENT, "m-2")
    assert w.notifications() == []


def test_a_failed_copy_in_s3_claims_nothing_and_the_retry_mails_once() -> None:
    # Given S3 fails the first copy; SES accepts
    w = world(lambda ses: ses.accepts("m-1"))
    w.replay.answers["PutObject"].appendleft(
        xml_answer("<Error><Code>InternalError</Code><Message>x</Message></Error>", status=500)
    )

    # When the report is delivered, with retries
    results = attempts(lambda: deliver(the_report(), w.delivery, NOW))

    # Then nothing was claimed or mailed by the failed try; the retry mailed it once
    assert isinstance(results[0], ClientError)
    assert [d.state for d in w.records.writes] == [DeliveryState.SENDING, DeliveryState.SENT]
    assert len(w.ses.outbox) == 1


# -- failures after the email took effect --------------------------------------------------------


def test_a_lost_answer_is_never_followed_by_a_second_email_and_a_person_is_told() -> None:
    # Given SES takes the email but its answer is lost
    w = world(lambda ses: ses.loses_the_answer())

    # When the report is delivered, and the schedule's delivery is retried twice
    results = [deliver(the_report(), w.delivery, NOW) for _ in range(3)]

    # Then each run says it may have been sent, how to resend, and none sends again
    assert {r["delivery"] for r in results} == {"may-have-been-sent"}
    assert {r["resend"] for r in results} == {RESEND}
    assert "ReadTimeoutError" in results[0]["reason"]
    assert w.replay.called("SendRawEmail") == 1
    assert len(w.ses.outbox) == 1  # at most one: here SES did take it
    # And the ledger agrees: the week may have been sent
    assert record(w).state is DeliveryState.UNCERTAIN
    # And one notification says so, with the command to resend
    [note] = w.notifications()
    assert note["Subject"] == ["[autopilot] cost report 2026-W46 may not have been delivered"]
    assert RESEND in note["Message"][0]


def test_a_resend_after_an_uncertain_send_mails_once_more_and_is_recorded_as_sent() -> None:
    # Given an uncertain first send
    w = world(lambda ses: ses.loses_the_answer(), lambda ses: ses.accepts("m-2"))
    deliver(the_report(), w.delivery, NOW)

    # When a person resends it
    result = deliver(the_report(), w.delivery, NOW + timedelta(hours=1), resend=True)

    # Then one more email goes out, and the ledger records it as sent with the new id
    assert result["delivery"] == "resent"
    assert len(w.ses.outbox) == 2
    assert (record(w).state, record(w).message_id) == (DeliveryState.SENT, "m-2")


class DiesAfterSes(FakeReportDeliveries):
    """The run stops after SES accepted, before the ledger records it (a timeout, a crash)."""

    def __init__(self) -> None:
        super().__init__()
        self.deaths = 1

    def settle(self, delivery: Delivery, *, only_from: DeliveryState | None = None) -> None:
        if delivery.state is DeliveryState.SENT and self.deaths:
            self.deaths -= 1
            raise RuntimeError("Task timed out after 300.00 seconds")
        super().settle(delivery, only_from=only_from)


def test_a_run_that_stopped_after_ses_accepted_is_not_followed_by_a_second_email() -> None:
    # Given SES accepts, then the run dies before recording it; SES would accept again
    w = world(
        lambda ses: ses.accepts("m-1"), lambda ses: ses.accepts("m-2"), records=DiesAfterSes()
    )

    # When Lambda retries the run
    first, second = attempts(lambda: deliver(the_report(), w.delivery, NOW))

    # Then the retry finds the week claimed mid-send: it does not mail it again, says so
    assert isinstance(first, RuntimeError)
    assert isinstance(second, dict)
    assert second["delivery"] == "may-have-been-sent"
    assert "stopped before recording SES's answer" in second["reason"]
    assert len(w.ses.outbox) == 1
    assert record(w).state is DeliveryState.UNCERTAIN
    assert len(w.notifications()) == 1


def test_a_second_run_while_the_first_waits_for_ses_sends_nothing() -> None:
    # Given a second delivery of the schedule runs while the first waits for SES's answer
    records = FakeReportDeliveries()
    later: list[dict[str, str]] = []
    w = world(
        lambda ses: ses.accepts(
            "m-1", then=lambda: later.append(deliver(the_report(), w.delivery, NOW))
        ),
        records=records,
    )

    # When the first run completes
    first = deliver(the_report(), w.delivery, NOW)

    # Then one email; the second run sent none; the first recorded its id last, so it is sent
    assert len(w.ses.outbox) == 1
    assert later[0]["delivery"] == "may-have-been-sent"
    assert first["delivery"] == "sent"
    assert (record(w).state, record(w).message_id) == (DeliveryState.SENT, "m-1")


# -- a week already delivered --------------------------------------------------------------------


def unreachable_sources(replay: Replay) -> ReportSources:
    """Sources with no answers queued: any request to them fails the test."""
    return ReportSources(
        costs=CostExplorerGateway(replay.client("ce")),
        cloudwatch=CloudWatchGateway(replay.client("cloudwatch")),
        ecs=EcsGateway(replay.client("ecs")),
        ledger=Ledger("ledger", 30, client=replay.client("dynamodb")),
        account="123456789012",
        region="us-east-1",
    )


def test_a_week_already_sent_returns_the_earlier_result_without_asking_cost_explorer() -> None:
    # Given the week was sent by an earlier run
    w = world(lambda ses: ses.accepts("m-1"))
    earlier = deliver(the_report(), w.delivery, NOW)

    # When the schedule delivers the week's document again
    again = weekly_report(
        unreachable_sources(w.replay), w.delivery, WEEK, NOW + timedelta(minutes=3)
    )

    # Then it returns what the first run did, sends nothing, and costs no Cost Explorer request
    assert again == {**earlier, "delivery": "already-sent"}
    assert len(w.ses.outbox) == 1
    assert w.replay.called("GetCostAndUsage") == 0


@pytest.mark.parametrize(
    ("age", "takes_over"),
    [(timedelta(minutes=1), False), (ABANDONED_AFTER + timedelta(minutes=1), True)],
    ids=["claimed a minute ago", "abandoned"],
)
def test_a_resend_takes_over_only_an_abandoned_send(age: timedelta, takes_over: bool) -> None:
    # Given a run claimed the week `age` ago and recorded nothing since
    records = FakeReportDeliveries()
    claimed = Delivery(str(WEEK), DeliveryState.SENDING, "other-run", NOW - age)
    records.claim(claimed)
    w = world(lambda ses: ses.accepts("m-2"), records=records)

    # When a person resends the week
    result = deliver(the_report(), w.delivery, NOW, resend=True)

    # Then a fresh claim is left to its run (no email); an abandoned one is taken over and sent
    assert len(w.ses.outbox) == (1 if takes_over else 0)
    assert result["delivery"] == ("resent" if takes_over else "may-have-been-sent")


def test_settling_a_week_someone_else_holds_is_a_conflict() -> None:
    # Given the week is held by another run
    records = FakeReportDeliveries()
    held = Delivery(str(WEEK), DeliveryState.SENDING, "other-run", NOW)
    records.claim(held)

    # When / Then this run cannot record an outcome for it
    with pytest.raises(ConflictError):
        records.settle(replace(held, claim="this-run", state=DeliveryState.SENT))


def test_a_resend_must_name_its_week(capsys: pytest.CaptureFixture[str]) -> None:
    # Given an operator asks to resend without saying which week
    # When / Then the command refuses before touching AWS: the last full week may not be meant
    with pytest.raises(SystemExit) as exited:
        main(["report", "--resend"])
    assert exited.value.code == 2
    assert "--resend needs the week" in capsys.readouterr().err
