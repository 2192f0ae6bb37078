"""Approval gates: a service tagged `autopilot:approve=on` ships a deploy only once a person
approves it at the service's own ECS `PAUSE` lifecycle hook.

ECS does the waiting. When a deployment reaches a stage with a PAUSE hook, ECS pauses it, shows
the hook in DescribeServiceDeployments' `lifecycleHookDetails` as AWAITING_ACTION, and waits for
ContinueServiceDeployment (CONTINUE or ROLLBACK) or for the hook's timeout, when it takes the
hook's `timeoutAction` (ROLLBACK unless the service says CONTINUE):
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/pause-lifecycle-hooks.html
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/continue-service-deployment.html
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContinueServiceDeployment.html

The hook belongs to the service's infrastructure code: the automation only checks it is there
and that an unanswered pause cannot ship, and never rewrites deploymentConfiguration.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

import msgspec

from autopilot.domain.decisions import Skip
from autopilot.domain.fleet import Service
from autopilot.domain.service_deployments import ROLLED_BACK, ROLLING_BACK, HookDetail
from autopilot.domain.service_deployments import ServiceDeployment as Deployment

PAUSE = "PAUSE"
AWAITING = "AWAITING_ACTION"
# What ContinueServiceDeployment is asked for each operator command.
ACTIONS: dict[str, Literal["CONTINUE", "ROLLBACK"]] = {"approve": "CONTINUE", "reject": "ROLLBACK"}
NO_GATE = "no-approval-gate"  # the deploy's skip code: the tag asks for a gate the service lacks
NOTHING_WAITING = "nothing-waiting"
HOOK_ENDED = "hook-ended"


def approval_gate(service: Service, approve: bool) -> Skip | None:
    """Why a deploy to a service that asks for approval must not go out; None: it may (the
    service does not ask, or its PAUSE hook will hold the deployment for a person)."""
    if not approve:
        return None
    lift = "or set autopilot:approve off"
    if not service.shifts_traffic:
        return Skip(
            f"autopilot:approve is on, but {service.label} deploys with {service.rollout}, which "
            "has no ECS lifecycle hooks: give it deploymentConfiguration.strategy BLUE_GREEN, "
            f"LINEAR or CANARY with a PAUSE hook, {lift}",
            NO_GATE,
        )
    if not service.pause_hooks:
        return Skip(
            f"autopilot:approve is on, but {service.label} has no PAUSE hook in "
            "deploymentConfiguration.lifecycleHooks, so nothing would wait for approval: add "
            f"one (targetType PAUSE, timeoutConfiguration.action ROLLBACK), {lift}",
            NO_GATE,
        )
    shipping = [h for h in service.pause_hooks if h.timeout_action != "ROLLBACK"]
    if shipping:
        stages = ", ".join(s for h in shipping for s in h.stages) or "its stages"
        return Skip(
            f"autopilot:approve is on, but the PAUSE hook of {service.label} at {stages} has "
            "timeoutConfiguration.action CONTINUE: an unanswered pause would ship; set it to "
            f"ROLLBACK, {lift}",
            NO_GATE,
        )
    return None


class Waiting(msgspec.Struct, frozen=True):
    """A service deployment paused at a PAUSE hook, waiting for a person."""

    deployment: Deployment
    hook: HookDetail

    @property
    def stage(self) -> str:
        return self.deployment.lifecycle_stage or "its PAUSE hook"


def waiting(deployments: Iterable[Deployment]) -> Waiting | None:
    """The newest deployment in progress whose PAUSE hook awaits action, and that hook."""
    found = [
        Waiting(d, hook)
        for d in deployments
        if d.status == "IN_PROGRESS"
        for hook in d.hooks
        if hook.target_type == PAUSE and hook.status == AWAITING
    ]
    found.sort(key=lambda w: w.deployment.created_at.timestamp() if w.deployment.created_at else 0)
    return found[-1] if found else None


def hook_of(deployment: Deployment, hook_id: str) -> HookDetail | None:
    return next((h for h in deployment.hooks if h.hook_id == hook_id), None)


class Answered(msgspec.Struct, frozen=True):
    """What ECS shows after an earlier attempt may have answered the hook: `done` when the
    answer this command gives is what happened (record it, call nothing)."""

    done: bool
    note: str


def after_answer(kind: str, deployment: Deployment | None, hook_id: str) -> Answered | None:
    """A retry of approve or reject whose entry names the hook: None when the hook still awaits
    action (answer it); else what happened instead, never answered again."""
    if deployment is None:
        return Answered(False, "ECS no longer knows the service deployment")
    hook = hook_of(deployment, hook_id)
    if hook is not None and hook.status == AWAITING and deployment.status == "IN_PROGRESS":
        return None
    hook_status = hook.status if hook is not None else "gone"
    rolling_back = deployment.status in ROLLING_BACK or deployment.status == ROLLED_BACK
    rejected = kind == "reject" and rolling_back and hook_status != "TIMED_OUT"
    approved = (
        kind == "approve" and hook_status in {"SUCCEEDED", "IN_PROGRESS"} and not rolling_back
    )
    done = rejected or approved
    return Answered(
        done, f"ECS shows the hook {hook_status} and the deployment {deployment.status}"
    )


def waiting_reason(found: Waiting, now: datetime) -> str:
    """When the pause ends on its own, and how."""
    hook = found.hook
    action = hook.timeout_action or "ROLLBACK"
    then = "rolls it back" if action == "ROLLBACK" else "ships it"
    if hook.expires_at is None:
        return f"waiting at {found.stage}; if nobody answers, ECS {then} ({action})"
    left = max(int((hook.expires_at - now).total_seconds() // 60), 0)
    return (
        f"waiting at {found.stage} until {hook.expires_at.isoformat(timespec='minutes')} "
        f"({left // 60} h {left % 60} min from now); if nobody answers by then, ECS {then} "
        f"({action})"
    )
