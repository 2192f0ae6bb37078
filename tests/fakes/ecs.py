"""Amazon ECS in memory: clusters, services with their deployments, task definition revisions.

Faithful to what the workflows rely on:
- a task definition revision never changes; registering one creates `family:N+1`;
- UpdateService with another revision starts a new PRIMARY deployment (new id, IN_PROGRESS)
  and the previous PRIMARY becomes ACTIVE; with the same revision it starts nothing;
- a CODE_DEPLOY service refuses a new revision (InvalidParameterException): CodeDeploy
  changes it (`switch_task_set`, called by the CodeDeploy fake when a deployment succeeds);
- a service with ECS's blue/green, linear or canary strategy also records a service deployment
  (IN_PROGRESS, from the revision it ran to the new one) for each new revision; stopping it
  with rollback makes it ROLLBACK_REQUESTED and puts the service back on its source revision
  (the local moto server does the same: autopilot_tools/local/moto_ecs_deployments.py);
- such a deployment of a service with a PAUSE lifecycle hook waits at the hook's first stage
  with the hook AWAITING_ACTION (`ecs-pause-...`, expiring after its timeout);
  ContinueServiceDeployment CONTINUE makes the hook SUCCEEDED (the deployment goes on,
  IN_PROGRESS, to its next stages), ROLLBACK rolls it back to its source; a hook not awaiting
  action is refused (the adapter's PermanentFailureError);
- the errors are the adapter's: NotFoundError where it translates, ClientError elsewhere.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import botocore.session
from botocore.exceptions import ParamValidationError

from autopilot.adapters.ecs import cluster_of
from autopilot.domain.capacity import TaskSize
from autopilot.domain.errors import ConflictError, NotFoundError, PermanentFailureError
from autopilot.domain.fleet import TRAFFIC_SHIFTING, Container, EcsDeployment, PauseHook, Service
from autopilot.domain.service_deployments import (
    ROLLING_BACK,
    STOPPABLE,
    HookDetail,
    ServiceDeployment,
)
from autopilot.domain.taskdef import ACTION_TAG
from tests.fakes.aws import ACCOUNT, REGION, client_error

NEWEST_REVISIONS_CHECKED = 5  # adapters/ecs.py: one ListTaskDefinitions page
_CONTAINER_DEFAULTS: dict[str, Any] = {
    "cpu": 0,
    "essential": True,
    "portMappings": [],
    "environment": [],
    "mountPoints": [],
    "volumesFrom": [],
}


@cache
def register_task_definition_members() -> frozenset[str]:
    """RegisterTaskDefinition's parameters, from botocore's own model of the API (offline)."""
    model = botocore.session.get_session().get_service_model("ecs")
    shape = model.operation_model("RegisterTaskDefinition").input_shape
    return frozenset(shape.members) if shape is not None else frozenset()


@dataclass
class _Deployment:
    id: str
    status: str  # PRIMARY | ACTIVE
    task_definition: str
    rollout_state: str  # IN_PROGRESS | COMPLETED | FAILED
    desired_count: int
    running_count: int
    updated_at: datetime


@dataclass
class _ServiceDeployment:
    arn: str
    status: str
    source: str  # task definition ARNs
    target: str
    created_at: datetime
    rollback_started_at: datetime | None = None
    finished_at: datetime | None = None
    lifecycle_stage: str = ""
    hooks: list[HookDetail] = field(default_factory=list)


@dataclass
class _Service:
    arn: str
    cluster_arn: str
    name: str
    task_definition: str
    desired_count: int
    tags: dict[str, str]
    controller: str
    scheduling_strategy: str
    load_balancers: list[dict[str, Any]]
    alarms: list[str]
    capacity_providers: list[str]
    status: str = "ACTIVE"
    running_count: int = 0
    deployments: list[_Deployment] = field(default_factory=list)
    strategy: str = "ROLLING"
    bake_time_minutes: int | None = None
    service_deployments: list[_ServiceDeployment] = field(default_factory=list)
    pause_hooks: tuple[PauseHook, ...] = ()


@dataclass(frozen=True)
class _Revision:
    definition: dict[str, Any]  # as DescribeTaskDefinition returns it
    tags: tuple[tuple[str, str], ...]


class FakeEcs:
    def __init__(
        self,
        clock: Callable[[], datetime] | None = None,
        account: str = ACCOUNT,
        region: str = REGION,
    ) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))
        self._account = account
        self._region = region
        self._clusters: dict[str, str] = {}  # name -> ARN
        self._services: dict[str, _Service] = {}
        self._families: dict[str, list[_Revision]] = {}  # revision N at index N-1
        self._ids = itertools.count(1)

    # -- set-up and inspection, for tests ---------------------------------------------------

    def add_cluster(self, name: str) -> str:
        arn = f"arn:aws:ecs:{self._region}:{self._account}:cluster/{name}"
        self._clusters.setdefault(name, arn)
        return arn

    def add_service(
        self,
        cluster: str,
        name: str,
        task_definition: str,
        *,
        desired: int = 2,
        tags: Mapping[str, str] | None = None,
        controller: str = "ECS",
        scheduling_strategy: str = "REPLICA",
        load_balancers: Sequence[Mapping[str, Any]] = (),
        deployment_alarms: Sequence[str] = (),
        capacity_providers: Sequence[str] = (),
        strategy: str = "ROLLING",
        bake_time_minutes: int | None = None,
        pause_hooks: Sequence[PauseHook] = (),
    ) -> str:
        """A steady service: one PRIMARY deployment, COMPLETED, every task running."""
        cluster_arn = self.add_cluster(cluster)
        arn = f"arn:aws:ecs:{self._region}:{self._account}:service/{cluster}/{name}"
        revision = self._resolve(task_definition)
        if revision is None:
            raise ValueError(f"register {task_definition} first")
        if scheduling_strategy == "DAEMON":
            desired = 0  # DAEMON services have no desired count of their own
        service = _Service(
            arn=arn,
            cluster_arn=cluster_arn,
            name=name,
            task_definition=revision.definition["taskDefinitionArn"],
            desired_count=desired,
            tags=dict(tags or {}),
            controller=controller,
            scheduling_strategy=scheduling_strategy,
            load_balancers=[dict(lb) for lb in load_balancers],
            alarms=list(deployment_alarms),
            capacity_providers=list(capacity_providers),
            running_count=desired,
            strategy=strategy,
            bake_time_minutes=bake_time_minutes,
            pause_hooks=tuple(pause_hooks),
        )
        if controller == "ECS":
            service.deployments.append(
                _Deployment(
                    id=self._new_deployment_id(),
                    status="PRIMARY",
                    task_definition=service.task_definition,
                    rollout_state="COMPLETED",
                    desired_count=desired,
                    running_count=desired,
                    updated_at=self._clock(),
                )
            )
        self._services[arn] = service
        return arn

    def tag_service(self, service_arn: str, tags: Mapping[str, str]) -> None:
        """TagResource on the service, by hand."""
        self._services[service_arn].tags.update(tags)

    def untag_service(self, service_arn: str, keys: Iterable[str]) -> None:
        """UntagResource on the service, by hand."""
        for key in keys:
            self._services[service_arn].tags.pop(key, None)

    def delete_service(self, service_arn: str, *, purged: bool = False) -> None:
        """DeleteService: described as INACTIVE for a while, refused by UpdateService; once
        `purged`, ECS no longer knows it."""
        service = self._services[service_arn]
        service.status, service.desired_count, service.deployments = "INACTIVE", 0, []
        if purged:
            del self._services[service_arn]

    def delete_cluster(self, name: str) -> None:
        """DeleteCluster (its services were deleted first): calls naming it fail."""
        arn = self._clusters.pop(name)
        for service_arn in [a for a, s in self._services.items() if s.cluster_arn == arn]:
            del self._services[service_arn]

    def complete_deployment(self, service_arn: str, deployment_id: str | None = None) -> None:
        """The deployment (default: PRIMARY) reaches steady state; older ones drain away."""
        service = self._services[service_arn]
        deployment = self._deployment(service, deployment_id)
        deployment.rollout_state = "COMPLETED"
        deployment.running_count = deployment.desired_count
        deployment.updated_at = self._clock()
        service.deployments = [d for d in service.deployments if d.status == "PRIMARY"]
        service.running_count = deployment.running_count

    def fail_deployment(
        self, service_arn: str, deployment_id: str | None = None, *, roll_back: bool = True
    ) -> str | None:
        """The circuit breaker fails the deployment; with rollback on, ECS starts a deployment
        of the last completed revision (returns its id)."""
        service = self._services[service_arn]
        deployment = self._deployment(service, deployment_id)
        deployment.rollout_state = "FAILED"
        deployment.updated_at = self._clock()
        previous = next((d for d in service.deployments if d.status == "ACTIVE"), None)
        if not roll_back or previous is None:
            return None
        return self._start_deployment(service, previous.task_definition)

    def complete_service_deployment(self, service_arn: str) -> None:
        """A blue/green, linear or canary deployment finished its bake time: SUCCESSFUL."""
        self._in_flight(service_arn).status = "SUCCESSFUL"
        self.complete_deployment(service_arn)

    def begin_rollback(self, service_arn: str) -> None:
        """ECS rolls the deployment in flight back by itself (a deployment alarm fired): it is
        ROLLBACK_IN_PROGRESS while the service is still set to the new revision."""
        record = self._in_flight(service_arn)
        record.status, record.rollback_started_at = "ROLLBACK_IN_PROGRESS", self._clock()

    def finish_rollback(self, service_arn: str) -> None:
        """The rollback under way is done: the service is back on the deployment's source."""
        service = self._services[service_arn]
        for record in service.service_deployments:
            if record.status in ROLLING_BACK:
                record.status, record.finished_at = "ROLLBACK_SUCCESSFUL", self._clock()
                self._back_to_source(service, record)

    def fail_rollback(self, service_arn: str) -> None:
        """The rollback under way fails (ECS cannot start blue again): ROLLBACK_FAILED."""
        for record in self._services[service_arn].service_deployments:
            if record.status in ROLLING_BACK:
                record.status, record.finished_at = "ROLLBACK_FAILED", self._clock()

    def hook_statuses(self, service_arn: str) -> tuple[str, ...]:
        """The lifecycle hooks' statuses of the service's deployments, oldest first."""
        return tuple(
            h.status for r in self._services[service_arn].service_deployments for h in r.hooks
        )

    def service_deployment_statuses(self, service_arn: str) -> tuple[str, ...]:
        """Each service deployment's status, oldest first."""
        return tuple(d.status for d in self._services[service_arn].service_deployments)

    def switch_task_set(self, service_arn: str, task_definition_arn: str) -> None:
        """A blue/green deployment shifted all traffic: the service now runs the revision."""
        self._services[service_arn].task_definition = task_definition_arn

    def deregister(self, arn: str) -> None:
        """DeregisterTaskDefinition: INACTIVE, still described, no longer listed as ACTIVE."""
        revision = self._resolve(arn)
        if revision is None:
            raise KeyError(arn)
        revision.definition["status"] = "INACTIVE"

    def families(self) -> list[str]:
        return sorted(self._families)

    def revisions(self, family: str) -> list[str]:
        """ARNs of the family's revisions, oldest first."""
        return [r.definition["taskDefinitionArn"] for r in self._families.get(family, [])]

    def revision_tags(self, arn: str) -> dict[str, str]:
        revision = self._resolve(arn)
        return dict(revision.tags) if revision else {}

    def tagged(self, key: str) -> list[str]:
        """ARNs of the ACTIVE services carrying the tag key, sorted."""
        return sorted(
            a for a, s in self._services.items() if key in s.tags and s.status == "ACTIVE"
        )

    def deployment_ids(self, service_arn: str) -> set[str]:
        """ECS deployments' ids and service deployments' ARNs."""
        service = self._services[service_arn]
        return {d.id for d in service.deployments} | {d.arn for d in service.service_deployments}

    # -- the gateway --------------------------------------------------------------------------

    def describe_services(self, service_arns: Iterable[str]) -> list[Service]:
        by_cluster: dict[str, list[str]] = {}
        for arn in service_arns:
            by_cluster.setdefault(cluster_of(arn), []).append(arn)
        found: list[Service] = []
        for cluster, arns in by_cluster.items():
            if cluster not in self._clusters:
                raise client_error(
                    "ClusterNotFoundException", "Cluster not found.", "DescribeServices"
                )
            # Unknown services are in the response's `failures`, which the adapter ignores.
            found.extend(self._to_service(self._services[a]) for a in arns if a in self._services)
        return found

    def running_revisions(self, service_arns: Iterable[str]) -> dict[str, str]:
        return {
            arn: self._services[arn].task_definition
            for arn in service_arns
            if arn in self._services
            and cluster_of(arn) in self._clusters
            and self._services[arn].status == "ACTIVE"
        }

    def describe_services_or_gone(
        self, service_arns: Iterable[str]
    ) -> tuple[list[Service], dict[str, str]]:
        found: list[Service] = []
        gone: dict[str, str] = {}
        for arn in service_arns:
            if cluster_of(arn) not in self._clusters:
                gone[arn] = "ClusterNotFoundException"  # the whole cluster's call fails
            elif arn not in self._services:
                gone[arn] = "MISSING"  # a `failures` entry, once ECS purged the service
            elif self._services[arn].status != "ACTIVE":
                gone[arn] = self._services[arn].status
            else:
                found.append(self._to_service(self._services[arn]))
        return found, gone

    def deployment_alarms(self, service_arns: Iterable[str]) -> dict[str, tuple[str, ...]]:
        return {
            arn: tuple(service.alarms)
            for arn in service_arns
            if (service := self._services.get(arn)) is not None and service.alarms
        }

    def describe_service(self, service_arn: str) -> Service:
        services = self.describe_services([service_arn])
        if not services:
            raise NotFoundError(f"service not found: {service_arn}")
        return services[0]

    def revision(self, arn: str) -> dict[str, Any]:
        return self.task_definition(arn)[0]

    def task_definition(self, arn: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
        revision = self._resolve(arn)
        if revision is None:
            raise NotFoundError(f"task definition not found: {arn}")
        return copy.deepcopy(revision.definition), [
            {"key": k, "value": v} for k, v in revision.tags
        ]

    def writable_task_definition_fields(self) -> frozenset[str]:
        return register_task_definition_members() - {"tags"}

    def register_task_definition(
        self, definition: Mapping[str, Any], tags: list[dict[str, str]]
    ) -> str:
        unknown = sorted(set(definition) - register_task_definition_members())
        if unknown:
            # botocore validates parameters before sending anything.
            raise ParamValidationError(report=f"Unknown parameter in input: {', '.join(unknown)}")
        if "family" not in definition or "containerDefinitions" not in definition:
            raise ParamValidationError(report="Missing required parameter in input")
        for tag in tags:
            if tag["key"].lower().startswith("aws:"):
                raise client_error(
                    "InvalidParameterException",
                    "Tag keys prefixed with aws: are reserved.",
                    "RegisterTaskDefinition",
                )
        family = str(definition["family"])
        revisions = self._families.setdefault(family, [])
        number = len(revisions) + 1
        arn = f"arn:aws:ecs:{self._region}:{self._account}:task-definition/{family}:{number}"
        described = copy.deepcopy(dict(definition))
        described.setdefault("volumes", [])
        described.setdefault("placementConstraints", [])
        for container in described["containerDefinitions"]:
            # ECS fills in these defaults; a clone carries them like any other field.
            for key, default in _CONTAINER_DEFAULTS.items():
                container.setdefault(key, copy.deepcopy(default))
        requires = described.get("requiresCompatibilities", [])
        described.update(
            taskDefinitionArn=arn,
            revision=number,
            status="ACTIVE",
            compatibilities=["EC2", "FARGATE"] if "FARGATE" in requires else ["EC2"],
            requiresAttributes=[{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.18"}],
            registeredAt=self._clock(),
            registeredBy=f"arn:aws:sts::{self._account}:assumed-role/autopilot/executor",
        )
        revisions.append(_Revision(described, tuple((t["key"], t["value"]) for t in tags)))
        return arn

    def find_revision(self, family: str, action_id: str) -> str | None:
        # The adapter reads one ListTaskDefinitions page (familyPrefix is the full family
        # name; ACTIVE only; newest first; five) and the tags of each revision on it.
        revisions = self._families.get(family, [])
        listed = [r for r in reversed(revisions) if r.definition["status"] == "ACTIVE"]
        for revision in listed[:NEWEST_REVISIONS_CHECKED]:
            if (ACTION_TAG, action_id) in revision.tags:
                return str(revision.definition["taskDefinitionArn"])
        return None

    def update_service(self, service: Service, task_definition_arn: str) -> str:
        record = self._active(service, "UpdateService")
        revision = self._resolve(task_definition_arn)
        if revision is None:
            raise client_error("ClientException", "TaskDefinition not found.", "UpdateService")
        arn = str(revision.definition["taskDefinitionArn"])
        if arn == record.task_definition:
            primary = next((d for d in record.deployments if d.status == "PRIMARY"), None)
            return primary.id if primary else ""
        if record.controller != "ECS":
            raise client_error(
                "InvalidParameterException",
                "Unable to update task definition on services with a CODE_DEPLOY deployment "
                "controller. Use AWS CodeDeploy to trigger a new deployment.",
                "UpdateService",
            )
        return self._start_deployment(record, arn)

    def set_desired_count(self, service: Service, desired: int) -> None:
        record = self._active(service, "UpdateService")
        if record.scheduling_strategy == "DAEMON":
            raise client_error(
                "InvalidParameterException",
                "The daemon scheduling strategy does not support a desired count.",
                "UpdateService",
            )
        record.desired_count = desired
        for deployment in record.deployments:
            if deployment.status == "PRIMARY":
                deployment.desired_count = desired

    def service_deployments(
        self, service: Service, statuses: Iterable[str]
    ) -> list[ServiceDeployment]:
        record = self._services.get(service.arn)
        wanted = set(statuses)
        found = record.service_deployments if record else []
        return [_described(d) for d in found if d.status in wanted]

    def service_deployment(self, arn: str) -> ServiceDeployment | None:
        for service in self._services.values():
            for record in service.service_deployments:
                if record.arn == arn:
                    return _described(record)
        return None

    def stop_service_deployment(self, arn: str) -> None:
        for service in self._services.values():
            for record in service.service_deployments:
                if record.arn == arn:
                    self._roll_back(service, record)
                    return
        raise NotFoundError(f"no service deployment {arn}")

    def continue_service_deployment(self, arn: str, hook_id: str, action: str) -> None:
        for service in self._services.values():
            for record in service.service_deployments:
                if record.arn == arn:
                    self._answer(service, record, hook_id, action)
                    return
        raise PermanentFailureError(f"no service deployment {arn}", "continue-refused")

    def _answer(
        self, service: _Service, record: _ServiceDeployment, hook_id: str, action: str
    ) -> None:
        hook = next((h for h in record.hooks if h.hook_id == hook_id), None)
        if hook is None or hook.status != "AWAITING_ACTION" or record.status != "IN_PROGRESS":
            raise PermanentFailureError(
                f"ECS refused to {action} {record.arn} at hook {hook_id}: not awaiting action",
                "continue-refused",
            )
        record.hooks = [
            HookDetail(h.hook_id, h.target_type, "SUCCEEDED", h.expires_at, h.timeout_action)
            if h.hook_id == hook_id
            else h
            for h in record.hooks
        ]
        if action == "ROLLBACK":
            record.status, record.rollback_started_at = "ROLLBACK_REQUESTED", self._clock()
            self._back_to_source(service, record)
        # CONTINUE: the deployment goes on to its next stages, IN_PROGRESS (as on the local ECS)

    # -- internals ----------------------------------------------------------------------------

    def _roll_back(self, service: _Service, record: _ServiceDeployment) -> None:
        if record.status in ROLLING_BACK:
            return  # ECS goes on with the rollback already under way
        if record.status not in STOPPABLE:
            raise ConflictError(f"ECS cannot stop {record.arn} as it is now: {record.status}")
        record.status, record.rollback_started_at = "ROLLBACK_REQUESTED", self._clock()
        self._back_to_source(service, record)

    def _back_to_source(self, service: _Service, record: _ServiceDeployment) -> None:
        """Blue never stopped serving: it takes the traffic back, green drains away."""
        service.task_definition = record.source
        blue = [d for d in service.deployments if d.task_definition == record.source][:1]
        for deployment in blue:
            deployment.status, deployment.rollout_state = "PRIMARY", "COMPLETED"
            deployment.updated_at = self._clock()
        service.deployments = blue

    def _active(self, service: Service, operation: str) -> _Service:
        if cluster_of(service.arn) not in self._clusters:
            raise client_error("ClusterNotFoundException", "Cluster not found.", operation)
        record = self._services.get(service.arn)
        if record is None or record.status != "ACTIVE":
            raise NotFoundError(f"service not found or inactive: {service.arn}")
        return record

    def _resolve(self, reference: str) -> _Revision | None:
        """An ARN, `family:revision`, or `family` (its latest ACTIVE revision)."""
        name = reference.rsplit("/", 1)[-1] if reference.startswith("arn:") else reference
        family, _, number = name.partition(":")
        revisions = self._families.get(family, [])
        if not number:
            active = [r for r in revisions if r.definition["status"] == "ACTIVE"]
            return active[-1] if active else None
        if not number.isdigit() or not 1 <= int(number) <= len(revisions):
            return None
        return revisions[int(number) - 1]

    def _in_flight(self, service_arn: str) -> _ServiceDeployment:
        records = self._services[service_arn].service_deployments
        found = [d for d in records if d.status in STOPPABLE]
        if not found:
            raise KeyError(f"no service deployment in flight on {service_arn}")
        return found[-1]

    def _deployment(self, service: _Service, deployment_id: str | None) -> _Deployment:
        for deployment in service.deployments:
            if deployment.id == deployment_id or (
                deployment_id is None and deployment.status == "PRIMARY"
            ):
                return deployment
        raise KeyError(f"no deployment {deployment_id or 'PRIMARY'} on {service.arn}")

    def _start_deployment(self, service: _Service, task_definition_arn: str) -> str:
        for deployment in service.deployments:
            if deployment.status == "PRIMARY":
                deployment.status = "ACTIVE"
        deployment = _Deployment(
            id=self._new_deployment_id(),
            status="PRIMARY",
            task_definition=task_definition_arn,
            rollout_state="IN_PROGRESS",
            desired_count=service.desired_count,
            running_count=0,
            updated_at=self._clock(),
        )
        service.deployments.insert(0, deployment)
        if service.controller == "ECS" and service.strategy in TRAFFIC_SHIFTING:
            cluster = service.cluster_arn.rsplit("/", 1)[-1]
            record = _ServiceDeployment(
                arn=f"arn:aws:ecs:{self._region}:{self._account}:service-deployment/"
                f"{cluster}/{service.name}/sd{next(self._ids):020d}",
                status="IN_PROGRESS",
                source=service.task_definition,
                target=task_definition_arn,
                created_at=self._clock(),
            )
            if service.pause_hooks:
                # It waits at the first PAUSE hook's first stage.
                hook = service.pause_hooks[0]
                record.lifecycle_stage = hook.stages[0] if hook.stages else ""
                record.hooks.append(
                    HookDetail(
                        hook_id=f"ecs-pause-{next(self._ids):020d}",
                        target_type="PAUSE",
                        status="AWAITING_ACTION",
                        expires_at=self._clock() + timedelta(minutes=hook.timeout_minutes),
                        timeout_action=hook.timeout_action,
                    )
                )
            service.service_deployments.append(record)
        service.task_definition = task_definition_arn
        return deployment.id

    def _new_deployment_id(self) -> str:
        return f"ecs-svc/{next(self._ids):019d}"

    def _to_service(self, record: _Service) -> Service:
        revision = self._resolve(record.task_definition)
        definition = revision.definition if revision else {"containerDefinitions": []}
        platform = definition.get("runtimePlatform", {})
        providers = record.capacity_providers
        return Service(
            arn=record.arn,
            cluster_arn=record.cluster_arn,
            name=record.name,
            status=record.status,
            task_definition_arn=record.task_definition,
            containers=tuple(
                Container(c["name"], c.get("image", "")) for c in definition["containerDefinitions"]
            ),
            deployment_controller=record.controller,
            scheduling_strategy=record.scheduling_strategy,
            desired_count=record.desired_count,
            tags=dict(record.tags),
            task_size=TaskSize(
                vcpu=int(definition.get("cpu") or 0) / 1024,
                memory_gb=int(definition.get("memory") or 0) / 1024,
                arm=platform.get("cpuArchitecture") == "ARM64",
                spot=bool(providers) and all(p == "FARGATE_SPOT" for p in providers),
            ),
            load_balancers=tuple(
                (lb["containerName"], lb["containerPort"])
                for lb in record.load_balancers
                if "containerName" in lb and "containerPort" in lb
            ),
            running_count=record.running_count,
            deployments=tuple(
                EcsDeployment(
                    id=d.id,
                    status=d.status,
                    task_definition=d.task_definition,
                    rollout_state=d.rollout_state,
                    running_count=d.running_count,
                    desired_count=d.desired_count,
                    updated_at=d.updated_at,
                )
                for d in record.deployments
            ),
            deployment_alarms=tuple(record.alarms),
            strategy=record.strategy,
            bake_time_minutes=record.bake_time_minutes,
            pause_hooks=record.pause_hooks,
        )


def _described(record: _ServiceDeployment) -> ServiceDeployment:
    return ServiceDeployment(
        arn=record.arn,
        status=record.status,
        target=record.target,
        sources=(record.source,),
        created_at=record.created_at,
        rollback_started_at=record.rollback_started_at,
        finished_at=record.finished_at,
        lifecycle_stage=record.lifecycle_stage,
        hooks=tuple(record.hooks),
    )


class FakeTagging:
    """The Resource Groups Tagging API over the ECS fake: services carrying a tag key."""

    def __init__(self, ecs: FakeEcs) -> None:
        self._ecs = ecs

    def services_tagged(self, key: str) -> list[str]:
        return self._ecs.tagged(key)

    def tagged_among(self, service_arns: list[str], key: str) -> list[str]:
        tagged = set(self._ecs.tagged(key))
        return [arn for arn in service_arns if arn in tagged]
