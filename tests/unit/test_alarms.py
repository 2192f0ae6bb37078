"""Which services an alarm speaks for: its `autopilot:service` tag, else its metrics'
ClusterName and ServiceName dimensions."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from autopilot.domain.alarms import InvalidAlarmTagError, alarm_services

ACCOUNT = "123456789012"
REGION = "us-east-1"
PREFIX = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service"
WEB = f"{PREFIX}/prod/web"
API = f"{PREFIX}/prod/api"
STAGING_WEB = f"{PREFIX}/staging/web"
WEB_DIMENSIONS = {"ClusterName": "prod", "ServiceName": "web"}


def services(
    tag: str | None = None,
    *dimensions: Mapping[str, str],
    region: str = REGION,
) -> list[str]:
    tags = {"team": "storefront"} if tag is None else {"autopilot:service": tag}
    return alarm_services(tags, dimensions, ACCOUNT, region)


def test_an_alarm_on_a_services_metrics_speaks_for_that_service() -> None:
    # Given an untagged alarm on prod/web's CPU
    # When its services are read
    found = services(None, {**WEB_DIMENSIONS, "Extra": "x"})

    # Then it is prod/web, as a service ARN in the alarm's account and region
    assert found == [WEB]


@pytest.mark.parametrize(
    "dimensions",
    [
        {"ClusterName": "prod"},
        {"ServiceName": "web"},
        {"ClusterName": "prod", "ServiceName": ""},
        {"LoadBalancer": "app/prod-web/0123456789abcdef"},
    ],
)
def test_dimensions_name_a_service_only_with_both_cluster_and_service(
    dimensions: dict[str, str],
) -> None:
    # Given an alarm whose only metric lacks a cluster or a service
    # When its services are read
    # Then it speaks for none
    assert services(None, dimensions) == []


def test_metrics_of_several_services_give_each_once_and_sorted() -> None:
    # Given a metric-math alarm over prod/web twice, staging/web and prod/api
    dimensions = [
        WEB_DIMENSIONS,
        {"ClusterName": "staging", "ServiceName": "web"},
        WEB_DIMENSIONS,
        {"ClusterName": "prod", "ServiceName": "api"},
    ]

    # When its services are read
    found = services(None, *dimensions)

    # Then each service is named once, in a stable order
    assert found == sorted({WEB, API, STAGING_WEB})
    assert found == [API, WEB, STAGING_WEB]


def test_the_service_tag_wins_over_the_dimensions() -> None:
    # Given an alarm on prod/web's metrics, tagged for prod/api
    # When its services are read
    found = services("prod/api", WEB_DIMENSIONS)

    # Then only the tagged service counts
    assert found == [API]


@pytest.mark.parametrize(
    "tag",
    [
        "prod/web,prod/api",
        "prod/web prod/api",
        " prod/api ,\tprod/web\n",
        f"{WEB},prod/api",
        f"{API} {WEB}",
        "prod/web, prod/api, prod/web",
        f"prod/web {WEB} prod/api",
    ],
)
def test_the_tag_lists_services_by_name_or_arn_separated_by_commas_or_white_space(
    tag: str,
) -> None:
    # Given an alarm tagged for prod/web and prod/api, written any of these ways
    # When its services are read
    found = services(tag)

    # Then they are both there, once each, sorted
    assert found == [API, WEB]


def test_an_arn_in_the_tag_is_kept_as_written() -> None:
    # Given an alarm tagged with a service in another account and region
    other = "arn:aws:ecs:eu-west-1:210987654321:service/prod/web"

    # When its services are read
    # Then the ARN is not rewritten to the alarm's account or region
    assert services(other) == [other]


@pytest.mark.parametrize(
    "entry",
    [
        "web",  # no cluster
        "prod/",
        "/web",
        "prod/web/extra",
        f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/web",  # short ARN: no cluster in it
        f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/prod",
        f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web:7",
    ],
)
def test_an_entry_that_is_not_a_service_is_refused(entry: str) -> None:
    # Given an alarm tagged with something that does not name a service, next to a good one
    # When its services are read
    # Then the tag is refused as a whole, naming the tag
    with pytest.raises(InvalidAlarmTagError, match="autopilot:service"):
        services(f"prod/api {entry}")


@pytest.mark.parametrize(
    "entry",
    [
        f"arn:aws:ecs:{REGION}:{ACCOUNT}:service//web",
        f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/prod/",
        f"arn:aws:sqs:{REGION}:{ACCOUNT}:service/prod/web",
    ],
)
def test_an_arn_without_a_cluster_or_service_or_from_another_aws_service_is_refused(
    entry: str,
) -> None:
    # Given an alarm tagged with an ARN that has the right shape but names no ECS service
    # When its services are read
    # Then the tag is refused
    with pytest.raises(InvalidAlarmTagError):
        services(entry)


@pytest.mark.parametrize(
    ("region", "partition"),
    [
        ("us-east-1", "aws"),
        ("eu-west-1", "aws"),
        ("cn-north-1", "aws-cn"),
        ("cn-northwest-1", "aws-cn"),
    ],
)
def test_service_arns_are_in_the_regions_partition(region: str, partition: str) -> None:
    # Given an alarm in this region, by dimension and by tag
    # When its services are read
    by_dimension = services(None, WEB_DIMENSIONS, region=region)
    by_tag = services("prod/web", region=region)

    # Then the ARN is in the region's partition
    expected = [f"arn:{partition}:ecs:{region}:{ACCOUNT}:service/prod/web"]
    assert by_dimension == expected
    assert by_tag == expected


def test_govcloud_service_arns_are_in_the_aws_us_gov_partition() -> None:
    # Given an alarm in a GovCloud region
    # When its services are read
    found = services(None, WEB_DIMENSIONS, region="us-gov-west-1")

    # Then the ARN is in the aws-us-gov partition
    assert found == [f"arn:aws-us-gov:ecs:us-gov-west-1:{ACCOUNT}:service/prod/web"]


def test_an_alarm_with_neither_tag_nor_service_dimensions_speaks_for_no_service() -> None:
    # Given an alarm on some other metric, without the tag
    # When its services are read
    # Then it speaks for none
    assert services(None) == []
