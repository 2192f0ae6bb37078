"""What canary analysis needs of the local AWS and moto 5.2.5 lacks, added to moto in the
process that runs it (registered in `moto_extensions.install`).

- **CloudWatch percentile statistics.** moto's GetMetricData answers Sum, Average, Minimum,
  Maximum and SampleCount; for a percentile (`p99`, `p95`, `p99.9`) it computes nothing and
  then fails to serialize the answer (a 500 that boto3 retries for seconds). Here a percentile
  is computed from the raw values put in that period (PutMetricData `Value`, or `Values` with
  `Counts`): the nearest-rank percentile. Values sent as a statistic set (`StatisticValues`)
  carry no distribution, so, as in CloudWatch, they give no percentile
  (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Percentiles).
  Sum needed nothing: moto adds up the values of each period, statistic sets included.
- **ECS service revisions.** moto implements no DescribeServiceRevisions. CreateService and
  UpdateService to another task definition of a service whose load balancer names an alternate
  target group (blue/green, linear, canary) record a service revision here, the way ECS
  creates one per deployment: `serviceRevisionArn`, `serviceArn`, `clusterArn`,
  `taskDefinition`, `loadBalancers`, `containerImages` (`containerName`, `image`, and
  `imageDigest` when the image is pinned) and `resolvedConfiguration.loadBalancers`
  (`targetGroupArn`, `productionListenerRule`): the first revision is associated with the
  entry's `targetGroupArn`, each next one with the other target group of the pair, as ECS
  moves green between the two
  (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceRevision.html,
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ResolvedConfiguration.html).
  A revision's id is derived from the service and task definition (`revision_arn`), so the
  samples in events/ can name the ones `autopilot local seed` makes. DescribeServiceRevisions
  answers these, and hands ARNs it does not know to whatever answered before it (another
  extension's revisions), else a `failures` entry with reason MISSING.

ELBv2 (target groups, listener rules with weighted forwards, DescribeTargetGroups'
`LoadBalancerArns`) needed nothing.
"""

from __future__ import annotations

import hashlib
import math
import re
from functools import cache
from typing import Any

_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?)$")
_STORE = "_autopilot_canary_revisions"


def revision_arn(service_arn: str, task_definition_arn: str) -> str:
    """The service revision ECS would name for a deployment of that task definition (here:
    derived from both, so that it is the same on every local run)."""
    number = int(hashlib.sha256(f"{service_arn}|{task_definition_arn}".encode()).hexdigest(), 16)
    prefix, _, path = service_arn.partition(":service/")
    return f"{prefix}:service-revision/{path}/{number % 10**19}"


def nearest_rank(values: list[float], percentile: float) -> float | None:
    """The nearest-rank percentile: the smallest value at or above `percentile`% of them."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(math.ceil(percentile / 100 * len(ordered)), 1)
    return ordered[rank - 1]


# -- CloudWatch ----------------------------------------------------------------------------------


def _install_percentiles() -> None:
    from moto.cloudwatch.models import MetricDatum, Statistics  # noqa: PLC0415 - local only

    original = Statistics.get_statistics_for_type

    def get_statistics_for_type(self: Statistics, stat: str) -> Any:
        found = _PERCENTILE.match(stat)
        if found is None:
            return original(self, stat)
        values = [m.value for m in self.metric_data if isinstance(m, MetricDatum)]
        return nearest_rank(values, float(found[1]))

    Statistics.get_statistics_for_type = get_statistics_for_type  # type: ignore[method-assign]


# -- ECS service revisions -----------------------------------------------------------------------


def revisions_of(backend: Any) -> dict[str, dict[str, Any]]:
    """The service revisions recorded here, by ARN."""
    return _store(backend)


def current_revision(backend: Any, service: Any) -> str:
    """The ARN of the revision of the service's task definition."""
    definition = backend.describe_task_definition(service.task_definition)
    return revision_arn(service.arn, definition.arn)


def _store(backend: Any) -> dict[str, dict[str, Any]]:
    from autopilot_tools.local.moto_ecs_deployments import kept_on  # noqa: PLC0415 - no cycle

    revisions: dict[str, dict[str, Any]] = kept_on(backend, _STORE, dict)
    return revisions


