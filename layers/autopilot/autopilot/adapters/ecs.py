"""Amazon ECS: read services and task definitions, register revisions, update services.

Task definition revisions are read through two caches: one per process, and, when a
`RevisionCache` is given, one in the ledger table that outlives the function (the planner reads
a revision, the executor clones it). Why that may be trusted, and why tags are read afresh
before they are copied, is in `adapters/revisions.py`. With both, the executor's happy path of
a rolling deploy is three ECS calls: DescribeServices (always fresh: the executor re-decides on
what ECS shows now), RegisterTaskDefinition and UpdateService.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from autopilot.adapters import clients, service_deployments
from autopilot.adapters.aws_errors import is_code
from autopilot.adapters.revisions import Revision, RevisionCache, immutable_name
from autopilot.domain.capacity import TaskSize
from autopilot.domain.errors import NotFoundError, PermanentFailureError
from autopilot.domain.fleet import Container, EcsDeployment, PauseHook, Service
from autopilot.domain.service_deployments import ServiceDeployment
from autopilot.domain.taskdef import ACTION_TAG
from autopilot.observability import count, logger

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_ecs.type_defs import ServiceTypeDef

_DESCRIBE_BATCH = 10  # DescribeServices takes at most 10 services per call
# A retry looks for the revision an earlier attempt registered among the family's newest ones.
_NEWEST_REVISIONS_CHECKED = 5
# ECS answers an invalid request (unknown revision, bad parameter) with these: never retried.
_INVALID_REQUEST = ("ClientException", "InvalidParameterException")
# Tags copied to a new revision were shown by ECS at most this long before. The planner reads
# them when it queues a deploy; the executor, seconds later, clones without asking again.
TAGS_FRESH_FOR = timedelta(minutes=10)
# What reading or writing the revision cache may raise: AWS's errors, and an item that no
# longer decodes. Either way ECS is asked, as if the cache were not there.
_CACHE_ERRORS = (ClientError, BotoCoreError, ValueError, KeyError, TypeError)

IAM_ACTIONS = {
    "read": ("ecs:DescribeServices", "ecs:DescribeTaskDefinition"),
    "deployment-alarms": ("ecs:DescribeServices",),
    "deploy": (
        "ecs:DescribeServices",
        "ecs:DescribeTaskDefinition",
        "ecs:ListTaskDefinitions",
        "ecs:RegisterTaskDefinition",
        "ecs:TagResource",
        "ecs:UpdateService",
        "iam:PassRole",
    ),
    # A blue/green, linear or canary deployment in flight is stopped with rollback.
    "native-rollback": service_deployments.IAM_ACTIONS,
    # Approval gates: approve or reject a deployment paused at the service's PAUSE hook.
    "approval": service_deployments.CONTINUE_IAM_ACTIONS,
}


def cluster_of(service_arn: str) -> str:
    """`arn:aws:ecs:region:account:service/cluster/name` -> `cluster`."""
    parts = service_arn.split(":", 5)[-1].split("/")
    if len(parts) != 3 or parts[0] != "service":
        raise ValueError(f"not a long-form ECS service ARN: {service_arn}")
    return parts[1]


def _family(task_definition_arn: str) -> str:
    return task_definition_arn.rsplit("/", 1)[-1].rsplit(":", 1)[0]


def _revision_number(task_definition_arn: str) -> int:
    number = task_definition_arn.rsplit(":", 1)[-1]
    return int(number) if number.isdigit() else 0


def pause_hooks(hooks: Iterable[Mapping[str, Any]]) -> tuple[PauseHook, ...]:
    """deploymentConfiguration.lifecycleHooks of targetType PAUSE, with the API's defaults for
    timeoutConfiguration (1440 minutes, ROLLBACK):
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentLifecycleHook.html"""
    found = []
    for hook in hooks:
        if hook.get("targetType") != "PAUSE":
            continue
        timeout = hook.get("timeoutConfiguration") or {}
        found.append(
            PauseHook(
                stages=tuple(hook.get("lifecycleStages", [])),
                timeout_minutes=int(timeout.get("timeoutInMinutes") or 1440),
                timeout_action=timeout.get("action") or "ROLLBACK",
            )
        )
    return tuple(found)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class EcsGateway:
    def __init__(
        self,
        client: ECSClient | None = None,
        revisions: RevisionCache | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._ecs = client or clients.ecs()
        self._revisions = revisions
        self._clock = clock
        self._service_deployments = service_deployments.ServiceDeployments(self._ecs)
        # Task definition revisions never change: cache them for the life of the container.
        self._task_definitions: dict[str, Revision] = {}

    def describe_services(self, service_arns: Iterable[str]) -> list[Service]:
        by_cluster: dict[str, list[str]] = defaultdict(list)
        for arn in service_arns:
            by_cluster[cluster_of(arn)].append(arn)
        found: list[Service] = []
        for cluster, arns in by_cluster.items():
            for start in range(0, len(arns), _DESCRIBE_BATCH):
                response = self._ecs.describe_services(
                    cluster=cluster,
                    services=arns[start : start + _DESCRIBE_BATCH],
                    include=["TAGS"],
                )
                found.extend(self._to_service(raw) for raw in response["services"])
        return found

    def running_revisions(self, service_arns: Iterable[str]) -> dict[str, str]:
        """Service ARN -> the task definition it runs, for the ACTIVE services among them.
        DescribeServices only (no tags, no task definitions): what the fleet index checks its
        entries against. A cluster that is gone has no service running."""
        by_cluster: dict[str, list[str]] = defaultdict(list)
        for arn in service_arns:
            by_cluster[cluster_of(arn)].append(arn)
        found: dict[str, str] = {}
        for cluster, arns in by_cluster.items():
            for start in range(0, len(arns), _DESCRIBE_BATCH):
                try:
                    response = self._ecs.describe_services(
                        cluster=cluster, services=arns[start : start + _DESCRIBE_BATCH]
                    )
                except ClientError as exc:
                    if is_code(exc, "ClusterNotFoundException"):
                        break
                    raise
                found.update(
                    (raw["serviceArn"], raw["taskDefinition"])
                    for raw in response["services"]
                    if raw.get("status", "ACTIVE") == "ACTIVE"
                )
        return found

    def deployment_alarms(self, service_arns: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """Service ARN -> the alarm names in its deploymentConfiguration.alarms (services that
        name none are left out). DescribeServices only: no tags, no task definitions."""
        by_cluster: dict[str, list[str]] = defaultdict(list)
        for arn in service_arns:
            by_cluster[cluster_of(arn)].append(arn)
        found: dict[str, tuple[str, ...]] = {}
        for cluster, arns in by_cluster.items():
            for start in range(0, len(arns), _DESCRIBE_BATCH):
                response = self._ecs.describe_services(
                    cluster=cluster, services=arns[start : start + _DESCRIBE_BATCH]
                )
                for raw in response["services"]:
                    alarms = raw.get("deploymentConfiguration", {}).get("alarms", {})
                    if alarms.get("alarmNames"):
                        found[raw["serviceArn"]] = tuple(alarms["alarmNames"])
        return found

    def describe_service(self, service_arn: str) -> Service:
        services = self.describe_services([service_arn])
        if not services:
            raise NotFoundError(f"service not found: {service_arn}")
        return services[0]

    def revision(self, arn: str) -> dict[str, Any]:
        """The revision's content, from a cache when it was ever read (it never changes)."""
        cached = self._cached(arn)
        return (cached or self._describe(arn)).definition

    def task_definition(self, arn: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
        """The task definition as DescribeTaskDefinition returns it, and its tags as ECS
        showed them at most TAGS_FRESH_FOR ago."""
        cached = self._cached(arn)
        if cached is None or self._clock() - cached.read_at > TAGS_FRESH_FOR:
            cached = self._describe(arn)
        return cached.definition, cached.tags

    def _cached(self, arn: str) -> Revision | None:
        if not immutable_name(arn):
            return None  # a family name: its latest revision, which changes
        found = self._task_definitions.get(arn)
        if found is not None or self._revisions is None:
            return found
        try:
            found = self._revisions.get(arn)
        except _CACHE_ERRORS as exc:
            logger.warning(
                "revision cache unreadable: asking ECS",
                extra={"task_definition": arn, "error": repr(exc)},
            )
            count("RevisionCacheReadFailed")
            return None
        if found is not None:
            self._task_definitions[arn] = found
        return found

    def _describe(self, arn: str) -> Revision:
        try:
            response = self._ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"])
        except ClientError as exc:
            if is_code(exc, "ClientException"):
                raise NotFoundError(f"task definition not found: {arn}") from exc
            raise
        tags = [{"key": t["key"], "value": t.get("value", "")} for t in response.get("tags", [])]
        read = Revision(dict(response["taskDefinition"]), tags, self._clock())
        self._remember(read)
        if immutable_name(arn):
            self._task_definitions[arn] = read
        return read

    def _remember(self, read: Revision) -> None:
        """Keep what ECS answered, here and in the revision cache; a failed write is logged
        and counted, and nothing else happens (the next reader asks ECS)."""
        arn = read.definition["taskDefinitionArn"]
        self._task_definitions[arn] = read
        if self._revisions is None:
            return
        try:
            self._revisions.put(arn, read)
        except _CACHE_ERRORS as exc:
            logger.warning(
                "revision cache not written", extra={"task_definition": arn, "error": repr(exc)}
            )
            count("RevisionCacheWriteFailed")

    def writable_task_definition_fields(self) -> frozenset[str]:
        """What RegisterTaskDefinition accepts, from this SDK's own model of the API."""
        operation = self._ecs.meta.service_model.operation_model("RegisterTaskDefinition")
        members = operation.input_shape.members if operation.input_shape else {}
        return frozenset(members) - {"tags"}

    def register_task_definition(
        self, definition: Mapping[str, Any], tags: list[dict[str, str]]
    ) -> str:
        arguments: dict[str, Any] = dict(definition)
        if tags:
            arguments["tags"] = tags
        try:
            response = self._ecs.register_task_definition(**arguments)
        except ClientError as exc:
            if is_code(exc, *_INVALID_REQUEST):
                raise PermanentFailureError(
                    f"ECS refused the new revision: {exc}", "invalid-revision"
                ) from exc
            raise
        registered = response["taskDefinition"]
        # ECS answered with the revision as stored, tagged as asked: no need to describe it.
        # (Its answer may leave the tags out: they are the ones just asked for.)
        self._remember(
            Revision(
                dict(registered),
                [{"key": t["key"], "value": t.get("value", "")} for t in tags],
                self._clock(),
            )
        )
        return registered["taskDefinitionArn"]

    def find_revision(self, family: str, action_id: str) -> str | None:
        """The revision of `family` an earlier attempt of this action registered, if any.

        RegisterTaskDefinition is not idempotent: a retry after a lost response looks here
        first (by the revision's `autopilot:action` tag) instead of registering another."""
        response = self._ecs.list_task_definitions(
            familyPrefix=family, status="ACTIVE", sort="DESC", maxResults=_NEWEST_REVISIONS_CHECKED
        )
        newest = sorted(
            (arn for arn in response.get("taskDefinitionArns", []) if _family(arn) == family),
            key=_revision_number,
            reverse=True,
        )[:_NEWEST_REVISIONS_CHECKED]
        for arn in newest:
            # Asked of ECS, never of a cache: a tag can be removed, and a retry that trusted
            # an old copy would record a revision as this action's that is no longer marked so.
            tags = self._describe(arn).tags
            if any(t["key"] == ACTION_TAG and t["value"] == action_id for t in tags):
                return arn
        return None

    def update_service(self, service: Service, task_definition_arn: str) -> str:
        """Point the service at a revision; returns the id of the deployment ECS started."""
        try:
            response = self._ecs.update_service(
                cluster=service.cluster_arn,
                service=service.arn,
                taskDefinition=task_definition_arn,
            )
        except ClientError as exc:
            if is_code(exc, "ServiceNotFoundException", "ServiceNotActiveException"):
                raise NotFoundError(f"service not found or inactive: {service.arn}") from exc
            if is_code(exc, *_INVALID_REQUEST):
                raise PermanentFailureError(
                    f"ECS refused the update: {exc}", "invalid-request"
                ) from exc
            raise
        for deployment in response["service"].get("deployments", []):
            if deployment.get("status") == "PRIMARY":
                return deployment.get("id", "")
        return ""

    def set_desired_count(self, service: Service, desired: int) -> None:
        try:
            self._ecs.update_service(
                cluster=service.cluster_arn, service=service.arn, desiredCount=desired
            )
        except ClientError as exc:
            if is_code(exc, "ServiceNotFoundException", "ServiceNotActiveException"):
                raise NotFoundError(f"service not found or inactive: {service.arn}") from exc
            raise

    def service_deployments(
        self, service: Service, statuses: Iterable[str]
    ) -> list[ServiceDeployment]:
        return self._service_deployments.of_service(service, statuses)

    def service_deployment(self, arn: str) -> ServiceDeployment | None:
        return self._service_deployments.one(arn)

    def stop_service_deployment(self, arn: str) -> None:
        self._service_deployments.stop(arn)

    def continue_service_deployment(self, arn: str, hook_id: str, action: str) -> None:
        self._service_deployments.answer(arn, hook_id, action)

    def _to_service(self, raw: ServiceTypeDef) -> Service:
        task_definition_arn = raw["taskDefinition"]
        definition = self.revision(task_definition_arn)
        containers = tuple(
            Container(c["name"], c.get("image", "")) for c in definition["containerDefinitions"]
        )
        platform = definition.get("runtimePlatform", {})
        providers = [p["capacityProvider"] for p in raw.get("capacityProviderStrategy", [])]
        configuration = raw.get("deploymentConfiguration", {})
        return Service(
            arn=raw["serviceArn"],
            cluster_arn=raw["clusterArn"],
            name=raw["serviceName"],
            status=raw.get("status", "ACTIVE"),
            task_definition_arn=task_definition_arn,
            containers=containers,
            deployment_controller=raw.get("deploymentController", {}).get("type", "ECS"),
            scheduling_strategy=raw.get("schedulingStrategy", "REPLICA"),
            desired_count=raw.get("desiredCount", 0),
            tags={t["key"]: t.get("value", "") for t in raw.get("tags", [])},
            task_size=TaskSize(
                vcpu=int(definition.get("cpu") or 0) / 1024,
                memory_gb=int(definition.get("memory") or 0) / 1024,
                arm=platform.get("cpuArchitecture") == "ARM64",
                spot=bool(providers) and all(p == "FARGATE_SPOT" for p in providers),
            ),
            load_balancers=tuple(
                (lb["containerName"], lb["containerPort"])
                for lb in raw.get("loadBalancers", [])
                if "containerName" in lb and "containerPort" in lb
            ),
            running_count=raw.get("runningCount", 0),
            deployments=tuple(
                EcsDeployment(
                    id=d.get("id", ""),
                    status=d.get("status", ""),
                    task_definition=d.get("taskDefinition", ""),
                    rollout_state=d.get("rolloutState", ""),
                    running_count=d.get("runningCount", 0),
                    desired_count=d.get("desiredCount", 0),
                    updated_at=d.get("updatedAt"),
                )
                for d in raw.get("deployments", [])
            ),
            deployment_alarms=tuple(configuration.get("alarms", {}).get("alarmNames", [])),
            strategy=configuration.get("strategy", "ROLLING"),
            bake_time_minutes=configuration.get("bakeTimeInMinutes"),
            pause_hooks=pause_hooks(configuration.get("lifecycleHooks", [])),
        )

    def describe_services_or_gone(
        self, service_arns: Iterable[str]
    ) -> tuple[list[Service], dict[str, str]]:
        """The ACTIVE services among `service_arns`, and why each other one is gone, for
        services that may have been deleted since they were named (the cost report).

        What DescribeServices answers for a deleted service: its `status` DRAINING (its tasks
        are stopping) or INACTIVE (deleted, kept for a while), or, once ECS has purged it, a
        `failures` entry with reason MISSING. A deleted cluster fails the whole call with
        ClusterNotFoundException: every service asked for in it is gone. Reasons are keyed by
        the ARN asked for (ECS may answer with the short ARN form of an old service)."""
        by_cluster: dict[str, list[str]] = defaultdict(list)
        for arn in service_arns:
            by_cluster[cluster_of(arn)].append(arn)
        found: list[Service] = []
        gone: dict[str, str] = {}
        for cluster, arns in by_cluster.items():
            for start in range(0, len(arns), _DESCRIBE_BATCH):
                batch = arns[start : start + _DESCRIBE_BATCH]
                asked = {arn.rsplit("/", 1)[-1]: arn for arn in batch}
                try:
                    response = self._ecs.describe_services(
                        cluster=cluster, services=batch, include=["TAGS"]
                    )
                except ClientError as exc:
                    if is_code(exc, "ClusterNotFoundException"):
                        gone.update(dict.fromkeys(batch, "ClusterNotFoundException"))
                        continue
                    raise
                for failure in response.get("failures", []):
                    arn = failure.get("arn", "")
                    gone[asked.get(arn.rsplit("/", 1)[-1], arn)] = failure.get("reason", "MISSING")
                for raw in response["services"]:
                    status = raw.get("status", "ACTIVE")
                    if status == "ACTIVE":
                        found.append(self._to_service(raw))
                    else:
                        gone[asked.get(raw["serviceName"], raw["serviceArn"])] = status
        return found, gone
