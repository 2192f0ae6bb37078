"""ECS's own blue/green, linear and canary deployments, as far as a rollback sees them, added to
moto 5.2.5 (which drops `deploymentConfiguration` at CreateService and implements none of the
service deployment calls). These are the records and the API; `ecs_engine` moves a deployment
through its stages on the runner's clock (an in-process test may complete one at once with
`complete_service_deployments`).

What it adds, field by field as the API reference defines them:

- CreateService and UpdateService keep `deploymentConfiguration` (`strategy` ROLLING |
  BLUE_GREEN | LINEAR | CANARY, `bakeTimeInMinutes`, ...) for DescribeServices to answer:
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html
- UpdateService to another task definition, on an ECS-controller service (any strategy:
  ROLLING too, as ECS records every deployment of the ECS controller), creates a service
  deployment, IN_PROGRESS, and a new PRIMARY entry in the service's `deployments` (its own
  `ecs-svc/` id, `rolloutState` IN_PROGRESS; the one before becomes ACTIVE), as ECS does:
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Deployment.html
  The service deployment has its
  `serviceDeploymentArn` (`arn:aws:ecs:REGION:ACCOUNT:service-deployment/CLUSTER/SERVICE/ID`),
  `serviceArn`, `clusterArn`, `createdAt`, `startedAt`, `updatedAt`, `sourceServiceRevisions`
  (the revision the service ran) and `targetServiceRevision` (the new one), each a
  ServiceRevisionSummary (`arn`, `requestedTaskCount`, `runningTaskCount`,
  `pendingTaskCount`), `status`, `deploymentConfiguration`:
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeployment.html
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceRevisionSummary.html
  A service revision (`arn:aws:ecs:REGION:ACCOUNT:service-revision/CLUSTER/SERVICE/ID`) names
  its `serviceRevisionArn`, `serviceArn`, `clusterArn`, `taskDefinition`, `launchType`,
  `createdAt`: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceRevision.html
- ListServiceDeployments (`service`, `cluster`, `status` filter, `maxResults` default 20,
  `nextToken`) answers ServiceDeploymentBrief items (`serviceDeploymentArn`, `serviceArn`,
  `clusterArn`, `startedAt`, `createdAt`, `finishedAt`, `targetServiceRevisionArn`, `status`):
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListServiceDeployments.html
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeploymentBrief.html
- DescribeServiceDeployments and DescribeServiceRevisions (`serviceDeploymentArns`,
  `serviceRevisionArns`) answer the records, and a `failures` entry (`arn`, `reason` MISSING)
  for an ARN they do not know:
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServiceDeployments.html
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServiceRevisions.html
- StopServiceDeployment (`serviceDeploymentArn`, `stopType` ROLLBACK) answers the ARN. A
  PENDING or IN_PROGRESS deployment becomes ROLLBACK_REQUESTED with `rollback` (`reason`,
  `startedAt`, `serviceRevisionArn` of the source), and the service's task definition goes
  back to the source revision's; one already STOP_REQUESTED, ROLLBACK_REQUESTED or
  ROLLBACK_IN_PROGRESS goes on unchanged; any other answers ConflictException (the API's error
  for "conflict in the current state of the resource"), an unknown ARN
  ServiceDeploymentNotFoundException:
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_StopServiceDeployment.html
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stop-service-deployment.html
- A PAUSE lifecycle hook waits in `lifecycleHookDetails` (`ecs_engine` puts it there when the
  deployment reaches the hook's stage, and times it out).
- ContinueServiceDeployment (`serviceDeploymentArn`, `hookId`, `action` CONTINUE, the default,
  or ROLLBACK) answers the ARN. It takes only a hook in AWAITING_ACTION of a deployment
  IN_PROGRESS, as the developer guide's prerequisites say; anything else answers
  InvalidParameterException (the API lists no conflict error; which one AWS sends is not
  documented), an unknown ARN ServiceDeploymentNotFoundException. CONTINUE makes the hook
  SUCCEEDED (the engine goes on to the next stage); ROLLBACK makes the hook SUCCEEDED and the
  deployment ROLLBACK_REQUESTED, the service back on
  its source revision, as StopServiceDeployment does:
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContinueServiceDeployment.html
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/continue-service-deployment.html
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")

_STOPPABLE = {"PENDING", "IN_PROGRESS"}
_SUPERSEDED = {*_STOPPABLE, "ROLLBACK_IN_PROGRESS"}  # what a new deployment stops
_ROLLING_BACK = {"STOP_REQUESTED", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS"}
_PAGE = 20  # ListServiceDeployments' default maxResults


@dataclass
class _Store:
    """One ECS backend's (account and region's) service deployments and revisions."""

    deployments: dict[str, dict[str, Any]] = field(default_factory=dict)  # by ARN, in order
    revisions: dict[str, dict[str, Any]] = field(default_factory=dict)
    current: dict[str, str] = field(default_factory=dict)  # service ARN -> its revision ARN
    # service deployment ARN -> the `ecs-svc/` id of the service's deployments entry
    ecs_deployment_ids: dict[str, str] = field(default_factory=dict)


def kept_on(backend: Any, key: str, new: Callable[[], T]) -> T:
    """State of the local server's own, kept on a moto backend: moto's reset rebuilds the
    backend, and the state goes with it."""
    found: T | None = backend.__dict__.get(key)
    if found is None:
        found = new()
        backend.__dict__[key] = found
    return found


def store_of(backend: Any) -> _Store:
    return kept_on(backend, "_autopilot_service_deployments", _Store)


def _arn(service: Any, kind: str, resource_id: str) -> str:
    prefix = service.arn.split(":service/", 1)[0]
    return f"{prefix}:{kind}/{service.cluster_name}/{service.name}/{resource_id}"


def _revision(backend: Any, service: Any, task_definition: str) -> str:
    """A new service revision of the service, running `task_definition`; its ARN."""
    from moto.core.utils import utcnow  # noqa: PLC0415 - moto: local only

    from autopilot_tools.local.moto_canary import revision_arn  # noqa: PLC0415

    definition = backend.describe_task_definition(task_definition).arn
    arn = revision_arn(service.arn, definition)
    store_of(backend).revisions[arn] = {
        "serviceRevisionArn": arn,
        "serviceArn": service.arn,
        "clusterArn": service.cluster_arn,
        "taskDefinition": definition,
        "launchType": service.launch_type,
        "createdAt": utcnow(),
    }
    return arn


def _summary(revision: str, requested: int, running: int) -> dict[str, Any]:
    return {
        "arn": revision,
        "requestedTaskCount": requested,
        "runningTaskCount": running,
        "pendingTaskCount": requested - running,
    }


def strategy(service: Any) -> str:
    """The service's deployment strategy (ROLLING when it names none)."""
    configuration = getattr(service, "deployment_configuration", None) or {}
    return str(configuration.get("strategy") or "ROLLING")


