"""A small, realistic fleet on the moto server: two clusters, five services, four repositories.

Image builds are deterministic (moto's digest is the SHA-256 of the manifest), so the digests
in events/ match what this module pushes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from autopilot_tools.local.runner import ACCOUNT, REGION, LocalRunnerError, function_arn

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
        arns |= seed_cart_mid_deployment(subnet, group["GroupId"])
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


def service_arn(cluster: str, name: str) -> str:
    [service] = boto3.client("ecs").describe_services(cluster=cluster, services=[name])["services"]
    return str(service["serviceArn"])


def production_weights() -> dict[str, int]:
    """prod/cart's production listener rule: target group name -> weight (what ECS shifts)."""
    elbv2 = boto3.client("elbv2")
    [lb] = elbv2.describe_load_balancers(Names=[SHOP])["LoadBalancers"]
    names = {
        g["TargetGroupArn"]: g["TargetGroupName"]
        for g in elbv2.describe_target_groups(Names=list(CART_TARGET_GROUPS))["TargetGroups"]
    }
    listeners = elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    [production] = [x for x in listeners if x["Port"] == 80]
    for rule in elbv2.describe_rules(ListenerArn=production["ListenerArn"])["Rules"]:
        for action in rule["Actions"]:
            groups = action.get("ForwardConfig", {}).get("TargetGroups", [])
            if groups:
                return {names[g["TargetGroupArn"]]: int(g.get("Weight", 0)) for g in groups}
    return {}


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


# -- canary analysis: prod/cart behind an Application Load Balancer -----------------------------
#
# prod/cart deploys blue/green behind the ALB `shop`: two target groups, a production listener
# (port 80) whose rule forwards to both by weight, and a test listener (port 8080). Its
# `autopilot:canary` tag asks for analysis. The load is synthetic: each minute, each target
# group serves requests whose 5XX rate and latency are properties of the image the revision it
# serves runs (a bad build is slower and fails more), published as the ALB would publish them
# (AWS/ApplicationELB, dimensions TargetGroup and LoadBalancer). Nothing in the automation
# knows which build is bad: it sees only the metrics.

CART = "cart"
CART_TARGET_GROUPS = ("cart-primary", "cart-alternate")
SHOP = "shop"
CART_LOAD_STARTS = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)  # the load the samples judge


@dataclass(frozen=True, slots=True)
class Behaviour:
    """How an image serves: its share of 5XX answers, and its response times as (seconds,
    share of requests in percent)."""

    error_rate: float
    latency: tuple[tuple[float, int], ...]
    starts: bool = True  # False: its tasks exit at start (ECS's circuit breaker sees them fail)


HEALTHY = Behaviour(0.002, ((0.05, 60), (0.1, 30), (0.18, 9), (0.25, 1)))
BROKEN = Behaviour(0.08, ((0.2, 40), (0.6, 45), (0.9, 14), (1.5, 1)))
CRASHES = Behaviour(1.0, ((0.0, 100),), starts=False)
# Builds of cart that are bad, as a property of the image (a bug its tests missed).
BAD_CART_BUILDS = frozenset({3})
# Builds whose tasks exit as they start (a missing setting), whatever service runs them.
CRASHING_BUILDS = frozenset({("web", 66), (CART, 66)})


def behaviour(digest: str) -> Behaviour:
    if digest in {digest_of(repository, build) for repository, build in CRASHING_BUILDS}:
        return CRASHES
    bad = {digest_of(CART, build) for build in BAD_CART_BUILDS}
    return BROKEN if digest in bad else HEALTHY


@dataclass(frozen=True, slots=True)
class CartLoadBalancing:
    load_balancer: str  # ARN
    primary: str  # target group ARNs: the service's targetGroupArn
    alternate: str  # and its advancedConfiguration.alternateTargetGroupArn


def cart_load_balancing() -> CartLoadBalancing:
    elbv2 = boto3.client("elbv2")
    [lb] = elbv2.describe_load_balancers(Names=[SHOP])["LoadBalancers"]
    groups = elbv2.describe_target_groups(Names=list(CART_TARGET_GROUPS))["TargetGroups"]
    by_name = {g["TargetGroupName"]: g["TargetGroupArn"] for g in groups}
    return CartLoadBalancing(lb["LoadBalancerArn"], *(by_name[n] for n in CART_TARGET_GROUPS))


