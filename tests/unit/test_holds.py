"""Held pushes: the newest is remembered, a hold that may last is told once, and an alarm's hold
is released on OK, kept while any tied alarm fires, and expires when it waited too long."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from autopilot.domain.decisions import Skip
from autopilot.domain.fleet import ImagePush
from autopilot.domain.holds import (
    Expire,
    Release,
    decide_resume,
    hold_push,
    live_hold,
    mark_told,
    told_of,
)
from autopilot.domain.ledger import LedgerEntry, Outcome
from autopilot.domain.state import Deployment, HeldPush, ServiceState
from autopilot.records import replace
from autopilot.workflows.registry import notification_for

SERVICE_ARN = "arn:aws:ecs:us-east-1:123456789012:service/prod/web"
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
DAY = timedelta(hours=24)
FIRING = Skip("held: alarm prod-web-cpu-high is in ALARM", "alarm-firing")
SCANNING = Skip("held until the image scan completes (scan NOT_STARTED)", "scan-pending")


def push(build: int, at: datetime) -> ImagePush:
    return ImagePush(
        event_id=f"event-{build}",
        time=at,
        account="123456789012",
        region="us-east-1",
        repository="web",
        digest="sha256:" + f"{build:x}" * 64,
        tag="main",
    )


def held(build: int, at: datetime, skip: Skip = FIRING, *, told: bool = True) -> HeldPush:
    return HeldPush(push(build, at), held_at=at, code=skip.code, reason=skip.reason, notified=told)


def state(hold: HeldPush | None = None, latest: Deployment | None = None) -> ServiceState:
    return ServiceState(service_arn=SERVICE_ARN, held=hold, latest=latest, version=3)


def deploy_started(at: datetime, kind: str = "deploy") -> Deployment:
    return Deployment("a1", kind, "ecs-svc/1", "td:2", (), started_at=at)


# -- remembering a hold ------------------------------------------------------------------------


def test_the_first_held_push_is_remembered_and_told() -> None:
    # Given a service that holds nothing
    # When a push is held because an alarm fires
    change = hold_push(state(), push(2, NOW), FIRING, NOW, lasting=True)

    # Then it is remembered, not yet marked told, and people are to be told
    assert change.state is not None
    assert change.state.held == HeldPush(push(2, NOW), NOW, "alarm-firing", FIRING.reason)
    assert change.notify is True


def test_a_newer_push_replaces_the_held_one_without_telling_again() -> None:
    # Given build 2 held (and told) for an alarm
    before = state(held(2, NOW))

    # When build 3, pushed later, is held for the same alarm
    later = NOW + timedelta(minutes=5)
    change = hold_push(before, push(3, later), FIRING, later, lasting=True)

    # Then build 3 is held now, still told, and nobody is told again
    assert change.state is not None
    assert change.state.held == held(3, later)
    assert change.notify is False


def test_an_older_push_never_replaces_a_newer_held_one() -> None:
    # Given build 3 held, and build 2 (pushed before it) delivered late
    before = state(held(3, NOW))

    # When build 2 is held too
    change = hold_push(before, push(2, NOW - timedelta(minutes=1)), FIRING, NOW, lasting=True)

    # Then nothing changes and nobody is told
    assert change.state is None
    assert change.notify is False


def test_the_same_push_held_again_keeps_its_age_and_changes_nothing() -> None:
    # Given build 2 held an hour ago and told
    before = state(held(2, NOW))

    # When it is held again for the same reason (a retry, or a replay of its push)
    change = hold_push(before, push(2, NOW), FIRING, NOW + timedelta(hours=1), lasting=True)

    # Then there is nothing to save and nothing to tell
    assert change == type(change)(state=None, notify=False)


def test_a_hold_for_another_reason_is_told_afresh() -> None:
    # Given build 2 held (and told) for its scan
    before = state(held(2, NOW, SCANNING))

    # When build 3 is held because an alarm fires
    later = NOW + timedelta(minutes=5)
    change = hold_push(before, push(3, later), FIRING, later, lasting=True)

    # Then people are told about the alarm's hold
    assert change.state is not None
    assert change.state.held == held(3, later, told=False)
    assert change.notify is True


def test_a_hold_that_ends_by_itself_is_remembered_but_not_told() -> None:
    # Given a push whose scan is on its way
    # When it is held for the scan
    change = hold_push(state(), push(2, NOW), SCANNING, NOW, lasting=False)

    # Then it is remembered quietly
    assert change.state is not None
    assert change.state.held == held(2, NOW, SCANNING, told=False)
    assert change.notify is False


def test_a_deploy_started_since_the_hold_ends_it() -> None:
    # Given build 2 held and told, and then a deploy that started after it
    ended = state(held(2, NOW), latest=deploy_started(NOW + timedelta(minutes=1)))
    # (a rollback since does not end it)
    kept = state(held(2, NOW), latest=deploy_started(NOW + timedelta(minutes=1), "rollback"))

    # When the hold is read
    # Then the deploy ended it: nothing is held, and a new hold is told afresh
    assert live_hold(ended) is None
    assert told_of(ended, "alarm-firing") is False
    assert hold_push(ended, push(3, NOW), FIRING, NOW, lasting=True).notify is True
    assert live_hold(kept) == held(2, NOW)


def test_marking_a_hold_told_keeps_everything_else() -> None:
    before = state(held(2, NOW, told=False))
    after = mark_told(before)
    assert after.held == held(2, NOW)
    assert replace(after, held=before.held) == before
    assert mark_told(state()) == state()


# -- releasing a hold --------------------------------------------------------------------------


def test_a_push_held_by_an_alarm_is_released_when_nothing_fires() -> None:
    decision = decide_resume(state(held(2, NOW)), (), NOW + timedelta(hours=2), DAY)
    assert decision == Release(held(2, NOW))


def test_nothing_held_is_skipped() -> None:
    decision = decide_resume(state(), (), NOW, DAY)
    assert decision == Skip("no push is held", "nothing-held")


def test_a_push_stays_held_while_a_tied_alarm_fires_even_past_the_limit() -> None:
    # Given a push held two days ago, and another tied alarm still in ALARM
    decision = decide_resume(state(held(2, NOW)), ("prod-web-5xx",), NOW + 2 * DAY, DAY)

    # Then it stays held (it expires only once nothing holds it any more)
    assert isinstance(decision, Skip)
    assert decision.code == "still-held"
    assert "prod-web-5xx" in decision.reason


def test_a_push_waiting_for_its_scan_is_not_released_by_an_alarm() -> None:
    decision = decide_resume(state(held(2, NOW, SCANNING)), (), NOW, DAY)
    assert isinstance(decision, Skip)
    assert decision.code == "still-held"


@pytest.mark.parametrize(
    ("waited", "expires"),
    [(DAY, False), (DAY + timedelta(seconds=1), True), (timedelta(hours=30), True)],
)
def test_a_hold_expires_once_it_waited_longer_than_the_limit(
    waited: timedelta, expires: bool
) -> None:
    # Given a push held `waited` ago, with a 24-hour limit
    decision = decide_resume(state(held(2, NOW)), (), NOW + waited, DAY)

    # Then it expires only past the limit, saying how long it waited
    assert isinstance(decision, Expire) is expires
    if isinstance(decision, Expire):
        assert "longer than the 24 h a held push may wait" in decision.reason


def test_a_hold_ended_by_a_later_deploy_is_not_released_again() -> None:
    ended = state(held(2, NOW), latest=deploy_started(NOW + timedelta(minutes=1)))
    assert decide_resume(ended, (), NOW + timedelta(hours=1), DAY) == Skip(
        "no push is held", "nothing-held"
    )


# -- what people hear --------------------------------------------------------------------------


def resume_entry(outcome: Outcome, code: str, reason: str) -> LedgerEntry:
    return LedgerEntry(
        service_arn=SERVICE_ARN,
        action_id="a1",
        kind="resume-held",
        trigger="alarm-ok",
        trigger_id="ok-event",
        trigger_time=NOW,
        recorded_at=NOW,
        outcome=outcome,
        reason=reason,
        code=code,
        repository="web",
        digest="sha256:" + "2" * 64,
        tag="main",
        from_task_definition="arn:aws:ecs:us-east-1:123456789012:task-definition/web:6",
    )


def test_an_expired_hold_is_a_warning_saying_what_was_not_deployed() -> None:
    # Given a held push that expired when its alarm was back to OK
    entry = resume_entry(Outcome.NOTIFIED, "hold-expired", "held 30 h (alarm), longer than 24 h")

    # When it is announced
    notification = notification_for(entry)

    # Then it names the image, the service, the revision it still runs, and what to do
    assert notification is not None
    assert notification.severity == "warning"
    assert notification.subject == "[autopilot] held push to prod/web expired: web:main"
    assert "web:main (sha256:222222222222)" in notification.text
    assert "still runs web:6" in notification.text
    assert "push it again" in notification.text


@pytest.mark.parametrize("code", ["nothing-held", "still-held"])
def test_an_ok_that_releases_nothing_is_not_announced(code: str) -> None:
    assert notification_for(resume_entry(Outcome.SKIPPED, code, "routine")) is None
