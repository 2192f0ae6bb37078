"""A small, realistic fleet on the moto server: two clusters, five services, four repositories.

Image builds are deterministic (moto's digest is the SHA-256 of the manifest), so the digests
in events/ match what this module pushes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import boto3

from autopilot_tools.local.runner import ACCOUNT, REGION, LocalRunnerError

REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
_SECRETS = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}"
_MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"


def manifest(repository: str, build: int) -> str:
    """The manifest of build N of a repository (a stand-in: one config, one layer)."""
    seed = f"{repository}#{build}".encode()
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": _MANIFEST_TYPE,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 1469,
                "digest": "sha256:" + hashlib.sha256(b"config:" + seed).hexdigest(),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": 31_357_624,
                    "digest": "sha256:" + hashlib.sha256(b"layer:" + seed).hexdigest(),
                }
            ],
        },
        separators=(",", ":"),
    )


def digest_of(repository: str, build: int) -> str:
    return "sha256:" + hashlib.sha256(manifest(repository, build).encode()).hexdigest()


def push_image(repository: str, tag: str, build: int) -> str:
    """Put build N in ECR under `tag` (moving the tag if it points elsewhere); its digest.

    Every build also keeps an immutable `build-N` tag, as CI pipelines do: without one, moto
    drops an image whose last tag moves away (real ECR would keep it untagged).
    """
    ecr = boto3.client("ecr")
    digest = digest_of(repository, build)
    for each in (f"build-{build}", tag):
        try:
            ecr.put_image(
                repositoryName=repository,
                imageManifest=manifest(repository, build),
                imageManifestMediaType=_MANIFEST_TYPE,
                imageTag=each,
                imageDigest=digest,
            )
        except ecr.exceptions.ImageAlreadyExistsException:
            continue
    return digest


def next_build(repository: str) -> int:
    """One more than the highest `build-N` the repository holds (1 for an empty one)."""
    ecr = boto3.client("ecr")
    builds = [0]
    for page in ecr.get_paginator("list_images").paginate(repositoryName=repository):
        for listed in page.get("imageIds", []):
            number = listed.get("imageTag", "").removeprefix("build-")
            if listed.get("imageTag", "").startswith("build-") and number.isdigit():
                builds.append(int(number))
    return max(builds) + 1


def push_new_build(repository: str, tag: str) -> tuple[int, str]:
    """Push the repository's next build under `tag`, as CI would; its build number and digest.
    A repository that does not exist is refused, as ECR refuses a push to one."""
    ecr = boto3.client("ecr")
    try:
        ecr.describe_repositories(repositoryNames=[repository])
    except ecr.exceptions.RepositoryNotFoundException:
        names = sorted(
            r["repositoryName"] for r in ecr.describe_repositories().get("repositories", [])
        )
        raise LocalRunnerError(
            f"no repository {repository} in the local ECR: push to one of "
            f"{', '.join(names) or 'none (run autopilot local seed first)'}"
        ) from None
    build = next_build(repository)
    return build, push_image(repository, tag, build)


@dataclass(frozen=True)
class ServiceSeed:
    cluster: str
    name: str
    family: str
    containers: tuple[tuple[str, str], ...]  # (container name, image)
    tags: tuple[tuple[str, str], ...] = ()
    desired: int = 2


def image(repository: str, build: int) -> str:
    return f"{REGISTRY}/{repository}@{digest_of(repository, build)}"


SERVICES = (
    ServiceSeed(
        "prod",
        "web",
        "web",
        (("web", image("web", 1)), ("log-router", f"{REGISTRY}/log-router:2.1")),
        (("autopilot:track", "tag:main"), ("team", "storefront")),
        desired=4,
    ),
    ServiceSeed(
        "staging",
        "web",
        "web-staging",
        (("web", image("web", 1)),),
        (
            ("autopilot:track", "tag:main"),
            ("autopilot:containers", "web"),
            ("autopilot:schedule", "nightly"),
        ),
    ),
    ServiceSeed(
        "prod",
        "web-legacy",
        "web-legacy",
        (("web", f"{REGISTRY}/web:main"),),
        (("team", "storefront"),),
    ),
    ServiceSeed(
        "prod",
        "api",
        "api",
        (("api", image("api", 140)),),
        (("autopilot:track", "semver:1.4 - 1"), ("autopilot:schedule", "peak")),
        desired=3,
    ),
    ServiceSeed(
        "staging",
        "worker",
        "worker",
        (("worker", image("worker", 1)),),
        (("autopilot:track", "glob:release-+"), ("autopilot:schedule", "nightly")),
        desired=1,
    ),
)

INITIAL_IMAGES = (
    ("web", "main", 1),
    ("api", "1.4.0", 140),
    ("worker", "release-1", 1),
    ("log-router", "2.1", 1),
)


def task_definition(seed: ServiceSeed) -> dict[str, Any]:
    """A Fargate task definition with the fields a careless clone would lose."""
    containers = []
    for index, (name, container_image) in enumerate(seed.containers):
        containers.append(
            {
                "name": name,
                "image": container_image,
                "essential": index == 0,
                "cpu": 256 if index == 0 else 64,
                "memory": 512 if index == 0 else 128,
                "portMappings": [{"containerPort": 8080, "protocol": "tcp"}] if index == 0 else [],
                "environment": [
                    {"name": "APP_ENV", "value": seed.cluster},
                    {"name": "FEATURE_FLAGS", "value": ""},
                ],
                "secrets": [
                    {
                        "name": "DATABASE_URL",
                        "valueFrom": f"{_SECRETS}:secret:{seed.family}-db",
                    }
                ],
                "mountPoints": [{"sourceVolume": "scratch", "containerPath": "/scratch"}],
            }
        )
    return {
        "family": seed.family,
        "taskRoleArn": f"arn:aws:iam::{ACCOUNT}:role/{seed.family}-task",
        "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "512",
        "memory": "1024",
        "containerDefinitions": containers,
        "volumes": [{"name": "scratch"}],
        "ephemeralStorage": {"sizeInGiB": 30},
        "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
        "tags": [{"key": "team", "value": "platform"}, {"key": "cost-center", "value": "cc-1234"}],
    }


def _create_service(seed: ServiceSeed, subnet: str, group: str, **extra: Any) -> str:
    """Register the seed's task definition and create its Fargate service; its ARN."""
    ecs = boto3.client("ecs")
    definition = ecs.register_task_definition(**task_definition(seed))["taskDefinition"]
    return str(
        ecs.create_service(
            cluster=seed.cluster,
            serviceName=seed.name,
            taskDefinition=definition["taskDefinitionArn"],
            desiredCount=seed.desired,
            launchType="FARGATE",
            networkConfiguration={
                "awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}
            },
            tags=[{"key": k, "value": v} for k, v in seed.tags],
            **extra,
        )["service"]["serviceArn"]
    )