def seed_cart(subnet: str, group: str, *, gated: bool = False) -> str:
    """prod/cart on build 1 of cart, following `main`, asking for canary analysis, deployed
    blue/green behind the ALB `shop`; its ARN. `gated`: a CANARY deployment instead, which
    waits for approval after test traffic and has the stack's canary hook judge its canary
    (`GATED_CART`)."""
    ec2, elbv2 = boto3.client("ec2"), boto3.client("elbv2")
    vpc = ec2.describe_subnets(SubnetIds=[subnet])["Subnets"][0]["VpcId"]
    zones = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24", AvailabilityZone=f"{REGION}{z}")
        for n, z in ((11, "a"), (12, "b"))
    ]
    lb = elbv2.create_load_balancer(
        Name=SHOP, Subnets=[z["Subnet"]["SubnetId"] for z in zones], SecurityGroups=[group]
    )["LoadBalancers"][0]["LoadBalancerArn"]
    primary, alternate = (
        elbv2.create_target_group(
            Name=name, Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip"
        )["TargetGroups"][0]["TargetGroupArn"]
        for name in CART_TARGET_GROUPS
    )
    rules = []
    for port, weights in ((80, (100, 0)), (8080, (0, 100))):
        listener = elbv2.create_listener(
            LoadBalancerArn=lb,
            Protocol="HTTP",
            Port=port,
            DefaultActions=[
                {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}
            ],
        )["Listeners"][0]["ListenerArn"]
        forward = [
            {"TargetGroupArn": arn, "Weight": weight}
            for arn, weight in zip((primary, alternate), weights, strict=True)
        ]
        rules.append(
            elbv2.create_rule(
                ListenerArn=listener,
                Priority=1,
                Conditions=[{"Field": "path-pattern", "Values": ["/*"]}],
                Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": forward}}],
            )["Rules"][0]["RuleArn"]
        )
    boto3.client("ecr").create_repository(repositoryName=CART)
    push_image(CART, "main", 1)
    tags = (("autopilot:track", "tag:main"), ("autopilot:canary", "on"), ("team", "checkout"))
    seed = ServiceSeed(
        "prod",
        CART,
        CART,
        ((CART, image(CART, 1)), ("log-router", f"{REGISTRY}/log-router:2.1")),
        (*tags, ("autopilot:approve", "on")) if gated else tags,
        desired=4,
    )
    return _create_service(
        seed,
        subnet,
        group,
        deploymentConfiguration=GATED_CART
        if gated
        else {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 10},
        loadBalancers=[
            {
                "targetGroupArn": primary,
                "containerName": CART,
                "containerPort": 8080,
                "advancedConfiguration": {
                    "alternateTargetGroupArn": alternate,
                    "productionListenerRule": rules[0],
                    "testListenerRule": rules[1],
                    "roleArn": f"arn:aws:iam::{ACCOUNT}:role/ecsInfrastructureRoleForLoadBalancers",
                },
            }
        ],
    )


# A canary of 10% for 5 minutes, judged by the stack's canary hook, after an approval gate that
# rolls back when nobody answers within the hour; 5 minutes of bake time.
GATED_CART: dict[str, Any] = {
    "strategy": "CANARY",
    "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 5},
    "bakeTimeInMinutes": 5,
    "lifecycleHooks": [
        {
            "targetType": "PAUSE",
            "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
            "timeoutConfiguration": {"timeoutInMinutes": 60, "action": "ROLLBACK"},
        },
        {
            "hookTargetArn": function_arn("CanaryHookFunction"),
            "roleArn": f"arn:aws:iam::{ACCOUNT}:role/autopilot-local-CanaryHookRole",
            "lifecycleStages": ["PRODUCTION_TRAFFIC_SHIFT"],
        },
    ],
}


def seed_cart_alone(*, gated: bool = False) -> str:
    """prod/cart (see `seed_cart`) in a network of its own, next to whatever else is seeded."""
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="cart", Description="cart", VpcId=vpc)
    boto3.client("ecs").create_cluster(clusterName="prod")  # there already, or made
    return seed_cart(subnet, group["GroupId"], gated=gated)


