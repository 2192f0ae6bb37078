"""Safety settings read from the service's tags: autopilot:rollback, autopilot:bake-minutes and
autopilot:scan."""

from __future__ import annotations

import pytest

from autopilot.domain.config import DEFAULT_BAKE_MINUTES, InvalidConfigError, read_config
from autopilot.domain.decisions import Skip
from autopilot.domain.deploy import managed_config
from autopilot.domain.fleet import Container, Service

TRACK_MAIN = {"autopilot:track": "tag:main"}


def test_without_safety_tags_the_safe_defaults_apply() -> None:
    # Given a service with only a track tag
    # When its configuration is read
    config = read_config(TRACK_MAIN)

    # Then the safe defaults apply
    assert config.rollback is True
    assert config.bake_minutes == DEFAULT_BAKE_MINUTES == 30
    assert config.scan_threshold is None


@pytest.mark.parametrize(
    ("value", "rollback"),
    [
        ("on", True),
        ("ON", True),
        (" true ", True),
        ("yes", True),
        ("off", False),
        ("Off", False),
        ("false", False),
        ("no", False),
        ("", True),
        ("  ", True),
    ],
)
def test_rollback_is_on_or_off(value: str, rollback: bool) -> None:
    # Given an autopilot:rollback tag
    tags = {**TRACK_MAIN, "autopilot:rollback": value}

    # When the configuration is read
    # Then automatic rollback is on or off as written, on when blank
    assert read_config(tags).rollback is rollback


@pytest.mark.parametrize("value", ["maybe", "0", "disabled", "of"])
def test_an_unreadable_rollback_tag_is_invalid(value: str) -> None:
    # Given an autopilot:rollback tag that is neither on nor off
    tags = {**TRACK_MAIN, "autopilot:rollback": value}

    # When the configuration is read
    # Then it is refused, naming the tag
    with pytest.raises(InvalidConfigError, match="autopilot:rollback"):
        read_config(tags)


@pytest.mark.parametrize(
    ("value", "minutes"),
    [("0", 0), ("1", 1), ("45", 45), (" 15 ", 15), ("1440", 1440), ("", 30), (" ", 30)],
)
def test_bake_minutes_are_whole_minutes_from_0_to_a_day(value: str, minutes: int) -> None:
    # Given an autopilot:bake-minutes tag
    tags = {**TRACK_MAIN, "autopilot:bake-minutes": value}

    # When the configuration is read
    # Then the bake window is that long, 30 minutes when blank
    assert read_config(tags).bake_minutes == minutes


@pytest.mark.parametrize("value", ["1441", "-1", "+5", "1.5", "30m", "thirty", "1e3"])
def test_bake_minutes_out_of_range_or_not_whole_are_invalid(value: str) -> None:
    # Given an autopilot:bake-minutes tag that is not 0..1440 whole minutes
    tags = {**TRACK_MAIN, "autopilot:bake-minutes": value}

    # When the configuration is read
    # Then it is refused, naming the tag
    with pytest.raises(InvalidConfigError, match="autopilot:bake-minutes"):
        read_config(tags)


def test_a_superscript_digit_in_bake_minutes_is_invalid_config() -> None:
    # Given an autopilot:bake-minutes tag of a digit Python's isdigit accepts but int refuses
    tags = {**TRACK_MAIN, "autopilot:bake-minutes": "²"}

    # When the configuration is read
    # Then it is refused as invalid configuration (not a crash)
    with pytest.raises(InvalidConfigError, match="autopilot:bake-minutes"):
        read_config(tags)


def test_a_superscript_digit_in_bake_minutes_skips_the_service_as_invalid() -> None:
    # Given a service whose bake-minutes tag is '²'
    svc = Service(
        arn="arn:aws:ecs:us-east-1:123456789012:service/prod/web",
        cluster_arn="arn:aws:ecs:us-east-1:123456789012:cluster/prod",
        name="web",
        status="ACTIVE",
        task_definition_arn="arn:aws:ecs:us-east-1:123456789012:task-definition/web:7",
        containers=(Container("app", "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:main"),),
        tags={**TRACK_MAIN, "autopilot:bake-minutes": "²"},
    )

    # When the automation checks whether it manages the service
    managed = managed_config(svc)

    # Then it is skipped as badly configured
    assert isinstance(managed, Skip)
    assert managed.code == "invalid-config"


@pytest.mark.parametrize(
    ("value", "threshold"),
    [
        ("CRITICAL", "CRITICAL"),
        ("high", "HIGH"),
        (" Medium ", "MEDIUM"),
        ("low", "LOW"),
        ("off", None),
        ("OFF", None),
        ("", None),
    ],
)
def test_scan_names_the_lowest_severity_that_blocks_or_is_off(
    value: str, threshold: str | None
) -> None:
    # Given an autopilot:scan tag, in any case
    tags = {**TRACK_MAIN, "autopilot:scan": value}

    # When the configuration is read
    # Then the threshold is the severity in upper case, or no gate
    assert read_config(tags).scan_threshold == threshold


@pytest.mark.parametrize("value", ["INFORMATIONAL", "UNTRIAGED", "on", "severe", "HIGH,LOW"])
def test_an_unknown_scan_severity_is_invalid(value: str) -> None:
    # Given an autopilot:scan tag that names no gradable severity
    tags = {**TRACK_MAIN, "autopilot:scan": value}

    # When the configuration is read
    # Then it is refused, naming the tag
    with pytest.raises(InvalidConfigError, match="autopilot:scan"):
        read_config(tags)
