"""template.yaml: nothing fails silently.

Every function Lambda invokes asynchronously keeps what failed and raises an alarm; every
dead-letter queue notifies whenever it grows; the executor's queue gives it time to finish; every
schedule keeps what it cannot deliver, and names each firing so that a retried delivery is the
same trigger. The functions and queues are found from the template, so a new one is held to the
same rules.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from autopilot.models.events import ScheduleDocument
from autopilot_tools.local import sample_events
from autopilot_tools.local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES = TEMPLATE.resources
TOPIC = {"Ref": "NotificationTopic"}
EVENTS_DLQ_ARN = {"Fn::GetAtt": ["EventsDeadLetterQueue", "Arn"]}
GLOBAL_ENV = TEMPLATE.body["Globals"]["Function"]["Environment"]["Variables"]
_ASYNC_SOURCES = {"EventBridgeRule", "Schedule", "ScheduleV2", "S3", "SNS", "CloudWatchLogs"}


def properties(logical_id: str) -> dict[str, Any]:
    props: dict[str, Any] = RESOURCES[logical_id].get("Properties", {})
    return props


def of_type(kind: str) -> dict[str, dict[str, Any]]:
    return {k: v.get("Properties", {}) for k, v in RESOURCES.items() if v["Type"] == kind}


def _target_function(arn: Any) -> str | None:
    if isinstance(arn, dict) and "Fn::GetAtt" in arn:
        return str(arn["Fn::GetAtt"][0])
    return None


def async_functions() -> set[str]:
    """Functions Lambda invokes asynchronously: EventBridge rules, Scheduler schedules (the
    template's, and the one-off ones a function creates with SCHEDULE_FUNCTION_ARN)."""
    found = set()
    for name, props in of_type("AWS::Serverless::Function").items():
        if any(e["Type"] in _ASYNC_SOURCES for e in props.get("Events", {}).values()):
            found.add(name)
        one_off = props.get("Environment", {}).get("Variables", {}).get("SCHEDULE_FUNCTION_ARN")
        if (target := _target_function(one_off)) is not None:
            found.add(target)
    for props in of_type("AWS::Scheduler::Schedule").values():
        if (target := _target_function(props["Target"]["Arn"])) is not None:
            found.add(target)
    return found


def queue_functions() -> set[str]:
    """Functions an SQS event source mapping invokes (synchronously, in batches)."""
    return {
        name
        for name, props in of_type("AWS::Serverless::Function").items()
        if any(e["Type"] == "SQS" for e in props.get("Events", {}).values())
    }


def hook_functions() -> set[str]:
    """Functions ECS invokes as lifecycle hooks (synchronously, reading their answer): those a
    role that ecs.amazonaws.com assumes may invoke."""
    found = set()
    for props in of_type("AWS::IAM::Role").values():
        trusted = props["AssumeRolePolicyDocument"]["Statement"]
        if not any(s.get("Principal", {}).get("Service") == "ecs.amazonaws.com" for s in trusted):
            continue
        for policy in props.get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                target = _target_function(statement["Resource"])
                if statement.get("Action") == "lambda:InvokeFunction" and target is not None:
                    found.add(target)
    return found


def errors_alarms_of(function: str) -> list[dict[str, Any]]:
    return [
        alarm
        for alarm in of_type("AWS::CloudWatch::Alarm").values()
        if alarm.get("Namespace") == "AWS/Lambda"
        and alarm.get("MetricName") == "Errors"
        and {"Name": "FunctionName", "Value": {"Ref": function}} in alarm.get("Dimensions", [])
    ]


def timeout_of(function: str) -> int:
    return int(properties(function).get("Timeout", TEMPLATE.body["Globals"]["Function"]["Timeout"]))


# -- asynchronous invocations -----------------------------------------------------------------


def test_the_asynchronously_invoked_functions_are_found_and_include_the_scheduled_ones() -> None:
    # Scheduler invokes Lambda asynchronously, like EventBridge rules: the schedule and cost
    # report functions are held to the same rules as the planners.
    assert async_functions() == {
        "EcrPushFunction",
        "ScanEventsFunction",
        "DeploymentEventsFunction",
        "AlarmsFunction",
        "PlacementFailuresFunction",
        "ScheduleFunction",
        "CostReportFunction",
        "FleetIndexFunction",
    }


def test_every_function_is_invoked_in_a_way_this_file_checks() -> None:
    # A function that is neither would escape every rule below.
    assert async_functions() | queue_functions() | hook_functions() == set(TEMPLATE.functions)


@pytest.mark.parametrize("function", sorted(async_functions()))
def test_an_asynchronously_invoked_function_keeps_what_failed_in_the_events_dlq(
    function: str,
) -> None:
    # Declared once in Globals; a function may override it (SAM merges the two).
    config = properties(function).get(
        "EventInvokeConfig", TEMPLATE.body["Globals"]["Function"].get("EventInvokeConfig")
    )
    assert config is not None, f"{function} has no EventInvokeConfig"
    assert config["MaximumRetryAttempts"] >= 1
    assert config["DestinationConfig"]["OnFailure"] == {
        "Type": "SQS",
        "Destination": EVENTS_DLQ_ARN,
    }


@pytest.mark.parametrize(
    "function", sorted(async_functions() | queue_functions() | hook_functions())
)
def test_every_function_has_an_errors_alarm_to_the_topic(function: str) -> None:
    [alarm] = errors_alarms_of(function)
    assert alarm["Statistic"] == "Sum"
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    assert alarm["TreatMissingData"] == "notBreaching"
    assert TOPIC in alarm["AlarmActions"]


@pytest.mark.parametrize("name", sorted(of_type("AWS::CloudWatch::Alarm")))
def test_every_alarm_notifies_the_topic(name: str) -> None:
    assert TOPIC in properties(name).get("AlarmActions", [])


def test_the_events_dlq_is_a_standard_queue() -> None:
    # Neither Lambda's on-failure destinations nor Scheduler's dead-letter queues take FIFO.
    assert not properties("EventsDeadLetterQueue").get("FifoQueue", False)


# -- lifecycle hooks ----------------------------------------------------------------------------


def test_the_canary_hook_is_the_one_function_ecs_invokes_and_it_is_never_invoked_async() -> None:
    # Given the functions a role trusted by ECS may invoke
    # Then it is the canary hook alone, which nothing invokes asynchronously (ECS reads its
    # answer: an on-failure destination would never fire)
    assert hook_functions() == {"CanaryHookFunction"}
    assert properties("CanaryHookFunction")["EventInvokeConfig"] == {"Ref": "AWS::NoValue"}
    assert "CanaryHookFunction" not in async_functions()


def test_the_role_ecs_assumes_may_invoke_the_canary_hook_and_nothing_else() -> None:
    role = properties("CanaryHookInvokeRole")
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert (trust["Principal"], trust["Action"]) == (
        {"Service": "ecs.amazonaws.com"},
        "sts:AssumeRole",
    )
    [policy] = role["Policies"]
    assert policy["PolicyDocument"]["Statement"] == [
        {
            "Sid": "InvokeTheCanaryHookOnly",
            "Effect": "Allow",
            "Action": "lambda:InvokeFunction",
            "Resource": {"Fn::GetAtt": ["CanaryHookFunction", "Arn"]},
        }
    ]
    # and an operator finds both ARNs in the stack's outputs
    outputs = TEMPLATE.body["Outputs"]
    assert outputs["CanaryHookFunctionArn"]["Value"] == {
        "Fn::GetAtt": ["CanaryHookFunction", "Arn"]
    }
    assert outputs["CanaryHookRoleArn"]["Value"] == {"Fn::GetAtt": ["CanaryHookInvokeRole", "Arn"]}


# -- the executor -----------------------------------------------------------------------------


def test_the_executors_failed_records_are_counted_and_alarmed() -> None:
    # Given the metric the executor emits through Powertools (namespace and service dimension
    # from the functions' environment)
    [alarm] = [
        a
        for a in of_type("AWS::CloudWatch::Alarm").values()
        if a.get("MetricName") == "ActionBatchItemFailures"
    ]

    # Then any failed record in five minutes notifies the topic
    assert alarm["Namespace"] == GLOBAL_ENV["POWERTOOLS_METRICS_NAMESPACE"]
    assert alarm["Dimensions"] == [
        {"Name": "service", "Value": GLOBAL_ENV["POWERTOOLS_SERVICE_NAME"]}
    ]
    assert (alarm["Statistic"], alarm["Period"]) == ("Sum", 300)
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    assert TOPIC in alarm["AlarmActions"]


@pytest.mark.parametrize("function", sorted(queue_functions()))
def test_a_queue_gives_its_function_six_timeouts_of_visibility(function: str) -> None:
    # Lambda's guidance for SQS event sources: visibility timeout >= 6x the function timeout.
    for event in properties(function)["Events"].values():
        if event["Type"] == "SQS":
            queue = event["Properties"]["Queue"]["Fn::GetAtt"][0]
            assert properties(queue)["VisibilityTimeout"] >= 6 * timeout_of(function)


def test_the_executor_has_five_minutes_and_the_redrive_is_a_backstop() -> None:
    # The executor dead-letters an action after 3 attempts itself; the redrive catches the rest.
    assert timeout_of("ExecutorFunction") == 300
    assert properties("ActionsQueue")["RedrivePolicy"]["maxReceiveCount"] > 3


def test_the_executor_may_hold_back_and_dead_letter_actions_and_nothing_more() -> None:
    statements = properties("ExecutorFunction")["Policies"][0]["Statement"]
    sqs = {
        s["Action"]: s["Resource"]
        for s in statements
        if isinstance(s, dict) and str(s.get("Action", "")).startswith("sqs:")
    }
    assert sqs == {
        "sqs:ChangeMessageVisibility": {"Fn::GetAtt": ["ActionsQueue", "Arn"]},
        "sqs:SendMessage": {"Fn::GetAtt": ["ActionsDeadLetterQueue", "Arn"]},
    }


# -- dead-letter queues -----------------------------------------------------------------------


def dead_letter_queues() -> set[str]:
    """Queues that receive what failed: redrive targets, on-failure destinations, Scheduler's
    and EventBridge's dead-letter configs, wherever the template names them."""
    found: set[str] = set()

    def walk(node: Any, failed: bool) -> None:
        if isinstance(node, dict):
            getatt = node.get("Fn::GetAtt")
            if failed and isinstance(getatt, list) and getatt[1] == "Arn":
                found.add(str(getatt[0]))
            for key, value in node.items():
                walk(
                    value, failed or key in {"deadLetterTargetArn", "OnFailure", "DeadLetterConfig"}
                )
        elif isinstance(node, list):
            for item in node:
                walk(item, failed)

    walk(TEMPLATE.body["Resources"], failed=False)
    return found


def growth_alarms_of(queue: str) -> list[dict[str, Any]]:
    alarms = []
    for alarm in of_type("AWS::CloudWatch::Alarm").values():
        stats = [q["MetricStat"] for q in alarm.get("Metrics", []) if "MetricStat" in q]
        if any(
            {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}
            in s["Metric"].get("Dimensions", [])
            for s in stats
        ):
            alarms.append(alarm)
    return alarms


def test_both_dead_letter_queues_are_found() -> None:
    assert dead_letter_queues() == {"ActionsDeadLetterQueue", "EventsDeadLetterQueue"}


@pytest.mark.parametrize("queue", sorted(dead_letter_queues()))
def test_a_dead_letter_queue_notifies_whenever_it_grows(queue: str) -> None:
    # Given the alarm on the queue's depth
    [alarm] = growth_alarms_of(queue)
    queries = {q["Id"]: q for q in alarm["Metrics"]}
    metrics = {
        q["Id"]: q["MetricStat"]["Metric"]["MetricName"]
        for q in queries.values()
        if "MetricStat" in q
    }
    [result] = [q for q in queries.values() if q.get("ReturnData", True)]

    # Then it reads the depth (NumberOfMessagesSent misses what redrive moves there), counts
    # messages someone is reading as still there, and alarms on any increase, not on "> 0"
    assert set(metrics.values()) == {
        "ApproximateNumberOfMessagesVisible",
        "ApproximateNumberOfMessagesNotVisible",
    }
    expression = result["Expression"]
    assert expression.startswith("DIFF(")
    assert all(re.search(rf"\b{i}\b", expression) for i in metrics)
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    # An empty queue that reports nothing reads as 0, so its first dead letter is growth too
    assert all(f"FILL({i}, 0)" in expression for i in metrics)
    # DIFF needs a previous value inside the evaluated range
    assert alarm["EvaluationPeriods"] >= 2
    assert alarm["DatapointsToAlarm"] == 1
    assert TOPIC in alarm["AlarmActions"]


# -- schedules --------------------------------------------------------------------------------


def test_every_schedule_keeps_what_it_cannot_deliver_and_may_put_it_there() -> None:
    role_sends = _role_allows("SchedulerRole", "sqs:SendMessage")
    for name, props in of_type("AWS::Scheduler::Schedule").items():
        target = props["Target"]
        assert target["DeadLetterConfig"] == {"Arn": EVENTS_DLQ_ARN}, name
        assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0, name
        assert target["RoleArn"] == {"Fn::GetAtt": ["SchedulerRole", "Arn"]}, name
    assert EVENTS_DLQ_ARN in role_sends


def test_the_executors_restore_schedules_use_the_scheduler_role_and_the_events_dlq() -> None:
    env = properties("ExecutorFunction")["Environment"]["Variables"]
    assert env["SCHEDULE_DEAD_LETTER_ARN"] == EVENTS_DLQ_ARN
    assert env["SCHEDULER_ROLE_ARN"] == {"Fn::GetAtt": ["SchedulerRole", "Arn"]}
    assert EVENTS_DLQ_ARN in _role_allows("SchedulerRole", "sqs:SendMessage")
    assert {"Fn::GetAtt": ["ScheduleFunction", "Arn"]} in _role_allows(
        "SchedulerRole", "lambda:InvokeFunction"
    )


def _role_allows(role: str, action: str) -> list[Any]:
    resources: list[Any] = []
    for policy in properties(role)["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            actions = statement["Action"]
            if action in ([actions] if isinstance(actions, str) else actions):
                found = statement["Resource"]
                resources.extend(found if isinstance(found, list) else [found])
    return resources


def _schedule_documents() -> dict[str, str]:
    """The Input of every schedule that delivers to the schedule function, its ${...} filled
    in with the parameters' defaults (SkipDates empty)."""
    defaults = TEMPLATE.parameter_defaults()
    documents = {}
    for name, props in of_type("AWS::Scheduler::Schedule").items():
        if _target_function(props["Target"]["Arn"]) != "ScheduleFunction":
            continue
        sub = props["Target"]["Input"]["Fn::Sub"]
        text = sub[0] if isinstance(sub, list) else sub
        documents[name] = re.sub(r"\$\{(\w+)\}", lambda m: defaults.get(m[1], ""), text)
    return documents


@pytest.mark.parametrize("name", sorted(_schedule_documents()))
def test_a_schedules_document_names_its_firing_and_parses(name: str) -> None:
    # Given the document the schedule delivers, as Scheduler fills it in
    text = _schedule_documents()[name]
    arn = f"arn:aws:scheduler:us-east-1:123456789012:schedule/default/{name}"
    at = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)
    delivered = sample_events.scheduler_delivery(json.loads(text), at, schedule_arn=arn)

    # When it is parsed
    document = ScheduleDocument.parse(delivered)

    # Then it names that firing of that schedule, whatever the attempt
    assert "<aws.scheduler.schedule-arn>" in text
    assert "<aws.scheduler.scheduled-time>" in text
    assert document.trigger_key() == f"{arn}@2026-11-20T19:00:00Z"