def seed_fleet(*, samples: bool = False) -> dict[str, str]:
    """Create the fleet; returns service label -> service ARN. Run inside the runner's AWS env.
    `samples`: also what the samples in events/ name (`autopilot local seed` does)."""
    ec2, ecr, ecs = boto3.client("ec2"), boto3.client("ecr"), boto3.client("ecs")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="services", Description="services", VpcId=vpc)
    for repository in ("web", "api", "worker", "log-router"):
        ecr.create_repository(repositoryName=repository)
    for repository, tag, build in INITIAL_IMAGES:
        push_image(repository, tag, build)
    for cluster in ("prod", "staging"):
        ecs.create_cluster(clusterName=cluster)
    arns: dict[str, str] = {}
    for seed in SERVICES:
        arns[f"{seed.cluster}/{seed.name}"] = _create_service(seed, subnet, group["GroupId"])
    # Two services scale with Application Auto Scaling: parking must save and restore that too.
    autoscaling = boto3.client("application-autoscaling")
    for resource, low, high in (("service/staging/web", 1, 4), ("service/prod/api", 2, 10)):
        autoscaling.register_scalable_target(
            ServiceNamespace="ecs",
            ResourceId=resource,
            ScalableDimension="ecs:service:DesiredCount",
            MinCapacity=low,
            MaxCapacity=high,
        )
    if samples:
        arns |= seed_sample_fixtures(subnet, group["GroupId"])
    return arns