def pair_entry(service: Any) -> dict[str, Any] | None:
    """The service's load balancer entry that names an alternate target group (blue/green,
    linear, canary): a copy."""
    for entry in getattr(service, "load_balancers", None) or []:
        if entry.get("advancedConfiguration", {}).get("alternateTargetGroupArn"):
            return dict(entry)
    return None


def image_digest(image: str) -> str:
    """The digest an image reference is pinned to; empty when it is not."""
    _, at, digest = image.partition("@")
    return digest if at and digest.startswith("sha256:") else ""


def _record(backend: Any, service: Any, previous: dict[str, Any] | None) -> None:
    from moto.core.utils import utcnow  # noqa: PLC0415

    entry = pair_entry(service)
    if entry is None:
        return
    advanced = entry["advancedConfiguration"]
    pair = (entry["targetGroupArn"], advanced["alternateTargetGroupArn"])
    if previous is None:
        target_group = pair[0]
    else:
        [last] = previous["resolvedConfiguration"]["loadBalancers"]
        target_group = pair[1] if last["targetGroupArn"] == pair[0] else pair[0]
    definition = backend.describe_task_definition(service.task_definition)
    arn = revision_arn(service.arn, definition.arn)
    _store(backend)[arn] = {
        "serviceRevisionArn": arn,
        "serviceArn": service.arn,
        "clusterArn": service.cluster_arn,
        "taskDefinition": definition.arn,
        "loadBalancers": [entry],
        "containerImages": [
            {
                "containerName": c["name"],
                "image": c["image"],
                **({"imageDigest": image_digest(c["image"])} if image_digest(c["image"]) else {}),
            }
            for c in definition.container_definitions
        ],
        "resolvedConfiguration": {
            "loadBalancers": [
                {
                    "targetGroupArn": target_group,
                    **(
                        {"productionListenerRule": advanced["productionListenerRule"]}
                        if advanced.get("productionListenerRule")
                        else {}
                    ),
                }
            ]
        },
        "createdAt": utcnow(),
    }


def _current(backend: Any, service: Any) -> dict[str, Any] | None:
    definition = backend.describe_task_definition(service.task_definition)
    return _store(backend).get(revision_arn(service.arn, definition.arn))


def _service(response: Any, name_param: str) -> Any:
    return response.ecs_backend._get_service(
        response._get_param("cluster", "default"), response._get_param(name_param)
    )


def _install_service_revisions() -> None:
    from moto.core.responses import ActionResult  # noqa: PLC0415
    from moto.ecs.responses import EC2ContainerServiceResponse as Ecs  # noqa: PLC0415

    create_service, update_service = Ecs.create_service, Ecs.update_service
    described_before = getattr(Ecs, "describe_service_revisions", None)

    def created(self: Any) -> Any:
        result = create_service(self)
        _record(self.ecs_backend, _service(self, "serviceName"), None)
        return result

    def updated(self: Any) -> Any:
        service = _service(self, "service")
        previous = _current(self.ecs_backend, service)
        result = update_service(self)
        if previous is None or previous["taskDefinition"] != _task_definition(self, service):
            _record(self.ecs_backend, service, previous)
        return result

    def describe_service_revisions(self: Any) -> Any:
        arns: list[str] = self._get_param("serviceRevisionArns") or []
        mine = _store(self.ecs_backend)
        found = [mine[a] for a in arns if a in mine]
        failures = [{"arn": a, "reason": "MISSING"} for a in arns if a not in mine]
        if described_before is not None and failures:
            # Whatever answered before knows the others (and calls mine missing).
            answered: Any = described_before(self).result
            found += answered.get("serviceRevisions", [])
            failures = [f for f in answered.get("failures", []) if f.get("arn") not in mine]
        return ActionResult({"serviceRevisions": found, "failures": failures})

    Ecs.create_service = created  # type: ignore[method-assign]
    Ecs.update_service = updated  # type: ignore[method-assign]
    Ecs.describe_service_revisions = describe_service_revisions  # type: ignore[attr-defined]


def _task_definition(response: Any, service: Any) -> str:
    return str(response.ecs_backend.describe_task_definition(service.task_definition).arn)


@cache
def install() -> None:
    _install_percentiles()
    _install_service_revisions()
