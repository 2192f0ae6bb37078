"""Reading template.yaml the way CloudFormation would, enough to stand the app up locally."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_SHORT_FORMS = {
    "Ref": "Ref",
    "Condition": "Condition",
    **{
        name: f"Fn::{name}"
        for name in (
            "GetAtt",
            "Sub",
            "If",
            "Equals",
            "Not",
            "And",
            "Or",
            "Join",
            "Select",
            "Split",
            "FindInMap",
            "ImportValue",
            "GetAZs",
            "Base64",
            "Cidr",
            "Transform",
        )
    },
}


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that reads CloudFormation's short forms (!Ref, !GetAtt, !Sub...)."""


def _short_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = _SHORT_FORMS.get(suffix)
    if name is None:
        raise yaml.constructor.ConstructorError(
            None, None, f"unknown tag !{suffix}", node.start_mark
        )
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if name == "Fn::GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _short_form)


@dataclass(frozen=True)
class RuleRoute:
    """An EventBridge rule that invokes a function."""

    function: str
    name: str
    pattern: Mapping[str, Any]


@dataclass(frozen=True)
class QueueRoute:
    """An SQS queue that feeds a function."""

    function: str
    queue: str
    batch_size: int


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_uri: Path
    handler: str
    environment: Mapping[str, Any]
    timeout_seconds: int = 3  # Lambda's default


@dataclass
class Template:
    root: Path
    body: Mapping[str, Any]
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    rules: list[RuleRoute] = field(default_factory=list)
    queue_routes: list[QueueRoute] = field(default_factory=list)
    # schedule document action -> the function a Scheduler schedule delivers it to
    schedule_routes: dict[str, str] = field(default_factory=dict)
    # functions ECS invokes as lifecycle hooks: those a role ecs.amazonaws.com assumes may invoke
    hook_routes: list[str] = field(default_factory=list)

    @property
    def resources(self) -> Mapping[str, Mapping[str, Any]]:
        return self.body["Resources"]  # type: ignore[no-any-return]

    def of_type(self, kind: str) -> dict[str, Mapping[str, Any]]:
        return {k: v.get("Properties", {}) for k, v in self.resources.items() if v["Type"] == kind}

    def parameter_defaults(self) -> dict[str, str]:
        return {
            name: str(spec.get("Default", ""))
            for name, spec in self.body.get("Parameters", {}).items()
        }


def load_template(path: Path) -> Template:
    body = yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    template = Template(root=path.parent, body=body)
    global_env = (
        body.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    )
    for logical_id, props in template.of_type("AWS::Serverless::Function").items():
        env = {**global_env, **props.get("Environment", {}).get("Variables", {})}
        template.functions[logical_id] = FunctionSpec(
            logical_id=logical_id,
            code_uri=path.parent / props["CodeUri"],
            handler=props["Handler"],
            environment=env,
            timeout_seconds=int(
                props.get("Timeout", body.get("Globals", {}).get("Function", {}).get("Timeout", 3))
            ),
        )
        for event_name, event in props.get("Events", {}).items():
            event_props = event.get("Properties", {})
            if event["Type"] == "EventBridgeRule":
                template.rules.append(RuleRoute(logical_id, event_name, event_props["Pattern"]))
            elif event["Type"] == "SQS":
                queue = event_props["Queue"]["Fn::GetAtt"][0]
                template.queue_routes.append(
                    QueueRoute(logical_id, queue, int(event_props.get("BatchSize", 10)))
                )
    for props in template.of_type("AWS::Scheduler::Schedule").values():
        target = props["Target"]["Arn"]
        document = props["Target"].get("Input", "")
        if isinstance(document, dict) and "Fn::Sub" in document:
            document = document["Fn::Sub"]
            document = document[0] if isinstance(document, list) else document
        action = _ACTION.search(str(document))
        if isinstance(target, dict) and "Fn::GetAtt" in target and action:
            template.schedule_routes[action["action"]] = target["Fn::GetAtt"][0]
    # One-off schedules the code creates go to the function named by SCHEDULE_FUNCTION_ARN.
    for spec in template.functions.values():
        one_off = spec.environment.get("SCHEDULE_FUNCTION_ARN")
        if isinstance(one_off, dict) and "Fn::GetAtt" in one_off:
            template.schedule_routes.setdefault("restore", one_off["Fn::GetAtt"][0])
    template.hook_routes = _lifecycle_hooks(template)
    return template


def _lifecycle_hooks(template: Template) -> list[str]:
    """Functions a role trusted by ecs.amazonaws.com may invoke (lambda:InvokeFunction on the
    function's ARN): the lifecycle hooks an operator can name in a service's
    deploymentConfiguration."""
    found: list[str] = []
    for props in template.of_type("AWS::IAM::Role").values():
        trust = props.get("AssumeRolePolicyDocument", {}).get("Statement", [])
        if not any(t.get("Principal", {}).get("Service") == "ecs.amazonaws.com" for t in trust):
            continue
        for policy in props.get("Policies", []):
            for statement in policy.get("PolicyDocument", {}).get("Statement", []):
                target = statement.get("Resource")
                if (
                    statement.get("Action") == "lambda:InvokeFunction"
                    and isinstance(target, dict)
                    and "Fn::GetAtt" in target
                ):
                    found.append(target["Fn::GetAtt"][0])
    return sorted(set(found))


_ACTION = re.compile(r'"action":\s*"(?P<action>[\w-]+)"')