# -- what the samples in events/ need -------------------------------------------------------

# Pushed by CI, their events not sent yet: events/ecr_image_push_semver.json (api 1.4.2) and the
# scan samples (payments build 2) are about these images.
SAMPLE_IMAGES = (("api", "1.4.2", 142), ("payments", "main", 2))
PAYMENTS = "payments"


def seed_sample_fixtures(subnet: str, group: str) -> dict[str, str]:
    """What the samples in events/ name, beyond the core fleet: prod/payments (blue/green through
    CodeDeploy `AppECS-prod-payments` / `DgpECS-prod-payments`, scan-gated at HIGH), the composite
    alarm `prod-web-degraded` tied to prod/web by its tag, and two pushed images."""
    ecr = boto3.client("ecr")
    ecr.create_repository(repositoryName=PAYMENTS, imageScanningConfiguration={"scanOnPush": True})
    push_image(PAYMENTS, "main", 1)
    for repository, tag, build in SAMPLE_IMAGES:
        push_image(repository, tag, build)
    # Scan on push: moto's basic scan of payments build 2 finds one HIGH (a fixed answer).
    ecr.start_image_scan(repositoryName=PAYMENTS, imageId={"imageDigest": digest_of(PAYMENTS, 2)})
    seed = ServiceSeed(
        "prod",
        PAYMENTS,
        PAYMENTS,
        ((PAYMENTS, image(PAYMENTS, 1)),),
        (("autopilot:track", "tag:main"), ("autopilot:scan", "HIGH"), ("team", "payments")),
    )
    service_arn = _create_service(
        seed,
        subnet,
        group,
        deploymentController={"type": "CODE_DEPLOY"},
        loadBalancers=[
            {
                "targetGroupArn": f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:"
                "targetgroup/payments-blue/0123456789abcdef",
                "containerName": PAYMENTS,
                "containerPort": 8080,
            }
        ],
    )
    codedeploy = boto3.client("codedeploy")
    codedeploy.create_application(applicationName="AppECS-prod-payments", computePlatform="ECS")
    codedeploy.create_deployment_group(
        applicationName="AppECS-prod-payments",
        deploymentGroupName="DgpECS-prod-payments",
        serviceRoleArn=f"arn:aws:iam::{ACCOUNT}:role/codedeploy-ecs",
        ecsServices=[{"serviceName": seed.name, "clusterName": seed.cluster}],
    )
    boto3.client("cloudwatch").put_composite_alarm(
        AlarmName="prod-web-degraded",
        AlarmRule='ALARM("prod-web-cpu-high") OR ALARM("prod-web-resource-pressure")',
        AlarmActions=[ON_CALL_TOPIC],
        Tags=[{"Key": "autopilot:service", "Value": "prod/web"}],
    )
    return {"prod/payments": service_arn}


def running_images(service_arn: str) -> dict[str, str]:
    """Container name -> image of the task definition the service runs now."""
    ecs = boto3.client("ecs")
    cluster = service_arn.rsplit("/", 2)[-2]
    service = ecs.describe_services(cluster=cluster, services=[service_arn])["services"][0]
    definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])
    return {c["name"]: c["image"] for c in definition["taskDefinition"]["containerDefinitions"]}


def desired_count(service_arn: str) -> int:
    cluster = service_arn.rsplit("/", 2)[-2]
    [service] = boto3.client("ecs").describe_services(cluster=cluster, services=[service_arn])[
        "services"
    ]
    return int(service["desiredCount"])