def deploy_cart(service_arn: str, build: int) -> str:
    """What ECS's blue/green deployment does when a pipeline deploys build N: a revision of the
    running task definition with that cart image, the service updated to it (locally, the new
    service revision is associated with the target group blue is not on). Its task definition."""
    ecs = boto3.client("ecs")
    push_image(CART, "main", build)
    current = ecs.describe_services(cluster="prod", services=[service_arn])["services"][0]
    definition = ecs.describe_task_definition(taskDefinition=current["taskDefinition"])
    fields = {
        k: v
        for k, v in definition["taskDefinition"].items()
        if k in set(task_definition(SERVICES[0]))
    }
    for container in fields["containerDefinitions"]:
        if container["name"] == CART:
            container["image"] = image(CART, build)
    arn = ecs.register_task_definition(**fields)["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(cluster="prod", service=service_arn, taskDefinition=arn)
    return str(arn)


def publish_load(
    load_balancer: str,
    served: Mapping[str, tuple[str, int]],
    start: datetime,
    minutes: int,
) -> None:
    """`minutes` of synthetic load from `start`: target group ARN -> (the digest of the image it
    serves, requests a minute), published as the ALB publishes its metrics."""
    lb = load_balancer.split(":loadbalancer/", 1)[1]
    data: list[dict[str, Any]] = []
    for minute in range(minutes):
        at = start + timedelta(minutes=minute)
        for target_group, (digest, requests) in served.items():
            if requests <= 0:
                continue  # a target group that served nothing reports nothing
            how = behaviour(digest)
            dimensions = [
                {"Name": "TargetGroup", "Value": target_group.split(":", 5)[5]},
                {"Name": "LoadBalancer", "Value": lb},
            ]
            data.append(
                {
                    "MetricName": "RequestCount",
                    "Dimensions": dimensions,
                    "Timestamp": at,
                    "Value": float(requests),
                    "Unit": "Count",
                }
            )
            errors = round(requests * how.error_rate)
            if errors:  # the ALB reports a 5XX count only when there is one
                data.append(
                    {
                        "MetricName": "HTTPCode_Target_5XX_Count",
                        "Dimensions": dimensions,
                        "Timestamp": at,
                        "Value": float(errors),
                        "Unit": "Count",
                    }
                )
            data.append(
                {
                    "MetricName": "TargetResponseTime",
                    "Dimensions": dimensions,
                    "Timestamp": at,
                    "Unit": "Seconds",
                    "Values": [v for v, _ in how.latency],
                    "Counts": [float(c) for _, c in how.latency],
                }
            )
    cloudwatch = boto3.client("cloudwatch")
    for first in range(0, len(data), 150):
        cloudwatch.put_metric_data(
            Namespace="AWS/ApplicationELB", MetricData=data[first : first + 150]
        )


def seed_cart_mid_deployment(subnet: str, group: str) -> dict[str, str]:
    """What the lifecycle hook samples in events/ name: prod/cart mid-deployment from build 1
    (blue, production) to build 2 (green, test traffic), with half an hour of load on both from
    CART_LOAD_STARTS."""
    service_arn = seed_cart(subnet, group)
    deploy_cart(service_arn, 2)
    found = cart_load_balancing()
    publish_load(
        found.load_balancer,
        {found.primary: (digest_of(CART, 1), 900), found.alternate: (digest_of(CART, 2), 100)},
        CART_LOAD_STARTS,
        30,
    )
    return {"prod/cart": service_arn}


def lifecycle_hook_invocation(
    service_arn: str,
    stage: str = "POST_TEST_TRAFFIC_SHIFT",
    *,
    execution_id: str = "3a0345ba-b029-404b-890d-7da2a4b266aa",
    started: datetime | None = None,
) -> dict[str, Any]:
    """The invocation ECS sends the hook for the service's deployment in flight (its target
    revision is the one the service was last updated to), as the ECS Developer Guide prints it."""
    from autopilot_tools.local.moto_canary import revision_arn  # noqa: PLC0415

    ecs = boto3.client("ecs")
    cluster = service_arn.rsplit("/", 2)[-2]
    current = ecs.describe_services(cluster=cluster, services=[service_arn])["services"][0]
    deployment = service_arn.replace(":service/", ":service-deployment/") + "/EZe5RNVLH6PPzHXINuP28"
    event: dict[str, Any] = {
        "executionId": execution_id,
        "lifecycleStage": stage,
        "resourceArn": deployment,
        "executionDetails": {
            "serviceArn": service_arn,
            "targetServiceRevisionArn": revision_arn(service_arn, current["taskDefinition"]),
            "testTrafficWeights": {},
            "productionTrafficWeights": {},
        },
    }
    if started is not None:
        event["hookDetails"] = {
            "autopilotCanaryStartedAt": started.isoformat().replace("+00:00", "Z")
        }
    return event
