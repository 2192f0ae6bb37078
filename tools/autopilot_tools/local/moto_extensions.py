"""What the local AWS needs and moto 5.2.5 lacks, added to moto in the process that runs it.

- CodeDeploy StopDeployment (moto answers 500 "not implemented", which boto3 retries for
  seconds): a deployment that has not ended becomes Stopped; one that has ended answers
  DeploymentAlreadyCompletedException, as CodeDeploy does.
- CloudWatch PutCompositeAlarm: moto keeps composite alarms (DescribeAlarms answers them under
  CompositeAlarms) and its PutMetricAlarm method already reads AlarmRule for them, but it routes
  no PutCompositeAlarm to it.
- ECS's own blue/green, linear and canary deployments: a service's deployment strategy, its
  service deployments and revisions, and StopServiceDeployment with rollback
  (`moto_ecs_deployments`, which cites the API reference for each field), and the engine
  that moves them through their stages (`ecs_engine`, with its two routes under /moto-api/).

moto dispatches an action to the response method named after it in snake_case, in server
mode and in-process (`mock_aws`) alike, so adding the method is enough.
"""

from __future__ import annotations

from functools import cache

from autopilot_tools.local import ecs_engine, moto_ecs_deployments

_ENDED = {"Succeeded", "Failed", "Stopped"}


@cache
def install() -> None:
    from moto.codedeploy.exceptions import CodeDeployException  # noqa: PLC0415
    from moto.codedeploy.responses import CodeDeployResponse  # noqa: PLC0415
    from moto.core.responses import ActionResult  # noqa: PLC0415

    class DeploymentAlreadyCompletedError(CodeDeployException):
        code = 400

        def __init__(self, deployment_id: str) -> None:
            super().__init__(
                "DeploymentAlreadyCompletedException",
                f"The deployment {deployment_id} has already completed.",
            )

    def stop_deployment(self: CodeDeployResponse) -> ActionResult:
        deployment_id = self._get_param("deploymentId")
        deployment = self.codedeploy_backend.get_deployment(deployment_id=deployment_id)
        if deployment.status in _ENDED:
            raise DeploymentAlreadyCompletedError(deployment_id)
        deployment.status = "Stopped"
        return ActionResult({"status": "Succeeded", "statusMessage": "stopped (local)"})

    CodeDeployResponse.stop_deployment = stop_deployment  # type: ignore[attr-defined]

    from moto.cloudwatch.responses import CloudWatchResponse  # noqa: PLC0415

    CloudWatchResponse.put_composite_alarm = CloudWatchResponse.put_metric_alarm  # type: ignore[attr-defined]

    moto_ecs_deployments.install()
    ecs_engine.install()
    from autopilot_tools.local import moto_canary  # noqa: PLC0415 - last: it wraps those before

    moto_canary.install()