def _ecs_controller(service: Any) -> bool:
    return bool(service.deployment_controller.get("type", "ECS") == "ECS")


def _deploy(backend: Any, service: Any, source: str) -> None:
    """UpdateService moved the service from task definition `source`: the deployment."""
    from moto.core.utils import utcnow  # noqa: PLC0415

    store, now = store_of(backend), utcnow()
    for earlier in store.deployments.values():
        if earlier["serviceArn"] == service.arn and earlier["status"] in _SUPERSEDED:
            # A new deployment supersedes the one in flight: ECS stops it.
            earlier.update(status="STOPPED", finishedAt=now, updatedAt=now)
    blue = store.current.get(service.arn) or _revision(backend, service, source)
    green = _revision(backend, service, service.task_definition)
    store.current[service.arn] = green
    arn = _arn(service, "service-deployment", secrets.token_urlsafe(16))
    store.deployments[arn] = {
        "serviceDeploymentArn": arn,
        "serviceArn": service.arn,
        "clusterArn": service.cluster_arn,
        "createdAt": now,
        "startedAt": now,
        "updatedAt": now,
        "sourceServiceRevisions": [_summary(blue, service.desired_count, service.desired_count)],
        "targetServiceRevision": _summary(green, service.desired_count, 0),
        "status": "IN_PROGRESS",
        "deploymentConfiguration": dict(getattr(service, "deployment_configuration", None) or {}),
    }
    store.ecs_deployment_ids[arn] = new_primary(service)


def new_primary(service: Any) -> str:
    """A new PRIMARY entry in the service's `deployments`, rolling out; the last one ACTIVE."""
    from moto.core.utils import utcnow  # noqa: PLC0415

    deployment_id = f"ecs-svc/{10**18 + secrets.randbelow(9 * 10**18)}"
    for entry in service.deployments:
        entry["status"] = "ACTIVE"
    template = service.deployments[0] if service.deployments else {}
    service.deployments.insert(
        0,
        {
            **template,
            "id": deployment_id,
            "status": "PRIMARY",
            "taskDefinition": service.task_definition,
            "desiredCount": service.desired_count,
            "runningCount": 0,
            "pendingCount": service.desired_count,
            "failedTasks": 0,
            "rolloutState": "IN_PROGRESS",
            "rolloutStateReason": f"ECS deployment {deployment_id} in progress.",
            "createdAt": utcnow(),
            "updatedAt": utcnow(),
        },
    )
    return deployment_id


