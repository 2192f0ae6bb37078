"""template.yaml, checked against the code: permissions, routes, dependencies, sample events."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from autopilot_tools.local import fleet
from autopilot_tools.local.runner import LocalApp
from autopilot_tools.local.template import load_template
from autopilot_tools.permissions import FUNCTION_ACTIONS, OPERATOR_ACTIONS

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")


def granted_actions(logical_id: str) -> set[str]:
    """Every IAM action template.yaml grants a function or a managed policy (both branches of
    a condition)."""
    props = TEMPLATE.resources[logical_id]["Properties"]
    documents = props.get("Policies", []) if "Policies" in props else [props["PolicyDocument"]]
    actions: set[str] = set()
    for policy in documents:
        for statement in policy.get("Statement", []):
            for branch in _branches(statement):
                if branch.get("Effect") == "Allow":
                    action = branch["Action"]
                    actions.update([action] if isinstance(action, str) else action)
    return actions


def _branches(statement: dict[str, Any]) -> list[dict[str, Any]]:
    if "Fn::If" in statement:
        _, when_true, when_false = statement["Fn::If"]
        return [b for b in (when_true, when_false) if isinstance(b, dict) and "Effect" in b]
    return [statement]


@pytest.mark.parametrize("function", sorted(FUNCTION_ACTIONS))
def test_each_function_is_granted_exactly_what_its_adapters_call(function: str) -> None:
    # Given the IAM actions the function's adapters declare
    needed = FUNCTION_ACTIONS[function]

    # When the template's grants for that function are read
    granted = granted_actions(function)

    # Then they are the same set: nothing missing, nothing extra
    assert granted == needed


def test_every_function_in_the_template_has_its_permissions_declared() -> None:
    assert set(TEMPLATE.functions) == set(FUNCTION_ACTIONS)


def test_no_function_may_deregister_or_delete_task_definitions() -> None:
    # Rollbacks need old revisions: nothing in the automation may remove them.
    for function in TEMPLATE.functions:
        granted = granted_actions(function)
        assert not {a for a in granted if "Deregister" in a or "DeleteTaskDefinitions" in a}


def test_the_operator_policy_grants_exactly_what_the_command_line_calls() -> None:
    # Given what `autopilot status|history|rollback|pause|resume|release|report` call
    # When the operators' managed policy is read
    granted = granted_actions("OperatorPolicy")

    # Then it grants those, and nothing that changes a service but the actions queue
    assert granted == OPERATOR_ACTIONS
    assert not {a for a in granted if a.startswith(("ecs:Update", "ecs:Register", "iam:"))}


def _update_service_statement() -> dict[str, Any]:
    statements = TEMPLATE.resources["ExecutorFunction"]["Properties"]["Policies"][0]["Statement"]
    [update] = [s for s in statements if s.get("Action") == "ecs:UpdateService"]
    return update  # type: ignore[no-any-return]


def test_update_service_is_limited_to_services_that_opted_in() -> None:
    # Given the executor's UpdateService grant, with ManagedClusters empty (all clusters)
    update = _update_service_statement()
    condition, with_clusters, all_clusters = update["Condition"]["Fn::If"]

    # Then it is the services of this account and region that carry autopilot:track
    opted_in = {"Null": {"aws:ResourceTag/autopilot:track": "false"}}
    assert update["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:service/*/*"
    }
    assert condition == "HasManagedClusters"
    assert all_clusters == opted_in
    # and with ManagedClusters, only those services of the clusters named
    assert with_clusters["Null"] == opted_in["Null"]
    assert set(with_clusters) == {"Null", "ArnLike"}


def test_managed_clusters_become_one_cluster_arn_pattern_each() -> None:
    # Given the ecs:cluster values the template builds from ManagedClusters
    update = _update_service_statement()
    _, with_clusters, _ = update["Condition"]["Fn::If"]
    split = with_clusters["ArnLike"]["ecs:cluster"]["Fn::Split"]
    template, variables = split[1]["Fn::Sub"]
    delimiter, names = variables["Clusters"]["Fn::Join"]

    # When CloudFormation would evaluate them for ManagedClusters=prod,staging
    joined = delimiter.join(["prod", "staging"])
    patterns = template.replace("${Clusters}", joined).split(split[0])

    # Then each cluster is one exact ARN pattern (the Resource pins account and region)
    assert names == {"Ref": "ManagedClusters"}
    assert patterns == ["arn:*:ecs:*:*:cluster/prod", "arn:*:ecs:*:*:cluster/staging"]


def test_every_function_is_told_the_managed_clusters() -> None:
    env = TEMPLATE.body["Globals"]["Function"]["Environment"]["Variables"]
    assert env["MANAGED_CLUSTERS"] == {"Fn::Join": [",", {"Ref": "ManagedClusters"}]}
    assert TEMPLATE.body["Parameters"]["ManagedClusters"] == {
        "Type": "CommaDelimitedList",
        "Default": "",
        "Description": TEMPLATE.body["Parameters"]["ManagedClusters"]["Description"],
    }


def test_the_local_runner_joins_the_managed_clusters(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given ManagedClusters set for a local run, as a deploy would pass it
    monkeypatch.setenv("AUTOPILOT_PARAMETER_ManagedClusters", "prod, staging")
    app = LocalApp(ROOT, endpoint=None)
    spec = app.template.functions["ExecutorFunction"]

    # When the runner resolves the functions' MANAGED_CLUSTERS
    value = app._resolve(spec.environment["MANAGED_CLUSTERS"], app.template.parameter_defaults())

    # Then it is the names, comma-joined, as CloudFormation's Fn::Join gives them
    assert value == "prod,staging"


def test_the_ecr_rule_sends_every_image_action_to_the_planner() -> None:
    [rule] = [r for r in TEMPLATE.rules if r.function == "EcrPushFunction"]
    assert rule.pattern == {"source": ["aws.ecr"], "detail-type": ["ECR Image Action"]}


def test_the_actions_queue_is_fifo_and_ends_in_a_dead_letter_queue() -> None:
    actions = TEMPLATE.resources["ActionsQueue"]["Properties"]
    assert actions["FifoQueue"] is True
    assert actions["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["ActionsDeadLetterQueue", "Arn"]
    }
    executor_events = TEMPLATE.resources["ExecutorFunction"]["Properties"]["Events"]
    assert executor_events["Actions"]["Properties"]["FunctionResponseTypes"] == [
        "ReportBatchItemFailures"
    ]


def _requirement_names(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        text = line.split("#", 1)[0].strip()
        if text:
            name = re.split(r"[\[=<>~!]", text, maxsplit=1)[0].lower()
            pins[name] = text
    return pins


def test_the_layer_installs_the_runtime_dependencies_pyproject_declares() -> None:
    # Given the layer's requirements and the project's runtime dependencies
    layer = _requirement_names(
        (ROOT / "layers/autopilot/requirements.txt").read_text().splitlines()
    )
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    declared = _requirement_names(project)

    # Then every layer requirement is declared with the same pin (pyyaml is for the CLI only)
    assert layer == {name: spec for name, spec in declared.items() if name != "pyyaml"}


@pytest.mark.parametrize(
    ("file", "repository", "build"),
    [("ecr_image_push.json", "web", 2), ("ecr_image_push_semver.json", "api", 142)],
)
def test_sample_push_events_carry_the_digests_the_demo_fleet_pushes(
    file: str, repository: str, build: int
) -> None:
    event = json.loads((ROOT / "events" / file).read_text())
    assert event["detail"]["repository-name"] == repository
    assert event["detail"]["image-digest"] == fleet.digest_of(repository, build)


def test_every_suppressed_checkov_finding_says_why() -> None:
    # Given every finding template.yaml tells checkov to skip
    skips = [
        (logical_id, skip)
        for logical_id, resource in TEMPLATE.resources.items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]

    # Then each names a check and gives its reason
    assert skips
    assert [s for s in skips if not re.fullmatch(r"CKV_AWS_\d+", s[1]["id"])] == []
    assert [s for s in skips if len(s[1].get("comment", "").split()) < 5] == []
