"""`autopilot local send` with input it cannot take: one line on stderr naming the file, what is
wrong and what to do; exit 1 (2 for a usage error); never a traceback."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from tests.e2e.harness import ROOT, Moto, Result

EVENTS = ROOT / "events"
PUSH = json.loads((EVENTS / "ecr_image_push.json").read_text())


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def push_with(**changes: object) -> str:
    """The documented push event with some top-level keys replaced (None removes one)."""
    event = {**PUSH, **changes}
    return json.dumps({k: v for k, v in event.items() if v is not None})


def the_one_line(result: Result) -> str:
    """The runner's own line on stderr (function logs may be there too), and no traceback."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("autopilot:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_the_documented_pull_through_cache_sample_is_refused_for_its_impossible_date(
    moto: Moto,
) -> None:
    # Given AWS's own pull-through-cache sample, whose time is 2023-02-29
    sample = EVENTS / "ecr_pull_through_cache.json"

    # When it is sent
    result = moto.send(sample)

    # Then one line says which file, what is wrong and what to do; nothing else is printed
    assert result.code == 1
    assert result.stderr.splitlines() == [
        f'autopilot: {sample}: "time": "2023-02-29T02:36:48Z" is not a real date and time '
        "(day is out of range for month): EventBridge never sends one; give a real UTC time "
        "such as 2026-11-20T10:00:00Z"
    ]
    assert result.raw_stdout == ""


# name, content, what the line must say (after "autopilot: FILE")
BAD_FILES: list[tuple[str, str | bytes, str]] = [
    ("not-json.json", '{"version": "0",', "is not JSON (Expecting"),
    ("trailing-comma.json", '{"detail": {"a": 1,}}', "is not JSON (Expecting property name"),
    ("nan.json", push_with(detail={"x": float("nan")}), "is not JSON (NaN is not a JSON value)"),
    ("empty.json", "", "is empty: put one event (a JSON object) in it"),
    ("blank.json", "  \n", "is empty: put one event"),
    ("latin1.json", b'{"id": "caf\xe9"}', "is not UTF-8 text (at byte offset 11)"),
    ("array.json", "[1, 2]", "item 1 of its list is a JSON number, not an event"),
    ("number.json", "42", "holds a JSON number, not an event: put one event"),
    ("string.json", '"ECR Image Action"', "holds a JSON string, not an event"),
    ("null.json", "null", "holds JSON null, not an event"),
    ("empty-list.json", "[]", "holds an empty list, not an event"),
    (
        "feb-30.json",
        push_with(time="2026-02-30T10:00:00Z"),
        '"time": "2026-02-30T10:00:00Z" is not a real date and time (day is out',
    ),
    (
        "hour-25.json",
        push_with(time="2026-11-20T25:00:00Z"),
        "(hour must be in 0..23): EventBridge never sends one; give a real UTC time",
    ),
    (
        "before-year-1.json",
        push_with(time="0001-01-01T00:00:00+01:00"),
        "is not a real date and time (date value out of range)",
    ),
    ("not-a-time.json", push_with(time="yesterday"), '"time": "yesterday" is not a real date'),
    ("numeric-time.json", push_with(time=1700000000), '"time" is a JSON number: EventBridge'),
    (
        "no-shape.json",
        '{"id": "1", "detail": {}}',
        'neither an EventBridge event (no "detail-type") nor a schedule document (no "action")',
    ),
    ("no-source.json", push_with(source=None), '"source" is missing: EventBridge events name'),
    ("empty-source.json", push_with(source=""), '"source" is empty: EventBridge events name it'),
    ("numeric-type.json", push_with(**{"detail-type": 7}), '"detail-type" is a JSON number:'),
    ("detail-string.json", push_with(detail="{}"), '"detail" is a JSON string: EventBridge only'),
    ("resources-string.json", push_with(resources="arn:x"), '"resources" must be a list of ARNs'),
    (
        "unknown-action.json",
        '{"action": "explode", "group": "nightly"}',
        "no schedule in template.yaml delivers action 'explode': use one of cost-report, park,",
    ),
    ("action-list.json", '{"action": ["park"]}', '"action" is a JSON array, not a string'),
]


