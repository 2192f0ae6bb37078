"""template.yaml's Rules: a production stack nobody hears from is refused at deploy time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from autopilot_tools.local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
RULES: dict[str, Any] = dict(TEMPLATE.body["Rules"])


def evaluate(node: Any, parameters: dict[str, str]) -> Any:
    """The rule functions the template's rules use, as CloudFormation evaluates them."""
    if isinstance(node, dict) and len(node) == 1:
        [(name, value)] = node.items()
        if name == "Ref":
            return parameters[value]
        if name == "Fn::Equals":
            left, right = (evaluate(v, parameters) for v in value)
            return left == right
        if name == "Fn::Not":
            return not evaluate(value[0], parameters)
        if name == "Fn::Or":
            return any(evaluate(v, parameters) for v in value)
        if name == "Fn::And":
            return all(evaluate(v, parameters) for v in value)
        raise AssertionError(f"rule function {name} is not evaluated here")
    return node


def refused(parameters: dict[str, str]) -> list[str]:
    """The descriptions of the assertions CloudFormation would fail for these parameters."""
    failed: list[str] = []
    for rule in RULES.values():
        if "RuleCondition" in rule and not evaluate(rule["RuleCondition"], parameters):
            continue
        failed.extend(
            a["AssertDescription"]
            for a in rule["Assertions"]
            if not evaluate(a["Assert"], parameters)
        )
    return failed


DEFAULTS = TEMPLATE.parameter_defaults()


@pytest.mark.parametrize(
    ("overrides", "refuse"),
    [
        ({}, False),
        ({"Environment": "prod"}, True),
        ({"Environment": "prod", "NotificationEmail": "oncall@example.com"}, False),
        ({"Environment": "prod", "ChatWebhookSecretArn": "arn:aws:secretsmanager:x"}, False),
    ],
)
def test_prod_needs_an_email_or_a_chat_webhook(overrides: dict[str, str], refuse: bool) -> None:
    # When a stack is deployed with these parameters
    failed = refused({**DEFAULTS, **overrides})

    # Then a silent production stack is refused, saying what to add
    assert bool(failed) is refuse
    if refuse:
        assert "needs NotificationEmail or ChatWebhookSecretArn" in failed[0]


def test_samconfig_pins_no_region_and_its_prod_passes_the_rules() -> None:
    text = (ROOT / "samconfig.toml").read_text(encoding="utf-8")
    assert "\nregion" not in text
    assert "NotificationEmail=" in text.split("[prod.deploy.parameters]")[1]
