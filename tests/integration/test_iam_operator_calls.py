"""The operators' managed policy lets every `autopilot` command through, and nothing more.

Each command runs as an operator runs it against a deployed stack (its resources from the
stack's outputs and parameters, here a stack in moto), and every request any boto3 client sends
is recorded as the IAM action it needs: the commands that work, and a resent report that SES
refuses or whose answer is lost (those take the grants a failure needs). What they call is
then what OperatorPolicy grants.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ReadTimeoutError

from autopilot.adapters.ledger import Ledger
from autopilot.domain.ledger import Quarantine
from autopilot.domain.report import Week
from autopilot_tools.cli import main as cli
from autopilot_tools.cli import operator
from autopilot_tools.local import costs
from autopilot_tools.local.runner import LOCAL_PARAMETERS, LocalApp
from autopilot_tools.permissions import OPERATOR_ACTIONS

STACK = "ecs-autopilot-prod"
UNVERIFIED = "ecs-autopilot-unverified"  # the same stack, its report sender not verified in SES
WEEK = Week.parse("2026-W46")
DIGEST = "sha256:" + "ab" * 32
# IAM's prefix where it differs from the API's signing name.
_IAM_PREFIX = {"tagging": "tag", "monitoring": "cloudwatch"}
# Calls that need no permission.
_UNAUTHORIZED = {"sts:GetCallerIdentity"}
# Granted, and called only where the stack has a chat webhook (no test posts to one).
_ONLY_WITH_A_WEBHOOK = {"secretsmanager:GetSecretValue"}


class Recorder:
    """Every API call any client makes while recording, as the IAM action it needs."""

    def __init__(self) -> None:
        self.actions: set[str] = set()
        self.recording = False
        self.lose_answer_of: str | None = None  # the next call of it goes out, its answer is lost

    def wrap(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def make_api_call(client: BaseClient, operation: str, params: Any) -> Any:
            if self.recording:
                prefix = client.meta.service_model.signing_name
                self.actions.add(f"{_IAM_PREFIX.get(prefix, prefix)}:{operation}")
            answer = original(client, operation, params)
            if operation == self.lose_answer_of:
                self.lose_answer_of = None
                raise ReadTimeoutError(endpoint_url=f"{operation} (answer lost)")
            return answer

        return make_api_call

    @contextmanager
    def on(self) -> Iterator[None]:
        self.recording = True
        try:
            yield
        finally:
            self.recording = False


def _parameters(sender: str) -> list[dict[str, str]]:
    return [
        {"ParameterKey": "ReportSender", "ParameterValue": sender},
        {
            "ParameterKey": "ReportRecipients",
            "ParameterValue": LOCAL_PARAMETERS["ReportRecipients"],
        },
        {"ParameterKey": "LedgerRetentionDays", "ParameterValue": "400"},
    ]


def _stack_template(app: LocalApp) -> dict[str, Any]:
    """The stack as the CLI sees it: its outputs and parameters, and the reports bucket."""
    text = {"Type": "String", "Default": ""}
    return {
        "Parameters": {
            "ReportSender": text,
            "ReportRecipients": text,
            "LedgerRetentionDays": text,
            "ChatWebhookSecretArn": text,
        },
        "Resources": {"ReportsBucket": {"Type": "AWS::S3::Bucket"}},
        "Outputs": {
            "LedgerTableName": {"Value": app.physical("LedgerTable")["Ref"]},
            "ActionsQueueUrl": {"Value": app.physical("ActionsQueue")["Ref"]},
            "ActionsDeadLetterQueueUrl": {"Value": app.physical("ActionsDeadLetterQueue")["Ref"]},
            "NotificationTopicArn": {"Value": app.physical("NotificationTopic")["Ref"]},
        },
    }


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recording = Recorder()
    # Every client's requests go through this one method (botocore's stubs leave it out).
    original = getattr(BaseClient, "_make_api_call")  # noqa: B009
    monkeypatch.setattr(BaseClient, "_make_api_call", recording.wrap(original))
    # The executor does not run here: a queued action is reported as queued at once.
    monkeypatch.setattr(operator, "_WAIT_SECONDS", 0)
    return recording


@pytest.fixture
def deployed(app: LocalApp, services: dict[str, str]) -> Iterator[LocalApp]:
    """Given the stack deployed, with a managed fleet, a quarantined digest, and a week of
    costs and utilization."""
    with app.aws_environment():
        for stack, sender in ((STACK, LOCAL_PARAMETERS["ReportSender"]), (UNVERIFIED, "x@y.z")):
            boto3.client("cloudformation").create_stack(
                StackName=stack,
                TemplateBody=json.dumps(_stack_template(app)),
                Parameters=_parameters(sender),
            )
        Ledger(app.physical("LedgerTable")["Ref"], retention_days=400).quarantine(
            Quarantine(DIGEST, services["prod/web"], "rolled back", datetime.now(UTC))
        )
        costs.load_costs(None, WEEK)
        costs.load_utilization(WEEK)
        # two actions given up: prod/web's is redriven, staging/web's is passed over
        for label in ("prod/web", "staging/web"):
            boto3.client("sqs").send_message(
                QueueUrl=app.physical("ActionsDeadLetterQueue")["Ref"],
                MessageBody=json.dumps({"kind": "pause", "service_arn": services[label]}),
                MessageGroupId=services[label],
                MessageDeduplicationId=f"given-up-{label.replace('/', '-')}",
            )
        yield app


COMMANDS = [
    ["status"],
    ["history", "prod/web"],
    ["rollback", "prod/web", "--to", "1"],
    ["pause", "prod/web"],
    ["resume", "prod/web"],
    ["release", DIGEST],
    ["redrive", "prod/web"],
    ["report", "--week", str(WEEK)],
    ["report", "--week", str(WEEK), "--resend"],
]


def test_the_operator_policy_is_exactly_what_the_commands_call(
    deployed: LocalApp, recorder: Recorder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # When an operator runs every command against the stack
    failed = []
    with deployed.aws_environment():
        for command in COMMANDS:
            extra = ["--out", str(tmp_path / "report.html")] if command[0] == "report" else []
            with recorder.on():
                code = cli.main(["--stack", STACK, "--json", *command, *extra])
            if code != 0:
                failed.append((command, capsys.readouterr()))
        # and resends the report where SES refuses it, and where SES's answer is lost
        resend = ["--json", "report", "--week", str(WEEK), "--resend"]
        with recorder.on():
            refused = cli.main(["--stack", UNVERIFIED, *resend])
            recorder.lose_answer_of = "SendRawEmail"
            lost = cli.main(["--stack", STACK, *resend])

    # Then each command worked, and the two resends said they did not
    assert failed == []
    assert (refused, lost) == (cli.EXIT_FAILED, cli.EXIT_FAILED)
    # and every call it made is granted, and every grant is used
    called = recorder.actions - _UNAUTHORIZED
    assert called <= OPERATOR_ACTIONS, f"not granted: {sorted(called - OPERATOR_ACTIONS)}"
    assert OPERATOR_ACTIONS - called <= _ONLY_WITH_A_WEBHOOK, sorted(OPERATOR_ACTIONS - called)
