"""Properties of the service configuration read from ECS tags (`read_config`).

Deterministic: `derandomize=True` seeds each test from its own source and `database=None` keeps
no examples between runs, so CI and a laptop try the same examples every time.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autopilot.domain.config import (
    BAKE_MINUTES,
    CODEDEPLOY,
    CONTAINERS,
    ROLLBACK,
    SCAN,
    SEVERITIES,
    TRACK,
    CodeDeployTarget,
    InvalidConfigError,
    ServiceConfig,
    read_config,
)
from autopilot.domain.tracking import PolicyKind, TrackingPolicy

PROPERTY = settings(max_examples=100, deadline=None, derandomize=True, database=None)

AUTOPILOT_KEYS = [TRACK, CONTAINERS, CODEDEPLOY, ROLLBACK, BAKE_MINUTES, SCAN]
# What an ECS tag value may hold: letters, digits, spaces and + - = . _ : / @, up to 256.
ECS_VALUE = re.compile(r"[\w\s+\-=.:/@]{0,256}")
ECS_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 +-=._:/@"
ecs_values = st.text(ECS_CHARS, max_size=40)
# Values close to the readable ones, so generated dicts reach past the first check.
near_misses = st.sampled_from(
    [
        "tag:main",
        "semver:1.4 - 1",
        "semver:= - 0",
        "glob:release-+",
        "off",
        "on",
        "0",
        "1440",
        "1441",
        "0030",
        "HIGH",
        "app/group",
        "/group",
        "web, worker",
        " , ",
        "",
    ]
)
tag_dicts = st.dictionaries(
    st.sampled_from(AUTOPILOT_KEYS) | st.text(max_size=20),
    near_misses | ecs_values | st.text(max_size=40),
    max_size=8,
)

NAME = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=12)
policies = st.one_of(
    st.just(TrackingPolicy(PolicyKind.OFF)),
    st.builds(TrackingPolicy, st.just(PolicyKind.TAG), NAME),
    st.builds(TrackingPolicy, st.just(PolicyKind.GLOB), st.builds(lambda n: f"{n}-+", NAME) | NAME),
    st.builds(
        lambda a, b: TrackingPolicy(PolicyKind.SEMVER, f"{a}.{b} - {a}"),
        st.integers(0, 20),
        st.integers(0, 20),
    ),
    st.builds(
        lambda a, b: TrackingPolicy(PolicyKind.SEMVER, f"{a}.{b}.x"),
        st.integers(0, 20),
        st.integers(0, 20),
    ),
)
configs = st.builds(
    ServiceConfig,
    track=st.none() | policies,
    containers=st.none() | st.frozensets(NAME, min_size=1, max_size=4),
    codedeploy=st.none() | st.builds(CodeDeployTarget, NAME, NAME),
    rollback=st.booleans(),
    bake_minutes=st.integers(0, 24 * 60),
    scan_threshold=st.none() | st.sampled_from(SEVERITIES),
)


def as_tags(config: ServiceConfig) -> dict[str, str]:
    """The ECS tags an operator writes for this configuration."""
    tags = {ROLLBACK: "on" if config.rollback else "off", BAKE_MINUTES: str(config.bake_minutes)}
    if config.track is not None:
        tags[TRACK] = str(config.track)
    if config.containers is not None:
        tags[CONTAINERS] = " ".join(sorted(config.containers))
    if config.codedeploy is not None:
        tags[CODEDEPLOY] = f"{config.codedeploy.application}/{config.codedeploy.deployment_group}"
    if config.scan_threshold is not None:
        tags[SCAN] = config.scan_threshold.lower()
    return tags


@PROPERTY
@given(tag_dicts)
def test_any_tags_are_a_configuration_or_an_invalid_config_error(tags: dict[str, str]) -> None:
    # Given any tags at all on a service
    # When its configuration is read
    # Then it is read, or refused with InvalidConfigError (the service is then left alone):
    # nothing else escapes to crash the planner for the whole fleet
    try:
        config = read_config(tags)
    except InvalidConfigError:
        return
    assert config.opted_in == (TRACK in tags)


@PROPERTY
@given(st.dictionaries(st.sampled_from(AUTOPILOT_KEYS), ecs_values, max_size=6))
def test_tags_within_the_ecs_charset_read_or_fail_with_a_reason(tags: dict[str, str]) -> None:
    # Given autopilot tags whose values only use what ECS allows
    # When the configuration is read
    # Then an error, if any, is InvalidConfigError with a message naming what to fix
    reason = "read"
    try:
        read_config(tags)
    except InvalidConfigError as exc:
        reason = str(exc)
    assert reason


@PROPERTY
@given(configs)
def test_every_configuration_can_be_written_as_ecs_tags_and_read_back(
    config: ServiceConfig,
) -> None:
    # Given any configuration
    # When it is written as the ECS tags an operator would set
    tags = as_tags(config)

    # Then every value fits an ECS tag value, and reading the tags gives the configuration back
    assert all(ECS_VALUE.fullmatch(value) for value in tags.values()), tags
    assert read_config(tags) == config


@PROPERTY
@given(st.integers(0, 24 * 60), st.sampled_from(["", " ", "0", "00"]), st.sampled_from(["", " "]))
def test_bake_minutes_read_any_whole_number_up_to_a_day(
    minutes: int, before: str, after: str
) -> None:
    # Given bake minutes written with blanks or leading zeros around them
    value = f"{before}{minutes}{after}"

    # Then the number is read as it is
    assert read_config({BAKE_MINUTES: value}).bake_minutes == minutes


@PROPERTY
@given(st.integers(24 * 60 + 1, 10**12) | st.integers(max_value=-1))
def test_bake_minutes_outside_a_day_are_refused(minutes: int) -> None:
    # Given bake minutes beyond a day, or negative
    # When read
    # Then they are refused
    with pytest.raises(InvalidConfigError):
        read_config({BAKE_MINUTES: str(minutes)})
