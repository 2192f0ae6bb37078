"""The IAM actions each function needs, composed from what its adapters declare they call.

A test checks that template.yaml grants each function exactly these, no more, no fewer.
"""

from __future__ import annotations

from autopilot.adapters import codedeploy, ecr, ecs, ledger, notifier, queues, tagging

FUNCTION_ACTIONS: dict[str, frozenset[str]] = {
    "EcrPushFunction": frozenset(
        (*tagging.IAM_ACTIONS, *ecs.IAM_ACTIONS["read"], *queues.IAM_ACTIONS["actions"])
    ),
    "ExecutorFunction": frozenset(
        (
            *ecs.IAM_ACTIONS["deploy"],
            *ecr.IAM_ACTIONS,
            *codedeploy.IAM_ACTIONS,
            *ledger.IAM_ACTIONS,
            *notifier.IAM_ACTIONS,
        )
    ),
}
