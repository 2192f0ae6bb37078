"""One factory for every boto3 client: the same retry mode and user agent everywhere.

boto3 honours AWS_ENDPOINT_URL, which is how the local runner points everything at moto.
Clients are built lazily, once per process, and adapters accept an injected one instead.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, cast

from botocore.config import Config

if TYPE_CHECKING:
    from boto3.session import Session
    from mypy_boto3_application_autoscaling import ApplicationAutoScalingClient
    from mypy_boto3_ce import CostExplorerClient
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_codedeploy import CodeDeployClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_ecr import ECRClient
    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_elbv2 import ElasticLoadBalancingv2Client
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_resourcegroupstaggingapi import ResourceGroupsTaggingAPIClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_scheduler import EventBridgeSchedulerClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_ses import SESClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sts import STSClient

# The worst a single call can take (every attempt timing out, plus backoff) must fit in the
# executor's per-action budget (workflows/batch.py); tests/unit/test_timing.py checks it.
MAX_ATTEMPTS = 4
CONNECT_TIMEOUT = 3
READ_TIMEOUT = 10
MAX_BACKOFF_SECONDS = 20  # botocore's cap on the wait between two attempts

_CONFIG = Config(
    retries={"mode": "adaptive", "max_attempts": MAX_ATTEMPTS},
    user_agent_extra="ecs-autopilot",
    connect_timeout=CONNECT_TIMEOUT,
    read_timeout=READ_TIMEOUT,
)


def worst_call_seconds() -> int:
    """Every attempt times out (connect and read) and waits the longest backoff between."""
    attempts = MAX_ATTEMPTS * (CONNECT_TIMEOUT + READ_TIMEOUT)
    return attempts + (MAX_ATTEMPTS - 1) * MAX_BACKOFF_SECONDS


@cache
def _session() -> Session:
    import boto3  # noqa: PLC0415 - deferred so that importing the package stays cheap

    # One session: it caches the service models, which make up most of a client's cost.
    return boto3.session.Session()


def session() -> Session:
    """The shared session (the local runner hooks its events to simulate failures)."""
    return _session()


@cache
def _client(service: str) -> Any:
    return _session().client(service, config=_CONFIG)


def ecs() -> ECSClient:
    return cast("ECSClient", _client("ecs"))


def ecr() -> ECRClient:
    return cast("ECRClient", _client("ecr"))


def cloudformation() -> CloudFormationClient:
    return cast("CloudFormationClient", _client("cloudformation"))


def sts() -> STSClient:
    return cast("STSClient", _client("sts"))


def cloudwatch() -> CloudWatchClient:
    return cast("CloudWatchClient", _client("cloudwatch"))


def codedeploy() -> CodeDeployClient:
    return cast("CodeDeployClient", _client("codedeploy"))


def events() -> EventBridgeClient:
    return cast("EventBridgeClient", _client("events"))


def dynamodb() -> DynamoDBClient:
    return cast("DynamoDBClient", _client("dynamodb"))


def sqs() -> SQSClient:
    return cast("SQSClient", _client("sqs"))


def sns() -> SNSClient:
    return cast("SNSClient", _client("sns"))


def secretsmanager() -> SecretsManagerClient:
    return cast("SecretsManagerClient", _client("secretsmanager"))


def tagging() -> ResourceGroupsTaggingAPIClient:
    return cast("ResourceGroupsTaggingAPIClient", _client("resourcegroupstaggingapi"))


def autoscaling() -> ApplicationAutoScalingClient:
    return cast("ApplicationAutoScalingClient", _client("application-autoscaling"))


def scheduler() -> EventBridgeSchedulerClient:
    return cast("EventBridgeSchedulerClient", _client("scheduler"))


def costexplorer() -> CostExplorerClient:
    return cast("CostExplorerClient", _client("ce"))


def ses() -> SESClient:
    return cast("SESClient", _client("ses"))


def s3() -> S3Client:
    return cast("S3Client", _client("s3"))


def elbv2() -> ElasticLoadBalancingv2Client:
    return cast("ElasticLoadBalancingv2Client", _client("elbv2"))


def region() -> str:
    return str(_session().region_name or "us-east-1")


def reset() -> None:
    """Forget clients and session: the next ones read endpoint and credentials afresh."""
    _client.cache_clear()
    _session.cache_clear()
