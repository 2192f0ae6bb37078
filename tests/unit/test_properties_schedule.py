"""Properties of schedule documents (`ScheduleDocument`): any JSON is a document or `Invalid`
(so the handler rejects it, never crashes), and valid documents round trip.

Deterministic: `derandomize=True` seeds each test from its own source and `database=None` keeps
no examples between runs, so CI and a laptop try the same examples every time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from autopilot.models.base import Invalid
from autopilot.models.events import ScheduleDocument

PROPERTY = settings(max_examples=100, deadline=None, derandomize=True, database=None)

FIELDS = list(ScheduleDocument.__struct_fields__)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=8,
)
# Values that get past the first checks: real actions, zones, times, dates, edge numbers.
plausible = st.sampled_from(
    [
        "park",
        "unpark",
        "scale",
        "restore",
        "nightly",
        "Europe/Berlin",
        "UTC",
        "America",
        "zone1970.tab",
        "Not/AZone",
        "../etc/passwd",
        "2026-11-20T19:00:00Z",
        "2026-11-20T19:00:00",
        "2026-02-30",
        ["2026-12-24"],
        ["2026-13-01"],
        0,
        -1,
        6,
        30,
        0.5,
        336,
        337,
        float("inf"),
        float("nan"),
        True,
    ]
)
documents_or_not = st.dictionaries(
    st.sampled_from(FIELDS) | st.text(max_size=8), plausible | json_values, max_size=8
)

NAME = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Lord_Howe"]
aware_times = st.datetimes(
    min_value=datetime(2020, 1, 1),  # naive bounds: hypothesis adds the zone
    max_value=datetime(2040, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-5))]),
)
common = {
    "timezone": st.sampled_from(ZONES),
    "skip_dates": st.lists(st.dates(date(2020, 1, 1), date(2040, 1, 1)), max_size=3),
    "execution_id": st.none() | st.uuids().map(str),
    "scheduled_time": st.none() | aware_times,
}


@st.composite
def valid_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A document a template's schedule (or a peak's end) could deliver."""
    action = draw(st.sampled_from(["park", "unpark", "scale", "restore"]))
    body: dict[str, Any] = {"action": action, **{k: draw(v) for k, v in common.items()}}
    if action == "restore":
        body |= {
            "service_arn": f"arn:aws:ecs:us-east-1:123456789012:service/prod/{draw(NAME)}",
            "scale_id": draw(st.uuids().map(str)),
        }
        return body
    body["group"] = draw(NAME)
    if action == "scale":
        low = draw(st.integers(0, 50))
        body |= {"min": low, "max": draw(st.integers(low, 100))}
        body["desired"] = draw(st.none() | st.integers(0, 100))
        body |= draw(
            st.sampled_from([{}, {"hours": 1.5}])
            | st.builds(lambda until: {"until": until}, aware_times)
        )
    return body


@PROPERTY
@given(json_values)
def test_any_json_value_is_a_document_or_a_validation_error(value: object) -> None:
    # Given any JSON value at all where a schedule document is expected
    # When it is parsed
    # Then it is refused with ValidationError (so the handler rejects it into the dead-letter
    # queue) unless it is a document: no other exception escapes to fail the invocation
    try:
        ScheduleDocument.parse(value)
    except Invalid:
        return


@PROPERTY
@given(documents_or_not)
def test_any_object_with_the_documents_keys_is_a_document_or_a_validation_error(
    body: dict[str, Any],
) -> None:
    # Given an object using the document's own keys with plausible or arbitrary values
    try:
        document = ScheduleDocument.parse(body)
    except Invalid:
        return

    # Then a document that parses reads back the same from its JSON
    assert ScheduleDocument.parse_json(document.to_json()) == document


@PROPERTY
@given(valid_documents())
def test_a_valid_document_parses_and_round_trips_through_json(body: dict[str, Any]) -> None:
    # Given a complete document for park, unpark, scale or restore
    # When it is parsed, written as JSON (as Scheduler's Input) and parsed again
    document = ScheduleDocument.parse(body)
    again = ScheduleDocument.parse_json(document.to_json())

    # Then nothing was lost, and the times are the same instants
    assert again == document
    assert document.action == body["action"]
    if document.until is not None:
        assert document.until == body["until"]


@PROPERTY
@given(valid_documents(), st.sampled_from(FIELDS))
def test_a_valid_document_without_one_required_field_is_refused_not_crashed(
    body: dict[str, Any], field: str
) -> None:
    # Given a valid document with one field removed
    body.pop(field, None)

    # When it is parsed
    # Then it is a document (the field was optional) or a ValidationError
    try:
        ScheduleDocument.parse(body)
    except Invalid:
        assert field in {"action", "group", "min", "max", "service_arn", "scale_id"}
