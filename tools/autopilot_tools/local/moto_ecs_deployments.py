"""ECS's own blue/green, linear and canary deployments, as far as a rollback sees them, added to
moto 5.2.5 (which drops `deploymentConfiguration` at CreateService and implements none of the
service deployment calls). Minimal and faithful: nothing moves by itself; a test (or a fuller
local deployment engine, later) completes a deployment with `complete_service_deployments`.

What it adds, field by field as the API reference defines them:

- CreateService keeps `deploymentConfiguration` (`strategy` ROLLING | BLUE_GREEN | LINEAR |
  CANARY, `bakeTimeInMinutes`, ...) for DescribeServices to answer:
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html
- UpdateService to another task definition, on an ECS-controller service whose strategy is
  BLUE_GREEN, LINEAR or CANARY, creates a service deployment, IN_PROGRESS: its
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
- A PAUSE lifecycle hook: when the service's deploymentConfiguration.lifecycleHooks holds a hook
  of `targetType` PAUSE, its deployment waits at the hook's first `lifecycleStages` entry (the
  deployment's `lifecycleStage`) with one `lifecycleHookDetails` entry: `hookId`
  (`ecs-pause-...`, the form the developer guide shows), `targetType` PAUSE, `status`
  AWAITING_ACTION, `expiresAt` (now plus `timeoutConfiguration.timeoutInMinutes`, default
  1440) and `timeoutAction` (`timeoutConfiguration.action`, default ROLLBACK). No `targetArn`:
  "For PAUSE hooks, this field is not set". Nothing times out by itself here:
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentLifecycleHookDetail.html
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentLifecycleHookTimeoutConfiguration.html
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/pause-lifecycle-hooks.html
- ContinueServiceDeployment (`serviceDeploymentArn`, `hookId`, `action` CONTINUE, the default,
  or ROLLBACK) answers the ARN. It takes only a hook in AWAITING_ACTION of a deployment
  IN_PROGRESS, as the developer guide's prerequisites say; anything else answers
  InvalidParameterException (the API lists no conflict error; which one AWS sends is not
  documented), an unknown ARN ServiceDeploymentNotFoundException. CONTINUE makes the hook
  SUCCEEDED and, nothing else being modelled after the hook, the deployment SUCCESSFUL;
  ROLLBACK makes the hook SUCCEEDED and the deployment ROLLBACK_REQUESTED, the service back on
  its source revision, as StopServiceDeployment does:
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContinueServiceDeployment.html
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/continue-service-deployment.html
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from typing import Any

_TRAFFIC_SHIFTING = {"BLUE_GREEN", "LINEAR", "CANARY"}
_STOPPABLE = {"PENDING", "IN_PROGRESS"}
_ROLLING_BACK = {"STOP_REQUESTED", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS"}
_PAGE = 20  # ListServiceDeployments' default maxResults


@dataclass
class _Store:
    """One ECS backend's (account and region's) service deployments and revisions."""

    deployments: dict[str, dict[str, Any]] = field(default_factory=dict)  # by ARN, in order
    revisions: dict[str, dict[str, Any]] = field(default_factory=dict)
    current: dict[str, str] = field(default_factory=dict)  # service ARN -> its revision ARN


def _store(backend: Any) -> _Store:
    # Kept on the backend itself: moto's reset rebuilds the backend, and this goes with it.
    store: _Store | None = backend.__dict__.get("_autopilot_service_deployments")
    if store is None:
        store = _Store()
        backend.__dict__["_autopilot_service_deployments"] = store
    return store


def _arn(service: Any, kind: str, resource_id: str) -> str:
    prefix = service.arn.split(":service/", 1)[0]
    return f"{prefix}:{kind}/{service.cluster_name}/{service.name}/{resource_id}"


def _revision(backend: Any, service: Any, task_definition: str) -> str:
    """A new service revision of the service, running `task_definition`; its ARN."""
    from moto.core.utils import utcnow  # noqa: PLC0415 - moto: local only

    arn = _arn(service, "service-revision", str(10**18 + secrets.randbelow(9 * 10**18)))
    _store(backend).revisions[arn] = {
        "serviceRevisionArn": arn,
        "serviceArn": service.arn,
        "clusterArn": service.cluster_arn,
        "taskDefinition": backend.describe_task_definition(task_definition).arn,
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


def _shifts_traffic(service: Any) -> bool:
    configuration = getattr(service, "deployment_configuration", None) or {}
    return (
        service.deployment_controller.get("type", "ECS") == "ECS"
        and configuration.get("strategy") in _TRAFFIC_SHIFTING
    )


def _deploy(backend: Any, service: Any, source: str) -> None:
    """UpdateService moved the service from task definition `source`: the deployment."""
    from moto.core.utils import utcnow  # noqa: PLC0415

    store, now = _store(backend), utcnow()
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
        "deploymentConfiguration": dict(service.deployment_configuration),
    }
    pauses = [
        h
        for h in service.deployment_configuration.get("lifecycleHooks") or []
        if h.get("targetType") == "PAUSE"
    ]
    if pauses:
        # It waits at the first PAUSE hook's first stage (nothing before it is modelled).
        hook = pauses[0]
        timeout = hook.get("timeoutConfiguration") or {}
        minutes = int(timeout.get("timeoutInMinutes") or 1440)
        store.deployments[arn].update(
            lifecycleStage=(hook.get("lifecycleStages") or ["POST_TEST_TRAFFIC_SHIFT"])[0],
            lifecycleHookDetails=[
                {
                    "hookId": f"ecs-pause-{secrets.token_urlsafe(32)}",
                    "targetType": "PAUSE",
                    "status": "AWAITING_ACTION",
                    "expiresAt": now + timedelta(minutes=minutes),
                    "timeoutAction": timeout.get("action") or "ROLLBACK",
                }
            ],
        )


def complete_service_deployments(service_arn: str) -> None:
    """What ECS does once a deployment's bake time is over: the service's deployments in
    flight become SUCCESSFUL (run it in the process that runs the moto server)."""
    from moto.core.utils import utcnow  # noqa: PLC0415
    from moto.ecs.models import ecs_backends  # noqa: PLC0415

    _, _, _, region, account, _ = service_arn.split(":", 5)
    for record in _store(ecs_backends[account][region]).deployments.values():
        if record["serviceArn"] == service_arn and record["status"] in _STOPPABLE:
            record.update(status="SUCCESSFUL", finishedAt=utcnow(), updatedAt=utcnow())


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
    if _shifts_traffic(service) and self._get_param("taskDefinition"):
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
        for d in _store(self.ecs_backend).deployments.values()
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
    return _described(_store(self.ecs_backend).deployments, arns, "serviceDeployments")


def _describe_service_revisions(self: Any) -> dict[str, Any]:
    arns = self._get_param("serviceRevisionArns") or []
    return _described(_store(self.ecs_backend).revisions, arns, "serviceRevisions")


def _stop_service_deployment(self: Any) -> dict[str, Any]:

    arn = self._get_param("serviceDeploymentArn")
    if (self._get_param("stopType") or "ROLLBACK") != "ROLLBACK":
        raise _error("InvalidParameterException", "The valid values are ROLLBACK.")
    store = _store(self.ecs_backend)
    record = store.deployments.get(arn)
    if record is None:
        raise _error("ServiceDeploymentNotFoundException", f"Service deployment {arn} not found.")
    if record["status"] in _STOPPABLE:
        _roll_back(self.ecs_backend, record, "a stop request")
    elif record["status"] not in _ROLLING_BACK:
        raise _error(
            "ConflictException", f"Service deployment {arn} cannot be stopped: {record['status']}."
        )
    return {"serviceDeploymentArn": arn}


def _roll_back(backend: Any, record: dict[str, Any], why: str) -> None:
    """ROLLBACK_REQUESTED: the source revision (blue) takes the traffic back."""
    from moto.core.utils import utcnow  # noqa: PLC0415

    store = _store(backend)
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
    record = _store(self.ecs_backend).deployments.get(arn)
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
    if action == "ROLLBACK":
        _roll_back(self.ecs_backend, record, "a ContinueServiceDeployment ROLLBACK")
    else:
        record.update(status="SUCCESSFUL", finishedAt=utcnow(), updatedAt=utcnow())
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
