"""What a schedule delivers: the documented documents parse, incomplete or contradictory ones are
refused, and the capacity request they become survives the actions queue."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from autopilot.models.actions import CapacityRequest, parse_action
from autopilot.models.base import Invalid
from autopilot.models.events import ScheduleDocument

SERVICE_ARN = "arn:aws:ecs:us-east-1:123456789012:service/prod/web"
EXECUTION_ID = "b6e4f8a0-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
CET = timezone(timedelta(hours=1))


def document(**fields: Any) -> ScheduleDocument:
    return ScheduleDocument.parse(fields)


# -- documented examples -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"action": "park", "group": "nightly"}, id="park"),
        pytest.param({"action": "unpark", "group": "nightly"}, id="unpark"),
        pytest.param(
            {
                "action": "scale",
                "group": "checkout",
                "min": 6,
                "max": 30,
                "until": "2026-11-27T23:00:00+01:00",
            },
            id="scale until",
        ),
        pytest.param(
            {"action": "scale", "group": "checkout", "min": 6, "max": 30, "hours": 4},
            id="scale for hours",
        ),
        pytest.param(
            {"action": "restore", "service_arn": SERVICE_ARN, "scale_id": "abc123"},
            id="restore",
        ),
    ],
)
def test_the_documented_schedule_documents_parse(body: dict[str, Any]) -> None:
    # Given a document as the README and the template write it
    # When it is parsed
    parsed = ScheduleDocument.parse(body)

    # Then every field it gave is kept as given
    assert {k: v for k, v in parsed.to_dict().items() if k in body} == {
        **body,
        **({"hours": 4.0} if "hours" in body else {}),
    }


def test_scale_until_keeps_the_offset_it_was_given() -> None:
    # Given the documented peak, until 23:00 in Berlin (UTC+1 in November)
    body = {
        "action": "scale",
        "group": "checkout",
        "min": 6,
        "max": 30,
        "until": "2026-11-27T23:00:00+01:00",
    }

    # When it is parsed
    parsed = ScheduleDocument.parse(body)

    # Then it ends at that instant: 22:00 UTC
    assert parsed.until == datetime(2026, 11, 27, 22, 0, tzinfo=UTC)
    assert parsed.until is not None
    assert parsed.until.utcoffset() == timedelta(hours=1)
    assert (parsed.group, parsed.min, parsed.max) == ("checkout", 6, 30)


def test_a_document_defaults_to_utc_with_no_skip_dates() -> None:
    # Given a hand-sent document that names no time zone or skip date
    # When it is parsed
    parsed = document(action="park", group="nightly")

    # Then it is read in UTC, every day parks, and it carries no Scheduler context
    assert parsed.timezone == "UTC"
    assert parsed.skip_dates == []
    assert (parsed.execution_id, parsed.scheduled_time) == (None, None)


def test_the_templates_park_document_with_schedulers_context_parses() -> None:
    # Given the template's park document, as Scheduler delivers it (context attributes filled)
    body = (
        '{"action": "park", "group": "nightly", "timezone": "Europe/Berlin",'
        ' "skip_dates": ["2026-12-24","2026-12-31"], "execution_id": "' + EXECUTION_ID + '",'
        ' "scheduled_time": "2026-11-20T21:00:00Z"}'
    )

    # When it is parsed
    parsed = ScheduleDocument.parse_json(body)

    # Then the execution id, the (aware) scheduled time and the skip dates are read
    assert parsed.execution_id == EXECUTION_ID
    assert parsed.scheduled_time == datetime(2026, 11, 20, 21, 0, tzinfo=UTC)
    assert parsed.scheduled_time is not None
    assert parsed.scheduled_time.tzinfo is not None
    assert parsed.skip_dates == [date(2026, 12, 24), date(2026, 12, 31)]
    assert parsed.timezone == "Europe/Berlin"


def test_the_templates_park_document_without_skip_dates_parses() -> None:
    # Given the template's park document when SkipDates is empty
    body = (
        '{"action": "park", "group": "nightly", "timezone": "UTC", "skip_dates": [],'
        ' "execution_id": "' + EXECUTION_ID + '", "scheduled_time": "2026-11-20T21:00:00Z"}'
    )

    # When it is parsed
    parsed = ScheduleDocument.parse_json(body)

    # Then there is no skip date
    assert parsed.skip_dates == []


# -- refused documents -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param({"action": "park"}, "park needs a group", id="park without group"),
        pytest.param({"action": "unpark"}, "unpark needs a group", id="unpark without group"),
        pytest.param(
            {"action": "scale", "min": 6, "max": 30}, "scale needs a group", id="scale no group"
        ),
        pytest.param(
            {"action": "park", "group": ""}, r"length >= 1 - at `\$\.group`", id="empty group"
        ),
        pytest.param(
            {"action": "scale", "group": "checkout", "max": 30},
            "scale needs min and max",
            id="scale without min",
        ),
        pytest.param(
            {"action": "scale", "group": "checkout", "min": 6},
            "scale needs min and max",
            id="scale without max",
        ),
        pytest.param(
            {"action": "scale", "group": "checkout", "min": 31, "max": 30},
            "min is above max",
            id="min above max",
        ),
        pytest.param(
            {"action": "scale", "group": "checkout", "min": -1, "max": 30},
            r"`int` >= 0 - at `\$\.min`",
            id="negative min",
        ),
        pytest.param(
            {"action": "restore", "scale_id": "abc123"},
            "restore needs service_arn and scale_id",
            id="restore without service",
        ),
        pytest.param(
            {"action": "restore", "service_arn": SERVICE_ARN},
            "restore needs service_arn and scale_id",
            id="restore without scale id",
        ),
        pytest.param(
            {
                "action": "scale",
                "group": "checkout",
                "min": 6,
                "max": 30,
                "until": "2026-11-27T23:00:00+01:00",
                "hours": 4,
            },
            "give until or hours, not both",
            id="until and hours",
        ),
        pytest.param(
            {
                "action": "scale",
                "group": "checkout",
                "min": 6,
                "max": 30,
                "until": "2026-11-27T23:00:00",
            },
            r"with a timezone component - at `\$\.until`",
            id="naive until",
        ),
        pytest.param(
            {"action": "scale", "group": "checkout", "min": 6, "max": 30, "hours": 0},
            r"> 0.0 - at `\$\.hours`",
            id="zero hours",
        ),
        pytest.param(
            {"action": "park", "group": "nightly", "timezone": "Europe/Atlantis"},
            "unknown time zone",
            id="unknown zone",
        ),
        pytest.param(
            {"action": "park", "group": "nightly", "timezone": "Europe"},
            "unknown time zone",
            id="a zone directory, not a zone",
        ),
        pytest.param(
            {"action": "park", "group": "nightly", "timezone": ""},
            "unknown time zone",
            id="empty zone",
        ),
        pytest.param(
            {"action": "park", "group": "nightly", "skip_dates": ["24.12.2026"]},
            "skip_dates",
            id="skip date not ISO",
        ),
        pytest.param(
            {"action": "park", "group": "nightly", "grop": "weekend"},
            "unknown field `grop`",
            id="unknown field",
        ),
        pytest.param({"action": "shutdown", "group": "nightly"}, "action", id="unknown action"),
    ],
)
def test_an_incomplete_or_contradictory_document_is_refused(
    body: dict[str, Any], message: str
) -> None:
    # Given a document that leaves out what its action needs, or says two things at once
    # When it is parsed
    # Then it is refused, for that reason
    with pytest.raises(Invalid, match=message):
        ScheduleDocument.parse(body)


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"min": 0, "max": 0}, id="min 0 and max 0"),
        pytest.param({"min": 6, "max": 6}, id="min equal to max"),
    ],
)
def test_scale_limits_of_zero_or_equal_are_accepted(extra: dict[str, int]) -> None:
    # Given a peak with min 0 or min == max (0 is a value, not missing)
    # When it is parsed
    parsed = document(action="scale", group="checkout", **extra)

    # Then it is kept as given
    assert (parsed.min, parsed.max) == (extra["min"], extra["max"])


# -- the request a schedule becomes ------------------------------------------------------------


def capacity_request(kind: str, **fields: Any) -> CapacityRequest:
    return CapacityRequest.parse(
        {
            "action_id": f"{kind}-4f1c2a",
            "service_arn": SERVICE_ARN,
            "trigger": "schedule",
            "trigger_id": EXECUTION_ID,
            "trigger_time": datetime(2026, 11, 20, 22, 0, tzinfo=CET),
            "kind": kind,
            **fields,
        }
    )


@pytest.mark.parametrize(
    "request_",
    [
        pytest.param(
            capacity_request(
                "park",
                timezone="Europe/Berlin",
                skip_dates=(date(2026, 12, 24), date(2026, 12, 31)),
            ),
            id="park with skip dates",
        ),
        pytest.param(capacity_request("unpark", timezone="Europe/Berlin"), id="unpark"),
        pytest.param(
            capacity_request(
                "scale",
                minimum=6,
                maximum=30,
                desired=8,
                until=datetime(2026, 11, 27, 23, 0, tzinfo=CET),
            ),
            id="scale",
        ),
        pytest.param(
            capacity_request("scale", minimum=0, maximum=0, desired=0), id="scale to zeros"
        ),
        pytest.param(capacity_request("restore", scale_id="scale-4f1c2a"), id="restore"),
    ],
)
def test_a_capacity_request_survives_the_queue(request_: CapacityRequest) -> None:
    # Given a capacity request the schedule planner queued
    # When it is sent as JSON and read back by the executor
    received = parse_action(request_.to_json())

    # Then it is the same capacity request, every field included
    assert isinstance(received, CapacityRequest)
    assert received == request_
    assert received.to_dict() == request_.to_dict()
    assert received.skip_dates == request_.skip_dates
    assert received.until == request_.until
    if request_.until is not None:
        assert received.until is not None
        assert received.until.utcoffset() == request_.until.utcoffset()


# -- which firing a delivery is ----------------------------------------------------------------

PARK_SCHEDULE = "arn:aws:scheduler:us-east-1:123456789012:schedule/default/park-nightly"


def delivered_park(**fields: Any) -> ScheduleDocument:
    """The template's park document as Scheduler delivers it (context attributes filled in)."""
    return document(
        action="park",
        group="nightly",
        timezone="Europe/Berlin",
        schedule_arn=PARK_SCHEDULE,
        scheduled_time="2026-11-20T19:00:00Z",
        execution_id=EXECUTION_ID,
        **fields,
    )