def deployment_settled(service: Any, deployment_id: str, state: str, reason: str) -> None:
    """The service's `deployments` entry `deployment_id` reached `state` (COMPLETED: the ones
    before it drain away; FAILED: it stays, as ECS shows a failed one until the next)."""
    from moto.core.utils import utcnow  # noqa: PLC0415

    ids = [entry["id"] for entry in service.deployments]
    if deployment_id not in ids:
        return  # superseded and gone already
    entry = service.deployments[ids.index(deployment_id)]
    entry.update(rolloutState=state, rolloutStateReason=reason, updatedAt=utcnow())
    if state == "COMPLETED":
        entry.update(runningCount=service.desired_count, pendingCount=0)
        # Newer ones (a deployment started since) stay; older ones are drained.
        del service.deployments[ids.index(deployment_id) + 1 :]


def complete_service_deployments(service_arn: str) -> None:
    """What ECS does once a deployment's bake time is over, at once: the service's deployments
    in flight become SUCCESSFUL (for in-process tests; `ecs_engine` does it on the clock)."""
    from moto.core.utils import utcnow  # noqa: PLC0415
    from moto.ecs.models import ecs_backends  # noqa: PLC0415

    _, _, _, region, account, _ = service_arn.split(":", 5)
    backend = ecs_backends[account][region]
    store = store_of(backend)
    for arn, record in store.deployments.items():
        if record["serviceArn"] == service_arn and record["status"] in _STOPPABLE:
            record.update(status="SUCCESSFUL", finishedAt=utcnow(), updatedAt=utcnow())
            service = backend._get_service(record["clusterArn"], service_arn)
            deployment_settled(service, store.ecs_deployment_ids[arn], "COMPLETED", "completed")


def previous_deployment(service: Any, deployment_id: str) -> str:
    """The id of the deployments entry before `deployment_id` (what a rollback returns to)."""
    ids = [e["id"] for e in service.deployments]
    later = ids[ids.index(deployment_id) + 1 :] if deployment_id in ids else ids
    return later[0] if later else ""


def _error(code: str, message: str) -> Exception:
    from moto.ecs.exceptions import ECSException  # noqa: PLC0415

    return ECSException(code, message)


def _create_service(self: Any, original: Any) -> Any:
    result = original(self)
    configuration = self._get_param("deploymentConfiguration")
    if configuration:
        service = self.ecs_backend._get_service(
            self._get_param("cluster", "default"), self._get_param("serviceName")
        )
        service.deployment_configuration = configuration
    return result


def _update_service(self: Any, original: Any) -> Any:
    backend = self.ecs_backend
    service = backend._get_service(
        self._get_param("cluster", "default"), self._get_param("service")
    )
    source = service.task_definition
    result = original(self)
    configuration = self._get_param("deploymentConfiguration")
    if configuration:  # what moto drops: kept, as ECS keeps it for the next deployment
        service.deployment_configuration = configuration
    if _ecs_controller(service) and self._get_param("taskDefinition"):
        before = backend.describe_task_definition(source).arn
        if before != backend.describe_task_definition(service.task_definition).arn:
            _deploy(backend, service, source)
    return result


def _list_service_deployments(self: Any) -> dict[str, Any]:
    service = self.ecs_backend._get_service(
        self._get_param("cluster", "default"), self._get_param("service")
    )
    wanted = set(self._get_param("status") or [])
    found = [
        d
        for d in store_of(self.ecs_backend).deployments.values()
        if d["serviceArn"] == service.arn and (not wanted or d["status"] in wanted)
    ]
    start = int(self._get_param("nextToken") or 0)
    end = start + int(self._get_param("maxResults") or _PAGE)
    briefs = [
        {
            **{k: d[k] for k in ("serviceDeploymentArn", "serviceArn", "clusterArn")},
            **{k: d[k] for k in ("startedAt", "createdAt", "finishedAt", "status") if k in d},
            "targetServiceRevisionArn": d["targetServiceRevision"]["arn"],
        }
        for d in found[start:end]
    ]
    page: dict[str, Any] = {"serviceDeployments": briefs}
    if end < len(found):
        page["nextToken"] = str(end)
    return page


