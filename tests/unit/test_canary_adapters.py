"""What canary analysis asks AWS, checked against botocore's own request and answer models
(Stubber): one GetMetricData call for both target groups, with the dimensions and statistics
ALB metrics need; the target groups' load balancers; a service's pair and a revision's images."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from autopilot.adapters.alb_metrics import AlbMetrics
from autopilot.adapters.service_revisions import ServiceRevisions
from autopilot.adapters.target_groups import TargetGroups
from autopilot.domain.canary_hook import (
    ContainerImage,
    Minute,
    ServiceRevision,
    ServiceTraffic,
    TargetGroupPair,
    Window,
)
from autopilot.domain.errors import NotFoundError

ELB = "arn:aws:elasticloadbalancing:us-east-1:123456789012"
GREEN_TG = f"{ELB}:targetgroup/cart-alternate/2f4b1c9e7a3d5e60"
BLUE_TG = f"{ELB}:targetgroup/cart-primary/6d0ecf831eec9f09"
ALB = f"{ELB}:loadbalancer/app/shop/50dc6c495c0c9188"
SERVICE = "arn:aws:ecs:us-east-1:123456789012:service/prod/cart"
REVISION = "arn:aws:ecs:us-east-1:123456789012:service-revision/prod/cart/9313423515462893900"
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
WINDOW = Window(T0, T0 + timedelta(minutes=3))


def client(service: str) -> Any:
    return boto3.client(
        service,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def expected_queries() -> list[dict[str, Any]]:
    queries = []
    for index, target_group in enumerate(
        ["targetgroup/cart-alternate/2f4b1c9e7a3d5e60", "targetgroup/cart-primary/6d0ecf831eec9f09"]
    ):
        for what, metric, stat in (
            ("requests", "RequestCount", "Sum"),
            ("errors", "HTTPCode_Target_5XX_Count", "Sum"),
            ("p99", "TargetResponseTime", "p99"),
            ("p95", "TargetResponseTime", "p95"),
        ):
            queries.append(
                {
                    "Id": f"{what}_{index}",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": "AWS/ApplicationELB",
                            "MetricName": metric,
                            "Dimensions": [
                                {"Name": "TargetGroup", "Value": target_group},
                                {"Name": "LoadBalancer", "Value": "app/shop/50dc6c495c0c9188"},
                            ],
                        },
                        "Period": 60,
                        "Stat": stat,
                    },
                    "ReturnData": True,
                }
            )
    return queries


def series(query_id: str, values: list[float], minutes: list[int]) -> dict[str, Any]:
    return {
        "Id": query_id,
        "Label": query_id,
        "Timestamps": [T0 + timedelta(minutes=m) for m in minutes],
        "Values": values,
        "StatusCode": "Complete",
    }


def test_both_target_groups_are_read_in_one_get_metric_data_call() -> None:
    # Given CloudWatch's answer: green served three minutes (one 5XX minute), blue two; no 5XX
    # datapoint where a minute had none, no percentile where it served nothing
    cloudwatch = client("cloudwatch")
    stubber = Stubber(cloudwatch)
    stubber.add_response(
        "get_metric_data",
        {
            "MetricDataResults": [
                series("requests_0", [100, 90, 110], [0, 1, 2]),
                series("errors_0", [4], [1]),
                series("p99_0", [0.30, 0.25, 0.20], [0, 1, 2]),
                series("p95_0", [0.10, 0.10, 0.10], [0, 1, 2]),
                series("requests_1", [900, 950], [0, 2]),
                series("errors_1", [], []),
                series("p99_1", [0.18, 0.19], [0, 2]),
                series("p95_1", [0.09, 0.09], [0, 2]),
            ]
        },
        {
            "MetricDataQueries": expected_queries(),
            "StartTime": WINDOW.start,
            "EndTime": WINDOW.end,
            "ScanBy": "TimestampAscending",
        },
    )

    # When the minutes of both are asked for
    with stubber:
        found = AlbMetrics(cloudwatch).minutes(
            "app/shop/50dc6c495c0c9188", [GREEN_TG, BLUE_TG], WINDOW
        )
        # Then that was one call, with exactly those queries (Stubber checks the parameters)
        stubber.assert_no_pending_responses()

    # and each side's minutes come back, a minute without a 5XX datapoint failing nothing
    assert found[GREEN_TG] == [
        Minute(100, 0, 0.30, 0.10),
        Minute(90, 4, 0.25, 0.10),
        Minute(110, 0, 0.20, 0.10),
    ]
    assert found[BLUE_TG] == [Minute(900, 0, 0.18, 0.09), Minute(950, 0, 0.19, 0.09)]


def test_the_target_groups_load_balancers_come_from_describe_target_groups() -> None:
    elbv2 = client("elbv2")
    stubber = Stubber(elbv2)
    stubber.add_response(
        "describe_target_groups",
        {
            "TargetGroups": [
                {"TargetGroupArn": GREEN_TG, "LoadBalancerArns": [ALB]},
                {"TargetGroupArn": BLUE_TG, "LoadBalancerArns": [ALB]},
            ]
        },
        {"TargetGroupArns": [GREEN_TG, BLUE_TG]},
    )
    stubber.add_client_error(
        "describe_target_groups", "TargetGroupNotFound", "One or more target groups not found"
    )
    with stubber:
        assert TargetGroups(elbv2).load_balancers([GREEN_TG, BLUE_TG]) == {
            GREEN_TG: (ALB,),
            BLUE_TG: (ALB,),
        }
        # An unknown target group is a fact the analysis misses, said as such
        with pytest.raises(NotFoundError, match="target group not found"):
            TargetGroups(elbv2).load_balancers([GREEN_TG])


def test_a_service_is_read_with_its_tags_and_its_target_group_pair() -> None:
    ecs = client("ecs")
    stubber = Stubber(ecs)
    stubber.add_response(
        "describe_services",
        {
            "services": [
                {
                    "serviceArn": SERVICE,
                    "status": "ACTIVE",
                    "tags": [{"key": "autopilot:canary", "value": "on"}],
                    "loadBalancers": [
                        {
                            "targetGroupArn": BLUE_TG,
                            "containerName": "cart",
                            "containerPort": 8080,
                            "advancedConfiguration": {
                                "alternateTargetGroupArn": GREEN_TG,
                                "productionListenerRule": f"{ELB}:listener-rule/app/shop/1/2/3",
                                "roleArn": "arn:aws:iam::123456789012:role/ecs-elb",
                            },
                        }
                    ],
                }
            ],
            "failures": [],
        },
        {"cluster": "prod", "services": [SERVICE], "include": ["TAGS"]},
    )
    with stubber:
        assert ServiceRevisions(ecs).service(SERVICE) == ServiceTraffic(
            SERVICE, {"autopilot:canary": "on"}, (TargetGroupPair(BLUE_TG, GREEN_TG),)
        )


def test_a_revision_is_read_with_its_resolved_target_group_and_image_digests() -> None:
    ecs = client("ecs")
    stubber = Stubber(ecs)
    digest = "sha256:" + "b" * 64
    stubber.add_response(
        "describe_service_revisions",
        {
            "serviceRevisions": [
                {
                    "serviceRevisionArn": REVISION,
                    "serviceArn": SERVICE,
                    "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/cart:3",
                    "containerImages": [
                        {
                            "containerName": "cart",
                            "image": f"r/cart@{digest}",
                            "imageDigest": digest,
                        }
                    ],
                    "resolvedConfiguration": {"loadBalancers": [{"targetGroupArn": GREEN_TG}]},
                }
            ],
            "failures": [],
        },
        {"serviceRevisionArns": [REVISION]},
    )
    stubber.add_response(
        "describe_service_revisions",
        {"serviceRevisions": [], "failures": [{"arn": REVISION, "reason": "MISSING"}]},
        {"serviceRevisionArns": [REVISION]},
    )
    with stubber:
        assert ServiceRevisions(ecs).revision(REVISION) == ServiceRevision(
            arn=REVISION,
            service_arn=SERVICE,
            task_definition="arn:aws:ecs:us-east-1:123456789012:task-definition/cart:3",
            images=(ContainerImage("cart", f"r/cart@{digest}", digest),),
            target_groups=(GREEN_TG,),
        )
        assert ServiceRevisions(ecs).revision(REVISION) is None
