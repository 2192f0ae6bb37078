"""Properties of what `autopilot local send` reads: any file is events or one BadInputError that
names the file, and whatever passes the checks can be put on the bus.

Deterministic: `derandomize=True` seeds each test from its own source and `database=None` keeps
no examples between runs, so CI and a laptop try the same examples every time.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.serialize import create_serializer
from botocore.validate import validate_parameters
from hypothesis import given, settings
from hypothesis import strategies as st

from autopilot_tools.local.runner import BadInputError, bus_entry, event_problem, read_event_file

# The SDK's own model of PutEvents (read from botocore's bundled JSON: no call is made).
PUT_EVENTS = boto3.client("events", region_name="us-east-1").meta.service_model.operation_model(
    "PutEvents"
)
PROPERTY = settings(max_examples=100, deadline=None, derandomize=True, database=None)
ACTIONS = frozenset({"park", "unpark", "scale", "restore", "cost-report"})
SAMPLE = json.loads(
    (Path(__file__).resolve().parents[2] / "events" / "ecr_image_push.json").read_text()
)

# JSON has no NaN or Infinity (Python's json module reads them: the runner refuses them).
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=8,
)
envelope_values = st.sampled_from(
    [
        "aws.ecr",
        "ECR Image Action",
        "2026-11-20T10:00:00Z",
        "2023-02-29T02:36:48Z",
        "2026-11-20T24:00:00Z",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "2026-11-20",
        "park",
        "explode",
        "",
        [],
        ["arn:aws:ecr:us-east-1:123456789012:repository/web"],
        [1],
        {},
    ]
)
# Events near the real shape: the documented push with keys replaced or removed.
near_events = st.builds(
    lambda changes, removed: {
        **{k: v for k, v in SAMPLE.items() if k not in removed},
        **changes,
    },
    st.dictionaries(
        st.sampled_from(["source", "detail-type", "detail", "time", "resources", "action"]),
        envelope_values | json_values,
        max_size=3,
    ),
    st.sets(st.sampled_from(list(SAMPLE))),
)
contents = st.one_of(
    st.binary(max_size=60),
    st.sampled_from([b'{"detail": NaN}', b"[Infinity]", b'{"time": -Infinity}']),
    st.text(max_size=60).map(str.encode),
    json_values.map(lambda v: json.dumps(v).encode()),
    near_events.map(lambda e: json.dumps(e).encode()),
    st.lists(near_events, max_size=3).map(lambda e: json.dumps(e).encode()),
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("events")


@PROPERTY
@given(content=contents)
def test_any_file_is_events_or_one_error_naming_it(folder: Path, content: bytes) -> None:
    # Given a file with any bytes in it
    path = folder / "event.json"
    path.write_bytes(content)

    # When the runner reads it
    try:
        events = read_event_file(path, ACTIONS)
    except BadInputError as exc:
        # Then it is refused with one line that starts with the file's name
        message = str(exc)
        assert message.startswith(str(path))
        assert "\n" not in message
        return

    # Or it is events: objects, each one the bus (or Scheduler) can deliver
    assert events
    for one in events:
        assert isinstance(one.event, dict)
        assert event_problem(one.event) is None
        assert one.where.startswith(str(path))


@PROPERTY
@given(near_events | st.dictionaries(st.text(max_size=12), json_values, max_size=5))
def test_an_event_that_passes_the_checks_can_be_put_on_the_bus(event: dict[str, Any]) -> None:
    # Given any event object
    # When it passes the runner's checks
    if event_problem(event) is not None or "detail-type" not in event:
        return

    # Then its PutEvents entry can be built, and the SDK validates and serialises it: no
    # time, resource or detail can crash routing
    entry = bus_entry(event)
    assert entry["DetailType"] == event["detail-type"]
    assert json.loads(entry["Detail"]) == event.get("detail", {})
    params = {"Entries": [entry]}
    validate_parameters(params, PUT_EVENTS.input_shape)
    create_serializer(PUT_EVENTS.metadata["protocol"]).serialize_to_request(params, PUT_EVENTS)


offsets = st.timedeltas(timedelta(hours=-23, minutes=-59), timedelta(hours=23, minutes=59)).map(
    lambda delta: timezone(timedelta(minutes=delta // timedelta(minutes=1)))
)


# Any moment, and more often the first and last days Python has, where an offset tips it over.
moments = st.one_of(
    st.datetimes(max_value=datetime(1, 1, 2), timezones=offsets),
    st.datetimes(min_value=datetime(9999, 12, 31), timezones=offsets),
    st.datetimes(timezones=st.none() | offsets),
)


@PROPERTY
@given(moments, st.sampled_from(["T", " "]))
def test_a_time_passes_the_checks_exactly_when_the_sdk_can_send_it(
    moment: datetime, separator: str
) -> None:
    # Given the documented push event at any moment, with any UTC offset (year 1 to 9999)
    event = {**SAMPLE, "time": moment.isoformat(separator)}

    # When the runner checks it
    problem = event_problem(event)

    # Then it passes exactly when the SDK can serialise its time (0001-01-01T00:00+01:00 cannot)
    params = {"Entries": [{"Source": "aws.ecr", "DetailType": "d", "Time": moment}]}
    try:
        validate_parameters(params, PUT_EVENTS.input_shape)
    except OverflowError:
        assert problem is not None
        assert "is not a real date and time" in problem
        return
    assert problem is None
    validate_parameters({"Entries": [bus_entry(event)]}, PUT_EVENTS.input_shape)
