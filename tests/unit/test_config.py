"""Service configuration, read from the service's own tags."""

from __future__ import annotations

import pytest

from autopilot.domain.config import (
    CodeDeployTarget,
    InvalidConfigError,
    ServiceConfig,
    read_config,
)
from autopilot.domain.tracking import PolicyKind, TrackingPolicy


def test_a_service_without_autopilot_tags_is_not_opted_in() -> None:
    # Given a service with only unrelated tags
    tags = {"team": "storefront", "env": "prod"}

    # When its configuration is read
    config = read_config(tags)

    # Then nothing is configured and the service is not opted in
    assert config == ServiceConfig(track=None, containers=None, codedeploy=None)
    assert not config.opted_in


@pytest.mark.parametrize("value", ["tag:main", "off"])
def test_any_track_tag_opts_the_service_in(value: str) -> None:
    # Given a service with an autopilot:track tag, even one turning tracking off
    tags = {"autopilot:track": value}

    # When its configuration is read
    config = read_config(tags)

    # Then it is opted in with that policy
    assert config.opted_in
    assert config.track is not None
    assert str(config.track) == value


def test_track_is_read_as_a_tracking_policy() -> None:
    # Given a semver policy in its tag-safe spelling
    tags = {"autopilot:track": "semver:1.4 - 1"}

    # When the configuration is read
    config = read_config(tags)

    # Then the policy is parsed
    assert config.track == TrackingPolicy(PolicyKind.SEMVER, "1.4 - 1")


@pytest.mark.parametrize(
    "value",
    [
        "app,worker",
        "app, worker",
        "app worker",
        "  app   worker  ",
        "app,,worker,",
        "app\tworker",
        "app, worker app",
    ],
)
def test_containers_are_separated_by_commas_or_white_space(value: str) -> None:
    # Given an autopilot:containers list written either way
    tags = {"autopilot:track": "tag:main", "autopilot:containers": value}

    # When the configuration is read
    config = read_config(tags)

    # Then it names exactly those containers
    assert config.containers == frozenset({"app", "worker"})


def test_codedeploy_names_application_and_deployment_group() -> None:
    # Given an autopilot:codedeploy tag
    tags = {"autopilot:track": "tag:main", "autopilot:codedeploy": "StoreApp/StoreGroup"}

    # When the configuration is read
    config = read_config(tags)

    # Then application and deployment group are read in that order
    assert config.codedeploy == CodeDeployTarget("StoreApp", "StoreGroup")


def test_without_codedeploy_or_containers_tags_they_are_unset() -> None:
    # Given only a track tag
    tags = {"autopilot:track": "tag:main"}

    # When the configuration is read
    config = read_config(tags)

    # Then no container filter and no CodeDeploy target are configured
    assert config.containers is None
    assert config.codedeploy is None


@pytest.mark.parametrize(
    ("tags", "names"),
    [
        ({"autopilot:track": "main"}, "autopilot:track"),
        ({"autopilot:track": "semver:not a range"}, "semver"),
        ({"autopilot:track": "tag:main", "autopilot:containers": ""}, "autopilot:containers"),
        ({"autopilot:track": "tag:main", "autopilot:containers": " , "}, "autopilot:containers"),
        ({"autopilot:track": "tag:main", "autopilot:codedeploy": "app"}, "autopilot:codedeploy"),
        ({"autopilot:track": "tag:main", "autopilot:codedeploy": "app/"}, "autopilot:codedeploy"),
        ({"autopilot:track": "tag:main", "autopilot:codedeploy": "/grp"}, "autopilot:codedeploy"),
        ({"autopilot:track": "tag:main", "autopilot:codedeploy": " "}, "autopilot:codedeploy"),
        # One unreadable tag spoils the whole configuration, opted in or not.
        ({"autopilot:containers": ","}, "autopilot:containers"),
    ],
)
def test_an_unreadable_tag_makes_the_configuration_invalid(
    tags: dict[str, str], names: str
) -> None:
    # Given a service with one autopilot tag that cannot be read
    # When the configuration is read
    # Then it is refused, with a reason that names the problem
    with pytest.raises(InvalidConfigError, match=names):
        read_config(tags)