def scalable_target(service_arn: str) -> tuple[int, int, bool] | None:
    """(min, max, any scaling suspended) of the service's scalable target, if it has one."""
    resource = "service/" + "/".join(service_arn.rsplit("/", 2)[-2:])
    targets = boto3.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[resource]
    )["ScalableTargets"]
    if not targets:
        return None
    suspended = targets[0].get("SuspendedState", {})
    return targets[0]["MinCapacity"], targets[0]["MaxCapacity"], any(suspended.values())


# -- alarms -------------------------------------------------------------------------------------

ON_CALL_TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:on-call"


def put_alarm(
    name: str,
    cluster: str,
    service: str,
    *,
    dimensions: dict[str, str] | None = None,
    namespace: str = "AWS/ECS",
    metric: str = "CPUUtilization",
) -> str:
    """An alarm a person made: on the service's metric (ClusterName/ServiceName), or with
    `dimensions` on another one; it notifies on-call. Returns its ARN; it starts in OK."""
    cloudwatch = boto3.client("cloudwatch")
    shown = (
        dimensions if dimensions is not None else {"ClusterName": cluster, "ServiceName": service}
    )
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        AlarmDescription=f"{cluster}/{service}: {metric} too high",
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in shown.items()],
        Statistic="Average",
        Period=300,
        EvaluationPeriods=1,
        Threshold=80.0,
        ComparisonOperator="GreaterThanThreshold",
        AlarmActions=[ON_CALL_TOPIC],
    )
    [alarm] = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return str(alarm["AlarmArn"])


def set_alarm_state(name: str, state: str) -> None:
    """What CloudWatch does when a metric crosses the threshold (moto emits no event for it)."""
    boto3.client("cloudwatch").set_alarm_state(
        AlarmName=name, StateValue=state, StateReason=f"set to {state} by the story"
    )


def scale_on_cpu(cluster: str, service: str, target: float = 50.0) -> tuple[str, str]:
    """A target tracking policy on the service's average CPU (its scalable target must exist);
    returns the names of the AlarmHigh and AlarmLow alarms Application Auto Scaling made."""
    response = boto3.client("application-autoscaling").put_scaling_policy(
        PolicyName="cpu-target",
        ServiceNamespace="ecs",
        ResourceId=f"service/{cluster}/{service}",
        ScalableDimension="ecs:service:DesiredCount",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": target,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
            },
        },
    )
    names = [a["AlarmName"] for a in response.get("Alarms", [])]
    [high] = [n for n in names if "-AlarmHigh-" in n]
    [low] = [n for n in names if "-AlarmLow-" in n]
    return high, low


def set_deployment_alarms(service_arn: str, names: list[str]) -> None:
    """Name alarms in the service's deploymentConfiguration (ECS watches them during a rollout)."""
    cluster = service_arn.rsplit("/", 2)[-2]
    boto3.client("ecs").update_service(
        cluster=cluster,
        service=service_arn,
        deploymentConfiguration={"alarms": {"alarmNames": names, "enable": True, "rollback": True}},
    )


def record_scan(repository: str, digest: str, counts: dict[str, int]) -> None:
    """What ECR's scan of the image found, as DescribeImageScanFindings will answer it.

    moto answers a fixed finding for any scanned image and keeps the first custom answer per
    image for good, so a rescan could never change it: the result is set on moto's backend
    directly (the moto server runs in this process, locally and in the tests)."""
    from datetime import UTC, datetime  # noqa: PLC0415

    from moto.ecr.models import ecr_backends  # noqa: PLC0415 - moto: local only

    image = ecr_backends[ACCOUNT][REGION].repositories[repository]._get_image(None, digest)
    image.last_scan = datetime.now(UTC)
    image.scan_finding_results[json.dumps({"imageDigest": digest})] = {
        "registryId": ACCOUNT,
        "repositoryName": repository,
        "imageId": {"imageDigest": digest},
        "imageScanStatus": {"status": "COMPLETE", "description": "scanned (local)"},
        "imageScanFindings": {"findingSeverityCounts": dict(counts)},
    }