@pytest.mark.parametrize(("name", "content", "says"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_a_file_that_cannot_be_sent_gets_one_line_and_exit_1(
    moto: Moto, tmp_path: Path, name: str, content: str | bytes, says: str
) -> None:
    # Given a file the runner cannot send as it is
    path = write(tmp_path, name, content)

    # When it is sent
    result = moto.send(path)

    # Then exactly one line names the file and says what is wrong, and nothing ran
    assert result.code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"autopilot: {path}"), line
    assert says in line
    assert result.raw_stdout == ""


def test_a_missing_file_and_a_directory_get_one_line_each(moto: Moto, tmp_path: Path) -> None:
    # Given a path that does not exist and one that is a folder
    missing, folder = tmp_path / "nope.json", tmp_path / "events"
    folder.mkdir()

    # When both are sent in one command
    result = moto.send(missing, folder)

    # Then each gets its line, saying what to do
    assert result.code == 1
    assert result.stderr.splitlines() == [
        f"autopilot: {missing}: no such file: check the path (samples are in events/)",
        f"autopilot: {folder} is a directory: name the event files in it, e.g. {folder}/*.json",
    ]


def test_one_bad_file_stops_every_file_before_anything_runs(
    moto: Moto, services: dict[str, str], tmp_path: Path
) -> None:
    # Given a good push event, and a list whose second event has an impossible date
    bad = write(tmp_path, "list.json", f"[{push_with()}, {push_with(time='2026-04-31T00:00:00Z')}]")

    # When both files are sent
    result = moto.send(EVENTS / "ecr_image_push.json", bad)

    # Then the line points at the event in the list, and nothing was deployed
    assert result.code == 1
    assert the_one_line(result).startswith(f'autopilot: {bad} (event 2): "time": "2026-04-31')
    assert result.lines == []


def test_an_event_no_rule_matches_exits_1(moto: Moto, tmp_path: Path) -> None:
    # Given AWS's pull-through-cache sample with a real date: no rule in template.yaml takes it
    event = json.loads((EVENTS / "ecr_pull_through_cache.json").read_text())
    event["time"] = "2023-02-28T02:36:48Z"
    path = write(tmp_path, "pull-through.json", json.dumps(event))

    # When it is sent
    result = moto.send(path)

    # Then it is reported unrouted on stdout, and the one line says what to do
    assert result.code == 1
    assert [line["type"] for line in result.lines] == ["unrouted"]
    assert the_one_line(result) == (
        f"autopilot: {path}: nothing in template.yaml takes source='aws.ecr' "
        "detail-type='ECR Pull Through Cache Action': nothing ran; send an event one of its "
        "rules or schedules takes"
    )


def test_an_event_the_handler_rejects_as_malformed_exits_1(moto: Moto, tmp_path: Path) -> None:
    # Given a push event whose digest is not a digest
    event = json.loads(push_with())
    event["detail"]["image-digest"] = "sha256:nope"
    path = write(tmp_path, "bad-digest.json", json.dumps(event))

    # When it is sent
    result = moto.send(path)

    # Then the handler rejected it, it is in the dead-letter queue, and the command failed
    assert result.code == 1
    [rejected] = result.of_type("rejected")
    line = the_one_line(result)
    assert line.startswith(f"autopilot: {path}: EcrPushFunction rejected it as malformed (")
    assert rejected["reason"] in line
    assert line.endswith("kept in the events dead-letter queue: fix the event and send it again")
    moto.app.ensure_resources()
    assert moto.app.queue_depth("EventsDeadLetterQueue") == 1


def test_a_schedule_document_the_handler_rejects_exits_1(moto: Moto, tmp_path: Path) -> None:
    # Given a park document that names no group
    path = write(tmp_path, "park.json", '{"action": "park"}')

    # When it is sent
    result = moto.send(path)

    # Then the schedule function rejected it, and the command failed with one line
    assert result.code == 1
    assert "rejected it as malformed" in the_one_line(result)


def test_an_event_ignored_on_purpose_exits_0(moto: Moto, services: dict[str, str]) -> None:
    # Given the documented image-deletion event: valid, and nothing to do
    # When it is sent
    result = moto.send(EVENTS / "ecr_image_delete.json")

    # Then it is ignored with its reason, and that is a success
    assert result.code == 0, result.stderr
    assert [line["type"] for line in result.of_type("ignored")] == ["ignored"]
    assert "autopilot:" not in result.stderr


def test_no_file_at_all_is_a_usage_error(moto: Moto) -> None:
    # When send is given nothing to send
    result = moto.send()

    # Then argparse's usage error, exit 2, no traceback
    assert result.code == 2
    assert "the following arguments are required: FILE" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_moto_server_at_the_endpoint_is_a_usage_error(moto: Moto) -> None:
    # Given an endpoint on this machine where nothing listens
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{probe.getsockname()[1]}"

    # When an event is sent there
    result = moto.send(EVENTS / "ecr_image_push.json", env={"AWS_ENDPOINT_URL": endpoint})

    # Then one line says so and what to do, exit 2
    assert result.code == 2
    assert result.stderr.splitlines() == [
        f"autopilot: no moto server answers at {endpoint}: start one (autopilot local server) "
        "or fix AWS_ENDPOINT_URL"
    ]