def test_a_delivery_is_named_by_its_schedule_and_scheduled_time() -> None:
    # Given the park schedule's delivery
    parsed = delivered_park()

    # Then it names that firing of that schedule
    assert parsed.trigger_key() == f"{PARK_SCHEDULE}@2026-11-20T19:00:00Z"


def test_schedulers_retry_of_a_firing_is_the_same_trigger_whatever_its_execution_id() -> None:
    # Given two deliveries of one firing: Scheduler gives each attempt its own execution id
    first = delivered_park()
    retry = document(**{**first.to_dict(), "execution_id": "d32c5kddcf5bb8c3"})

    # Then they are the same trigger
    assert first.execution_id != retry.execution_id
    assert first.trigger_key() == retry.trigger_key()


def test_the_scheduled_time_names_the_instant_whatever_offset_it_is_written_with() -> None:
    assert (
        document(
            action="unpark",
            group="nightly",
            schedule_arn=PARK_SCHEDULE,
            scheduled_time="2026-11-20T20:00:00+01:00",
        ).trigger_key()
        == delivered_park().trigger_key()
    )


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        pytest.param({"execution_id": EXECUTION_ID}, EXECUTION_ID, id="execution id only"),
        pytest.param(
            {"schedule_arn": PARK_SCHEDULE, "execution_id": EXECUTION_ID},
            EXECUTION_ID,
            id="no scheduled time",
        ),
        pytest.param({}, None, id="hand-sent"),
    ],
)
def test_a_document_without_schedule_and_time_falls_back_to_what_it_has(
    fields: dict[str, str], key: str | None
) -> None:
    assert document(action="park", group="nightly", **fields).trigger_key() == key


def test_a_schedule_arn_scheduler_did_not_fill_in_is_refused() -> None:
    # Given a document with the context attribute left as written in the template
    # Then it is refused (it would make every firing the same trigger)
    with pytest.raises(Invalid, match="schedule_arn"):
        document(
            action="park",
            group="nightly",
            schedule_arn="<aws.scheduler.schedule-arn>",
            scheduled_time="2026-11-20T19:00:00Z",
        )