def _described(records: dict[str, dict[str, Any]], arns: list[str], key: str) -> dict[str, Any]:
    return {
        key: [records[a] for a in arns if a in records],
        "failures": [{"arn": a, "reason": "MISSING"} for a in arns if a not in records],
    }


def _describe_service_deployments(self: Any) -> dict[str, Any]:
    arns = self._get_param("serviceDeploymentArns") or []
    return _described(store_of(self.ecs_backend).deployments, arns, "serviceDeployments")


def _describe_service_revisions(self: Any) -> dict[str, Any]:
    arns = self._get_param("serviceRevisionArns") or []
    return _described(store_of(self.ecs_backend).revisions, arns, "serviceRevisions")


def _stop_service_deployment(self: Any) -> dict[str, Any]:

    arn = self._get_param("serviceDeploymentArn")
    if (self._get_param("stopType") or "ROLLBACK") != "ROLLBACK":
        raise _error("InvalidParameterException", "The valid values are ROLLBACK.")
    store = store_of(self.ecs_backend)
    record = store.deployments.get(arn)
    if record is None:
        raise _error("ServiceDeploymentNotFoundException", f"Service deployment {arn} not found.")
    if record["status"] in _STOPPABLE:
        roll_back(self.ecs_backend, record, "a stop request")
    elif record["status"] not in _ROLLING_BACK:
        raise _error(
            "ConflictException", f"Service deployment {arn} cannot be stopped: {record['status']}."
        )
    return {"serviceDeploymentArn": arn}


def roll_back(backend: Any, record: dict[str, Any], why: str) -> None:
    """ROLLBACK_REQUESTED: the source revision (blue) takes the traffic back."""
    from moto.core.utils import utcnow  # noqa: PLC0415

    store = store_of(backend)
    blue = record["sourceServiceRevisions"][0]["arn"]
    record.update(
        status="ROLLBACK_REQUESTED",
        updatedAt=utcnow(),
        rollback={
            "reason": f"Service deployment rolled back because of {why}.",
            "startedAt": utcnow(),
            "serviceRevisionArn": blue,
        },
    )
    service = backend._get_service(record["clusterArn"], record["serviceArn"])
    service.task_definition = store.revisions[blue]["taskDefinition"]
    store.current[service.arn] = blue


def _continue_service_deployment(self: Any) -> dict[str, Any]:
    from moto.core.utils import utcnow  # noqa: PLC0415

    arn = self._get_param("serviceDeploymentArn")
    hook_id = self._get_param("hookId")
    action = self._get_param("action") or "CONTINUE"
    if action not in {"CONTINUE", "ROLLBACK"}:
        raise _error("InvalidParameterException", "The valid values are CONTINUE and ROLLBACK.")
    record = store_of(self.ecs_backend).deployments.get(arn)
    if record is None:
        raise _error("ServiceDeploymentNotFoundException", f"Service deployment {arn} not found.")
    hooks = record.get("lifecycleHookDetails", [])
    hook = next((h for h in hooks if h["hookId"] == hook_id), None)
    if hook is None or hook["status"] != "AWAITING_ACTION" or record["status"] != "IN_PROGRESS":
        raise _error(
            "InvalidParameterException",
            f"Hook {hook_id} of service deployment {arn} is not awaiting action.",
        )
    hook["status"] = "SUCCEEDED"
    record["updatedAt"] = utcnow()
    if action == "ROLLBACK":
        roll_back(self.ecs_backend, record, "a ContinueServiceDeployment ROLLBACK")
    return {"serviceDeploymentArn": arn}


@cache
def install() -> None:
    from moto.core.responses import ActionResult  # noqa: PLC0415 - moto: local only
    from moto.ecs.responses import EC2ContainerServiceResponse as Ecs  # noqa: PLC0415

    create_service, update_service = Ecs.create_service, Ecs.update_service

    def answer(build: Any) -> Any:
        return lambda self: ActionResult(build(self))

    Ecs.create_service = lambda self: _create_service(self, create_service)  # type: ignore[method-assign]
    Ecs.update_service = lambda self: _update_service(self, update_service)  # type: ignore[method-assign]
    Ecs.list_service_deployments = answer(_list_service_deployments)  # type: ignore[attr-defined]
    Ecs.describe_service_deployments = answer(_describe_service_deployments)  # type: ignore[attr-defined]
    Ecs.describe_service_revisions = answer(_describe_service_revisions)  # type: ignore[attr-defined]
    Ecs.stop_service_deployment = answer(_stop_service_deployment)  # type: ignore[attr-defined]
    Ecs.continue_service_deployment = answer(_continue_service_deployment)  # type: ignore[attr-defined]
