"""Who may queue actions, and who may take them: the actions queue's policy, and the operators'
role and policy.

The queue policy is evaluated here as IAM evaluates a resource policy's explicit denies, for the
principals that matter: the planners, the operators, the executor, anyone else in the account,
anyone outside it.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from typing import Any

import pytest

from tests.unit.iam_reference import ACCOUNT, TEMPLATE, grants, physical_arn, resolve

RESOURCES = TEMPLATE.resources
QUEUE_POLICY = RESOURCES["ActionsQueuePolicy"]["Properties"]
QUEUE_ARN = {"Fn::GetAtt": ["ActionsQueue", "Arn"]}
CONSUME = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility")
SSO_PATTERN = (
    f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_Operators_*"
)
SSO_ROLE = (
    f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/"
    "AWSReservedSSO_Operators_0123456789abcdef"
)


def _value(value: Any, operator_role_arn: str) -> list[str]:
    """A condition value as CloudFormation resolves it, for OperatorRoleArn given or not."""
    if isinstance(value, list):
        return [v for item in value for v in _value(item, operator_role_arn)]
    if isinstance(value, dict) and "Fn::If" in value:
        condition, created, given = value["Fn::If"]
        assert condition == "CreateOperatorRole"
        return _value(given if operator_role_arn else created, operator_role_arn)
    if value == {"Ref": "OperatorRoleArn"}:
        return [operator_role_arn]
    if value == {"Ref": "AWS::AccountId"}:
        return [ACCOUNT]
    return [resolve(value)]


def _holds(operator: str, key: str, expected: list[str], context: dict[str, str]) -> bool:
    actual = context.get(key)
    if operator == "StringNotEquals":
        return actual is None or actual not in expected
    if operator == "ArnNotLike":
        return actual is None or not any(fnmatchcase(actual, p) for p in expected)
    raise AssertionError(f"no evaluation here for {operator}")


def denied(principal: str, action: str, *, operator_role_arn: str = "") -> bool:
    """Whether the queue policy explicitly denies `principal` (a role ARN) the action."""
    account = principal.split(":")[4]
    context = {"aws:PrincipalArn": principal, "aws:PrincipalAccount": account}
    for statement in QUEUE_POLICY["PolicyDocument"]["Statement"]:
        actions = statement["Action"]
        actions = [actions] if isinstance(actions, str) else actions
        if statement["Effect"] != "Deny" or not any(fnmatchcase(action, a) for a in actions):
            continue
        if all(
            _holds(operator, key, _value(value, operator_role_arn), context)
            for operator, keys in statement["Condition"].items()
            for key, value in keys.items()
        ):
            return True
    return False


def _functions_sending_to_the_queue() -> set[str]:
    return {
        g.policy
        for g in grants()
        if "sqs:SendMessage" in g.actions
        and QUEUE_ARN in g.resources
        and RESOURCES[g.policy]["Type"] == "AWS::Serverless::Function"
    }


PLANNERS = sorted(_functions_sending_to_the_queue())
OTHER_ROLES = [
    f"arn:aws:iam::{ACCOUNT}:role/Admin",
    f"arn:aws:iam::{ACCOUNT}:role/team-checkout-deployer",
    physical_arn("ExecutorFunctionRole"),
    physical_arn("CostReportFunctionRole"),
    physical_arn("SchedulerRole"),
]


def test_the_planners_are_the_functions_that_decide_actions() -> None:
    assert PLANNERS == [
        "AlarmsFunction",
        "CanaryHookFunction",  # queues its verdicts
        "DeploymentEventsFunction",
        "EcrPushFunction",
        "PlacementFailuresFunction",
        "ScanEventsFunction",
        "ScheduleFunction",
    ]


@pytest.mark.parametrize("function", PLANNERS)
def test_a_planner_may_queue_actions(function: str) -> None:
    assert not denied(physical_arn(f"{function}Role"), "sqs:SendMessage")


def test_the_operator_role_the_stack_creates_may_queue_actions() -> None:
    assert not denied(physical_arn("OperatorRole"), "sqs:SendMessage")


def test_an_operator_role_of_ones_own_may_queue_actions_even_named_by_a_pattern() -> None:
    # Given OperatorRoleArn names Identity Center's role for a permission set, by pattern
    # Then that role may queue actions, and the role the stack would have created may not
    assert not denied(SSO_ROLE, "sqs:SendMessage", operator_role_arn=SSO_PATTERN)
    assert denied(physical_arn("OperatorRole"), "sqs:SendMessage", operator_role_arn=SSO_PATTERN)


@pytest.mark.parametrize("principal", OTHER_ROLES)
def test_no_other_role_of_the_account_may_queue_actions(principal: str) -> None:
    # An admin with sqs:* in its own policy included: the deny is explicit.
    assert denied(principal, "sqs:SendMessage")


@pytest.mark.parametrize("action", CONSUME)
def test_only_the_executor_takes_actions_off_the_queue(action: str) -> None:
    # The event source mapping receives and deletes with the executor's role.
    assert not denied(physical_arn("ExecutorFunctionRole"), action)
    others = [physical_arn(f"{p}Role") for p in PLANNERS] + [physical_arn("OperatorRole")]
    assert all(denied(p, action) for p in [*others, *OTHER_ROLES[:2]])


def test_the_consumer_is_the_function_the_queue_feeds() -> None:
    [route] = [r for r in TEMPLATE.queue_routes if r.queue == "ActionsQueue"]
    [statement] = [
        s
        for s in QUEUE_POLICY["PolicyDocument"]["Statement"]
        if "sqs:ReceiveMessage" in s["Action"]
    ]
    assert statement["Condition"]["ArnNotLike"]["aws:PrincipalArn"] == {
        "Fn::GetAtt": [f"{route.function}Role", "Arn"]
    }
    assert "sqs:PurgeQueue" in statement["Action"]


@pytest.mark.parametrize(
    "action", ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:SetQueueAttributes"]
)
def test_no_principal_of_another_account_may_touch_the_queue(action: str) -> None:
    # Even one whose role is named like a planner's
    stranger = physical_arn("EcrPushFunctionRole").replace(ACCOUNT, "210987654321")
    assert denied(stranger, action)


def test_the_queue_policy_only_denies() -> None:
    # It adds no sender: identity policies in this account still have to allow each one.
    statements = QUEUE_POLICY["PolicyDocument"]["Statement"]
    assert {s["Effect"] for s in statements} == {"Deny"}
    assert {str(s["Principal"]) for s in statements} == {"*"}
    assert QUEUE_POLICY["Queues"] == [{"Ref": "ActionsQueue"}]


# -- the operators' role and policy -----------------------------------------------------------


def test_the_operator_role_is_created_unless_one_is_given() -> None:
    assert RESOURCES["OperatorRole"]["Condition"] == "CreateOperatorRole"
    assert TEMPLATE.body["Conditions"]["CreateOperatorRole"] == {
        "Fn::Equals": [{"Ref": "OperatorRoleArn"}, ""]
    }
    policy = RESOURCES["OperatorPolicy"]["Properties"]
    assert policy["Roles"] == {
        "Fn::If": ["CreateOperatorRole", [{"Ref": "OperatorRole"}], {"Ref": "AWS::NoValue"}]
    }
    outputs = TEMPLATE.body["Outputs"]
    assert outputs["OperatorRoleArn"]["Value"] == {
        "Fn::If": [
            "CreateOperatorRole",
            {"Fn::GetAtt": ["OperatorRole", "Arn"]},
            {"Ref": "OperatorRoleArn"},
        ]
    }
    assert outputs["OperatorPolicyArn"]["Value"] == {"Ref": "OperatorPolicy"}


def test_the_operator_role_trusts_this_account_narrowed_to_the_operator_principal() -> None:
    # Given the created role's trust policy
    [trust] = RESOURCES["OperatorRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]

    # Then only principals of this account may assume it (each also needs its own permission)
    assert trust["Principal"] == {
        "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
    }
    assert trust["Action"] == "sts:AssumeRole"
    # and with OperatorPrincipalArn, only principals whose ARN matches it
    condition, narrowed, default = trust["Condition"]["Fn::If"]
    assert condition == "HasOperatorPrincipal"
    assert narrowed == {"ArnLike": {"aws:PrincipalArn": {"Ref": "OperatorPrincipalArn"}}}
    assert default == {"Ref": "AWS::NoValue"}


@pytest.mark.parametrize(
    ("parameter", "value", "valid"),
    [
        ("OperatorRoleArn", "", True),
        ("OperatorRoleArn", f"arn:aws:iam::{ACCOUNT}:role/platform/operators", True),
        ("OperatorRoleArn", SSO_PATTERN, True),
        ("OperatorRoleArn", "operators", False),
        ("OperatorRoleArn", f"arn:aws:iam::{ACCOUNT}:user/alice", False),
        ("OperatorPrincipalArn", "", True),
        ("OperatorPrincipalArn", f"arn:aws:iam::{ACCOUNT}:user/alice", True),
        ("OperatorPrincipalArn", SSO_PATTERN, True),
        ("OperatorPrincipalArn", "*", False),
        ("OperatorPrincipalArn", f"arn:aws:sts::{ACCOUNT}:assumed-role/x/y", False),
    ],
)
def test_operator_parameters_take_role_arns_or_patterns(
    parameter: str, value: str, valid: bool
) -> None:
    pattern = TEMPLATE.body["Parameters"][parameter]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) is valid
