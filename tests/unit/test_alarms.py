"""Which services an alarm speaks for: its `autopilot:service` tag (else its metrics'
ClusterName and ServiceName dimensions), the services naming it as an ECS deployment alarm, and
never any service when it is Application Auto Scaling's."""

from __future__ import annotations

from collections.abc import Collection, Mapping

import pytest

from autopilot.domain.alarms import (
    InvalidAlarmTagError,
    alarm_services,
    is_scaling_alarm,
    service_location,
)

ACCOUNT = "123456789012"
REGION = "us-east-1"
PREFIX = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service"
WEB = f"{PREFIX}/prod/web"
API = f"{PREFIX}/prod/api"
STAGING_WEB = f"{PREFIX}/staging/web"
WEB_DIMENSIONS = {"ClusterName": "prod", "ServiceName": "web"}


# What AWS puts in a scaling alarm's actions (target tracking adds `:createdBy/<uuid>`).
TARGET_TRACKING_POLICY = (
    f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:scalingPolicy:c7bdd300-54f8-4098-9bb8-96d4cf6c43a8:"
    "resource/ecs/service/prod/web:policyName/cpu-target:createdBy/3b61b517-3b27-45f7"
)
STEP_POLICY = (
    f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:scalingPolicy:6d8972f3-efc8-437c-92d1-6270f29a66e7:"
    "resource/ecs/service/prod/web:policyName/scale-out-on-queue"
)
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:on-call"


def services(
    tag: str | None = None,
    *dimensions: Mapping[str, str],
    region: str = REGION,
    name: str = "prod-web-cpu-high",
    actions: tuple[str, ...] = (TOPIC,),
    deployment_alarms: Mapping[str, Collection[str]] | None = None,
) -> list[str]:
    tags = {"team": "storefront"} if tag is None else {"autopilot:service": tag}
    return alarm_services(
        name=name,
        tags=tags,
        dimensions=dimensions,
        actions=actions,
        deployment_alarms=deployment_alarms or {},
        account=ACCOUNT,
        region=region,
    )


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


# -- Application Auto Scaling's alarms ---------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "TargetTracking-service/prod/web-AlarmHigh-20bb8b0b-13e1-4e21-89bb-0e22740d764b",
        "TargetTracking-service/prod/web-AlarmLow-cea94bce-7568-4219-8ba2-920fa6c77e1b",
    ],
)
def test_target_tracking_alarms_are_tied_to_no_service_by_their_name(name: str) -> None:
    # Given the two alarms a target tracking policy creates on prod/web, with its dimensions,
    # even with no actions known (the alarm was read from its event only)
    # When their services are read
    found = services(None, WEB_DIMENSIONS, name=name, actions=())

    # Then they speak for no service: they mean "load changed", not "this deploy is bad"
    assert found == []


@pytest.mark.parametrize("policy", [TARGET_TRACKING_POLICY, STEP_POLICY])
def test_an_alarm_acting_on_a_scaling_policy_is_tied_to_no_service(policy: str) -> None:
    # Given a freely named alarm on prod/web's CPU whose action is a scaling policy (step
    # scaling acts through alarms people create), next to a notification topic
    # When its services are read
    found = services(None, WEB_DIMENSIONS, name="web-scale-out", actions=(TOPIC, policy))

    # Then it speaks for no service
    assert found == []


def test_a_scaling_alarm_stays_untied_even_when_tagged_or_listed_as_a_deployment_alarm() -> None:
    # Given a step scaling alarm someone tagged for prod/web and listed in its deployment alarms
    # When its services are read
    found = services(
        "prod/web",
        WEB_DIMENSIONS,
        name="web-scale-out",
        actions=(STEP_POLICY,),
        deployment_alarms={WEB: ("web-scale-out",)},
    )

    # Then it still speaks for none: scaling alarms never roll back and never hold a deploy
    assert found == []


@pytest.mark.parametrize(
    ("name", "actions", "scaling"),
    [
        ("TargetTracking-service/prod/web-AlarmHigh-1", (), True),
        ("prod-web-cpu-high", (TOPIC,), False),
        ("prod-web-cpu-high", (STEP_POLICY,), True),
        ("prod-web-cpu-high", ("arn:aws-cn:autoscaling:cn-north-1:1:scalingPolicy:x",), True),
        # EC2 Auto Scaling's simple policies share the ARN shape: a scaling alarm too
        (
            "asg-cpu",
            (
                "arn:aws:autoscaling:us-east-1:1:scalingPolicy:x:autoScalingGroupName/a:policyName/p",
            ),
            True,
        ),
        # An EC2 action acts on an instance, but scales nothing
        ("ec2-recover", ("arn:aws:automate:us-east-1:ec2:recover",), False),
        ("targettracking-lookalike", (TOPIC,), False),
    ],
)
def test_what_counts_as_a_scaling_alarm(name: str, actions: tuple[str, ...], scaling: bool) -> None:
    assert is_scaling_alarm(name, actions) is scaling


# -- ECS deployment alarms ---------------------------------------------------------------------


def test_an_alarm_named_in_a_services_deployment_alarms_speaks_for_that_service() -> None:
    # Given an alarm on a load balancer metric (no service dimensions, no tag), named in
    # prod/api's deploymentConfiguration.alarms, and prod/web naming other alarms
    deployment = {API: ("api-p99-latency", "api-5xx"), WEB: ("web-5xx",)}

    # When its services are read
    found = services(
        None,
        {"LoadBalancer": "app/prod/0123"},
        name="api-p99-latency",
        deployment_alarms=deployment,
    )

    # Then it is prod/api alone
    assert found == [API]


def test_deployment_alarms_add_to_the_tag_and_to_the_dimensions() -> None:
    # Given an alarm tagged for prod/api, on prod/web's metrics, named by staging/web's
    # deployment configuration
    deployment = {STAGING_WEB: ("prod-web-cpu-high",)}

    # When its services are read, with the tag and without it
    tagged = services("prod/api", WEB_DIMENSIONS, deployment_alarms=deployment)
    untagged = services(None, WEB_DIMENSIONS, deployment_alarms=deployment)

    # Then the deployment link is kept either way; the tag still replaces the dimensions
    assert tagged == [API, STAGING_WEB]
    assert untagged == [WEB, STAGING_WEB]


def test_a_service_is_located_by_its_arn() -> None:
    # Given a service ARN in another account and region
    # When its account and region are read
    # Then they are the ARN's (where the alarms about it live)
    assert service_location("arn:aws:ecs:eu-west-1:210987654321:service/prod/web") == (
        "210987654321",
        "eu-west-1",
    )
    with pytest.raises(ValueError, match="not a service ARN"):
        service_location("arn:aws:ecs:eu-west-1:210987654321:cluster/prod")
