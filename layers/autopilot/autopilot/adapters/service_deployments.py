"""Amazon ECS service deployments: find the one in flight, read it, stop it with rollback.

What each call answers, from the API reference:
- ListServiceDeployments (`cluster`, `service`, `status` filter; 20 per page and `nextToken`)
  answers `serviceDeployments` briefs, each with its `serviceDeploymentArn`:
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListServiceDeployments.html
- DescribeServiceDeployments (at most 20 ARNs) answers `serviceDeployments` (`status`,
  `createdAt`, `sourceServiceRevisions[].arn`, `targetServiceRevision.arn`,
  `rollback.startedAt`) and `failures` for ARNs it does not know:
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServiceDeployments.html
- DescribeServiceRevisions (at most 20 ARNs) answers `serviceRevisions`, each naming its
  `taskDefinition`; a deployment's revisions are known only by their ARNs until then:
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServiceRevisions.html
- StopServiceDeployment (`serviceDeploymentArn`, `stopType` ROLLBACK) rolls the deployment back
  to its source revision; PENDING and IN_PROGRESS become ROLLBACK_REQUESTED, one already
  stopping or rolling back goes on:
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_StopServiceDeployment.html
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stop-service-deployment.html
- DescribeServiceDeployments also answers `lifecycleStage` and `lifecycleHookDetails` (`hookId`,
  `targetType`, `status`, `expiresAt`, `timeoutAction`):
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentLifecycleHookDetail.html
- ContinueServiceDeployment (`serviceDeploymentArn`, `hookId`, `action` CONTINUE | ROLLBACK)
  answers a deployment paused at a PAUSE hook in AWAITING_ACTION:
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContinueServiceDeployment.html
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from autopilot.adapters.aws_errors import is_code
from autopilot.domain.errors import ConflictError, PermanentFailureError
from autopilot.domain.fleet import Service
from autopilot.domain.service_deployments import HookDetail, ServiceDeployment

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient

IAM_ACTIONS = (
    "ecs:DescribeServiceDeployments",
    "ecs:DescribeServiceRevisions",
    "ecs:ListServiceDeployments",
    "ecs:StopServiceDeployment",
)
# Approval gates: answer a deployment paused at the service's PAUSE hook.
CONTINUE_IAM_ACTIONS = ("ecs:ContinueServiceDeployment",)
_BATCH = 20  # both Describe calls take at most 20 ARNs
# A request ECS will never accept as sent: finished with a ledger entry, never retried.
_REFUSED = (
    "ClientException",
    "InvalidParameterException",
    "ServiceDeploymentNotFoundException",
    "UnsupportedFeatureException",
)


def _batches(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _BATCH):
        yield items[start : start + _BATCH]


class ServiceDeployments:
    def __init__(self, client: ECSClient) -> None:
        self._ecs = client

    def of_service(self, service: Service, statuses: Iterable[str]) -> list[ServiceDeployment]:
        arns: list[str] = []
        arguments: dict[str, Any] = {
            "cluster": service.cluster_arn,
            "service": service.arn,
            "status": sorted(statuses),
        }
        while True:
            response = self._ecs.list_service_deployments(**arguments)
            arns += [d["serviceDeploymentArn"] for d in response.get("serviceDeployments", [])]
            if not response.get("nextToken"):
                break
            arguments["nextToken"] = response["nextToken"]
        return self._described(arns)

    def one(self, arn: str) -> ServiceDeployment | None:
        found = self._described([arn])
        return found[0] if found else None

    def stop(self, arn: str) -> None:
        try:
            self._ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")
        except ClientError as exc:
            if is_code(exc, "ConflictException"):
                raise ConflictError(f"ECS cannot stop {arn} as it is now: {exc}") from exc
            if is_code(exc, *_REFUSED):
                raise PermanentFailureError(
                    f"ECS refused to stop {arn}: {exc}", "stop-refused"
                ) from exc
            raise

    def answer(self, arn: str, hook_id: str, action: str) -> None:
        """CONTINUE or ROLLBACK the deployment paused at hook `hook_id`."""
        try:
            self._ecs.continue_service_deployment(
                serviceDeploymentArn=arn,
                hookId=hook_id,
                action=action,  # type: ignore[arg-type]
            )
        except ClientError as exc:
            if is_code(exc, "ConflictException", *_REFUSED):
                raise PermanentFailureError(
                    f"ECS refused to {action} {arn} at hook {hook_id}: {exc}", "continue-refused"
                ) from exc
            raise

    def _described(self, arns: Sequence[str]) -> list[ServiceDeployment]:
        raw: list[Any] = []
        for batch in _batches(arns):
            response = self._ecs.describe_service_deployments(serviceDeploymentArns=list(batch))
            raw += response.get("serviceDeployments", [])
        revisions = sorted(
            {
                summary["arn"]
                for deployment in raw
                for summary in (
                    *deployment.get("sourceServiceRevisions", []),
                    deployment.get("targetServiceRevision", {}),
                )
                if summary.get("arn")
            }
        )
        task_definitions = self._task_definitions(revisions)
        return [
            ServiceDeployment(
                arn=d["serviceDeploymentArn"],
                status=d.get("status", ""),
                target=task_definitions.get(d.get("targetServiceRevision", {}).get("arn", ""), ""),
                sources=tuple(
                    task_definitions.get(s.get("arn", ""), "")
                    for s in d.get("sourceServiceRevisions", [])
                ),
                created_at=d.get("createdAt"),
                rollback_started_at=d.get("rollback", {}).get("startedAt"),
                finished_at=d.get("finishedAt"),
                lifecycle_stage=d.get("lifecycleStage", ""),
                hooks=tuple(
                    HookDetail(
                        hook_id=h.get("hookId", ""),
                        target_type=h.get("targetType", ""),
                        status=h.get("status", ""),
                        expires_at=h.get("expiresAt"),
                        timeout_action=h.get("timeoutAction", ""),
                    )
                    for h in d.get("lifecycleHookDetails", [])
                ),
            )
            for d in raw
        ]

    def _task_definitions(self, revision_arns: Sequence[str]) -> dict[str, str]:
        """Service revision ARN -> the task definition it runs."""
        found: dict[str, str] = {}
        for batch in _batches(revision_arns):
            response = self._ecs.describe_service_revisions(serviceRevisionArns=list(batch))
            found.update(
                (r["serviceRevisionArn"], r.get("taskDefinition", ""))
                for r in response.get("serviceRevisions", [])
            )
        return found
