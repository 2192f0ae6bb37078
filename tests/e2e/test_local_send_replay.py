"""`local send` prints what THIS send did: an event handled before is labelled a replay, and
what earlier commands notified is not printed again."""

from __future__ import annotations

from tests.e2e.harness import ROOT, Moto

EVENTS = ROOT / "events"


def test_sending_a_schedule_twice_labels_the_second_a_replay(
    moto: Moto, services: dict[str, str]
) -> None:
    # Given the park schedule's document has been sent once
    first = moto.send(EVENTS / "schedule_park.json")

    # When the very same document is sent again
    second = moto.send(EVENTS / "schedule_park.json")

    # Then the first send acted, and the second says each action is a replay of it
    assert first.code == 0, first.stderr
    acted = first.of_type("action")
    assert acted
    assert all("replay" not in line for line in acted)
    replays = second.of_type("action")
    assert [line["service"] for line in replays] == [line["service"] for line in acted]
    assert all(line["replay"] is True for line in replays)
    assert all(line["reason"].startswith("a replay: ") for line in replays)
    assert second.of_type("notification") == []


def test_an_operator_commands_notifications_are_not_printed_by_the_next_send(
    moto: Moto, services: dict[str, str]
) -> None:
    # Given an operator paused a service (which notifies)
    assert moto.autopilot("pause", "prod/web").code == 0

    # When an event is sent next
    result = moto.send(EVENTS / "schedule_unpark.json")

    # Then the pause's notification is not among what this send printed
    subjects = [line["subject"] for line in result.of_type("notification")]
    assert not [s for s in subjects if s.startswith("[autopilot] pause")]
