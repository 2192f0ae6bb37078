"""The local runner: the application's own resources on a moto server, events routed through
the rules template.yaml declares, handlers invoked the way Lambda invokes them.

EventBridge (moto's) does the pattern matching: each rule gets an SQS target here, because
moto cannot deliver to Lambda. A rule that matched leaves a message in its queue, and the
runner invokes that rule's function with the original event, byte for byte.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import sys
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TextIO

from autopilot import wiring
from autopilot.adapters import clients
from autopilot.models.lifecycle_hook import is_lifecycle_hook
from autopilot.observability import logger
from autopilot_tools.local import faults
from autopilot_tools.local.template import FunctionSpec, Template, load_template

if TYPE_CHECKING:
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef
    from mypy_boto3_sqs.type_defs import MessageTypeDef

STACK = "autopilot-local"
ACCOUNT = "123456789012"
REGION = "us-east-1"
NOTIFICATIONS_QUEUE = f"{STACK}-notifications"
# Locally, the report goes from and to addresses moto's SES accepts (the sender is verified).
LOCAL_PARAMETERS = {
    "ReportSender": "cost-report@ecs-autopilot.local",
    "ReportRecipients": "platform-team@ecs-autopilot.local",
}
CLOCK = "AUTOPILOT_LOCAL_NOW"  # an ISO time: the handlers' clock for this run (a later hour...)
_MAX_RECEIVES = 20  # a safety stop: the redrive policy moves a poisoned message out sooner
_ASYNC_ATTEMPTS = 3  # Lambda retries an asynchronous invocation twice


class LocalRunnerError(RuntimeError):
    """The local environment cannot run the application as asked."""


class BadInputError(LocalRunnerError):
    """Input the runner cannot send as it is; the message says what is wrong and what to do."""


@dataclass(frozen=True)
class EventInput:
    """One event to send, and where it was read from (for messages that name the file)."""

    path: Path
    event: dict[str, Any]
    position: int | None = None  # its place in a file holding a list; None for a lone event

    @property
    def where(self) -> str:
        return str(self.path) if self.position is None else f"{self.path} (event {self.position})"


@dataclass
class LambdaContext:
    """Enough of Lambda's context object for Powertools."""

    function_name: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = ""
    invoked_function_arn: str = ""
    timeout_seconds: int = 60

    def get_remaining_time_in_millis(self) -> int:
        # Locally a handler runs in milliseconds: it always has (almost) all of its time.
        return self.timeout_seconds * 1000


class LocalApp:
    def __init__(self, root: Path, endpoint: str | None) -> None:
        """`endpoint` is the moto server; None when moto runs in-process (`mock_aws`)."""
        self.root = root
        self.endpoint = endpoint
        self.template: Template = load_template(root / "template.yaml")
        self._physical: dict[str, dict[str, str]] = {}
        self._modules: dict[str, ModuleType] = {}
        # The demo tells its story over days: handlers read this clock instead of the real one.
        self.clock: Callable[[], datetime] | None = _fixed_clock(os.environ.get(CLOCK, ""))
        # Where the functions' EMF metric records go (None: nowhere, as metrics are off).
        self.metrics_sink: TextIO | None = None
        # Local chat webhooks listen on loopback; Lambda never allows that (adapters/webhook).
        wiring.allow_loopback_webhook = True
        # Clients built from here on point at the moto server; they are kept for the run.
        with self.aws_environment():
            clients.reset()
            self._arm_faults(os.environ.get(faults.ENVIRONMENT, ""))

    @staticmethod
    def _arm_faults(spec: str) -> None:
        """Failures asked for on the command line (see autopilot_tools.local.faults)."""
        try:
            faults.arm(faults.parse(spec))
        except faults.InvalidFaultError as exc:
            raise LocalRunnerError(str(exc)) from exc

    # -- resources ------------------------------------------------------------------------

    def ensure_resources(self) -> None:
        """Create the template's tables, queues, topics and rules if they are not there yet."""
        with self.aws_environment():
            self._create_queues()
            self._create_tables()
            self._create_topics()
            self._create_rules()
            self._create_scheduling()
            self._create_buckets()
            clients.ses().verify_email_identity(EmailAddress=LOCAL_PARAMETERS["ReportSender"])

    def _name(self, logical_id: str) -> str:
        return f"{STACK}-{logical_id}"

    def _create_queues(self) -> None:
        sqs = clients.sqs()
        queues = self.template.of_type("AWS::SQS::Queue")
        # Dead-letter queues first: the others' redrive policies point at them.
        ordered = sorted(queues, key=lambda q: "RedrivePolicy" in queues[q])
        for logical_id in ordered:
            props = queues[logical_id]
            fifo = str(props.get("FifoQueue", "false")).lower() == "true"
            name = self._name(logical_id) + (".fifo" if fifo else "")
            attributes: dict[Any, str] = {"FifoQueue": "true"} if fifo else {}
            if "VisibilityTimeout" in props:
                attributes["VisibilityTimeout"] = str(props["VisibilityTimeout"])
            if "RedrivePolicy" in props:
                policy = props["RedrivePolicy"]
                target = policy["deadLetterTargetArn"]["Fn::GetAtt"][0]
                attributes["RedrivePolicy"] = json.dumps(
                    {
                        "deadLetterTargetArn": self._physical[target]["Arn"],
                        "maxReceiveCount": int(policy["maxReceiveCount"]),
                    }
                )
            url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
            self._physical[logical_id] = {
                "Ref": url,
                "Arn": arn["Attributes"]["QueueArn"],
                "QueueName": name,
            }

    def _create_tables(self) -> None:
        dynamodb = clients.dynamodb()
        existing = set(dynamodb.list_tables()["TableNames"])
        for logical_id, props in self.template.of_type("AWS::DynamoDB::Table").items():
            name = self._name(logical_id)
            if name not in existing:
                dynamodb.create_table(
                    TableName=name,
                    AttributeDefinitions=props["AttributeDefinitions"],
                    KeySchema=props["KeySchema"],
                    BillingMode=props.get("BillingMode", "PAY_PER_REQUEST"),
                )
            arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
            self._physical[logical_id] = {"Ref": name, "Arn": arn}

    def _create_topics(self) -> None:
        sns, sqs = clients.sns(), clients.sqs()
        inbox = sqs.create_queue(QueueName=NOTIFICATIONS_QUEUE)["QueueUrl"]
        inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])
        for logical_id in self.template.of_type("AWS::SNS::Topic"):
            arn = sns.create_topic(Name=self._name(logical_id))["TopicArn"]
            # Locally, notifications land in a queue so the runner can show them.
            sns.subscribe(
                TopicArn=arn,
                Protocol="sqs",
                Endpoint=inbox_arn["Attributes"]["QueueArn"],
            )
            self._physical[logical_id] = {"Ref": arn, "TopicName": self._name(logical_id)}

    def _create_rules(self) -> None:
        events, sqs = clients.events(), clients.sqs()
        for route in self.template.rules:
            rule = self._rule_name(route.function, route.name)
            url = sqs.create_queue(QueueName=rule)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
            events.put_rule(Name=rule, EventPattern=json.dumps(route.pattern), State="ENABLED")
            events.put_targets(
                Rule=rule, Targets=[{"Id": "inbox", "Arn": arn["Attributes"]["QueueArn"]}]
            )

    def _create_scheduling(self) -> None:
        """Schedule groups exist for real (the executor creates one-off schedules in them);
        functions and roles get the ARNs they would have."""
        scheduler = clients.scheduler()
        for logical_id in self.template.of_type("AWS::Scheduler::ScheduleGroup"):
            name = self._name(logical_id)
            existing = {g["Name"] for g in scheduler.list_schedule_groups()["ScheduleGroups"]}
            if name not in existing:
                scheduler.create_schedule_group(Name=name)
            self._physical[logical_id] = {"Ref": name}
        for logical_id in self.template.functions:
            arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self._name(logical_id)}"
            self._physical[logical_id] = {"Ref": self._name(logical_id), "Arn": arn}
        for logical_id in self.template.of_type("AWS::IAM::Role"):
            arn = f"arn:aws:iam::{ACCOUNT}:role/{self._name(logical_id)}"
            self._physical[logical_id] = {"Ref": self._name(logical_id), "Arn": arn}

    def _create_buckets(self) -> None:
        s3 = clients.s3()
        existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
        for logical_id in self.template.of_type("AWS::S3::Bucket"):
            name = self._name(logical_id).lower()
            if name not in existing:
                s3.create_bucket(Bucket=name)
            self._physical[logical_id] = {"Ref": name, "Arn": f"arn:aws:s3:::{name}"}

    def schedules(self) -> list[dict[str, Any]]:
        """One-off schedules the application created (Scheduler would fire them later)."""
        with self.aws_environment():
            scheduler = clients.scheduler()
            found = []
            for group in self.template.of_type("AWS::Scheduler::ScheduleGroup"):
                name = self._physical[group]["Ref"]
                for summary in scheduler.list_schedules(GroupName=name)["Schedules"]:
                    detail = scheduler.get_schedule(GroupName=name, Name=summary["Name"])
                    found.append(
                        {
                            "arn": detail["Arn"],
                            "name": detail["Name"],
                            "expression": detail["ScheduleExpression"],
                            "input": json.loads(detail["Target"].get("Input", "{}")),
                        }
                    )
            return found

    def _rule_name(self, function: str, event_name: str) -> str:
        return f"{STACK}-{function}-{event_name}"

    # -- environment ----------------------------------------------------------------------

    def function_environment(self, spec: FunctionSpec) -> dict[str, str]:
        parameters = self.template.parameter_defaults()
        return {name: self._resolve(value, parameters) for name, value in spec.environment.items()}

    def _resolve(self, value: Any, parameters: Mapping[str, str]) -> str:
        if isinstance(value, str | int | float):
            return str(value)
        if isinstance(value, dict) and "Ref" in value:
            name = value["Ref"]
            if name in parameters:
                default = parameters[name] or LOCAL_PARAMETERS.get(name, "")
                return os.environ.get(f"AUTOPILOT_PARAMETER_{name}", default)
            return self._physical[name]["Ref"]
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            logical_id, attribute = value["Fn::GetAtt"]
            return self._physical[logical_id][attribute]
        if isinstance(value, dict) and "Fn::Join" in value:
            delimiter, items = value["Fn::Join"]
            if isinstance(items, dict):  # a CommaDelimitedList parameter: locally "a,b"
                items = [i.strip() for i in self._resolve(items, parameters).split(",")]
            return str(delimiter).join(self._resolve(i, parameters) for i in items)
        raise LocalRunnerError(f"the local runner cannot resolve {value!r}")

    @contextmanager
    def aws_environment(self) -> Iterator[None]:
        """Point boto3 at the moto server with throwaway credentials, whatever the shell has."""
        saved = dict(os.environ)
        if self.endpoint:
            os.environ["AWS_ENDPOINT_URL"] = self.endpoint
        os.environ.update(
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 - moto's fake credentials
            AWS_DEFAULT_REGION=REGION,
            AWS_REGION=REGION,
        )
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            os.environ.pop(name, None)
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)

    # -- invoking -------------------------------------------------------------------------

    def invoke(self, function: str, event: Mapping[str, Any]) -> Any:
        spec = self.template.functions[function]
        with self.aws_environment():
            os.environ.update(self.function_environment(spec))
            # No CloudWatch locally: metrics go to `metrics_sink` when one is set (the demo's
            # dashboard figures), else nowhere, so they never clutter stdout.
            if self.metrics_sink is not None:
                os.environ["POWERTOOLS_METRICS_DISABLED"] = "false"
            else:
                os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
            wiring.reset()
            real_clock = wiring.utc_now
            if self.clock is not None:
                wiring.utc_now = self.clock
            handler = self._handler(spec)
            context = LambdaContext(
                function_name=function,
                aws_request_id=str(uuid.uuid4()),
                invoked_function_arn=function_arn(function),
                timeout_seconds=spec.timeout_seconds,
            )
            try:
                if self.metrics_sink is None:
                    return handler(dict(event), context)
                # Powertools prints each invocation's EMF record to stdout, as in Lambda.
                with contextlib.redirect_stdout(self.metrics_sink):
                    return handler(dict(event), context)
            finally:
                wiring.utc_now = real_clock
                wiring.reset()

    def _handler(self, spec: FunctionSpec) -> Callable[[dict[str, Any], Any], Any]:
        module_name, _, attribute = spec.handler.rpartition(".")
        key = f"{spec.logical_id}.{module_name}"
        if key not in self._modules:
            path = spec.code_uri / f"{module_name.replace('.', '/')}.py"
            loaded = importlib.util.spec_from_file_location(
                f"_autopilot_fn_{spec.logical_id}", path
            )
            if loaded is None or loaded.loader is None:
                raise LocalRunnerError(f"cannot load {path}")
            module = importlib.util.module_from_spec(loaded)
            loaded.loader.exec_module(module)
            self._modules[key] = module
        handler: Callable[[dict[str, Any], Any], Any] = getattr(self._modules[key], attribute)
        return handler

    # -- routing --------------------------------------------------------------------------

    def route(self, event: Mapping[str, Any]) -> list[tuple[str, Any]]:
        """Put the event on moto's bus; invoke the function of every rule that matched it.

        A schedule document (no detail-type, an action) goes where the template's Scheduler
        schedules deliver theirs."""
        problem = event_problem(event)
        if problem:
            raise BadInputError(problem)
        if is_lifecycle_hook(event):
            # ECS invokes a lifecycle hook synchronously, once, and reads its answer.
            return [(f, self._invoke_hook(f, event)) for f in self.template.hook_routes]
        if "detail-type" not in event:
            function = self.template.schedule_routes.get(event["action"])
            return [(function, self._invoke_async(function, event))] if function else []
        entry = bus_entry(event)
        with self.aws_environment():
            events, sqs = clients.events(), clients.sqs()
            sent = events.put_events(Entries=[entry])
            if sent["FailedEntryCount"]:
                refused = sent["Entries"][0]
                raise BadInputError(
                    f"EventBridge refused it ({refused.get('ErrorCode')}: "
                    f"{refused.get('ErrorMessage')}): send it in the shape AWS sends it"
                )
            matched: list[str] = []
            for route in self.template.rules:
                url = sqs.get_queue_url(QueueName=self._rule_name(route.function, route.name))
                for message in self._receive_all(url["QueueUrl"]):
                    sqs.delete_message(
                        QueueUrl=url["QueueUrl"], ReceiptHandle=message["ReceiptHandle"]
                    )
                    matched.append(route.function)
        return [(function, self._invoke_async(function, event)) for function in matched]

    def invoke_lifecycle_hook(self, target_arn: str, event: Mapping[str, Any]) -> tuple[str, Any]:
        """ECS invoking the hook a service names by ARN: (the function, its answer)."""
        for function in self.template.hook_routes:
            if function_arn(function) == target_arn:
                return function, self._invoke_hook(function, event)
        reason = f"ResourceNotFoundException: Function not found: {target_arn}"
        return target_arn, {"status": "failed", "reason": reason}

    def _invoke_hook(self, function: str, event: Mapping[str, Any]) -> Any:
        """ECS's invocation of a lifecycle hook: no retry, no dead letter; an error is what
        ECS rolls the deployment back for."""
        try:
            return self.invoke(function, event)
        except Exception as exc:  # noqa: BLE001 - any error: ECS rolls back
            logger.exception("lifecycle hook failed: ECS would roll the deployment back")
            return {"status": "failed", "reason": f"{type(exc).__name__}: {exc}"}

    def _invoke_async(self, function: str, event: Mapping[str, Any]) -> Any:
        """Lambda's asynchronous invocation: two retries, then the on-failure destination."""
        for attempt in range(1, _ASYNC_ATTEMPTS + 1):
            try:
                return self.invoke(function, event)
            except Exception as exc:  # noqa: BLE001 - Lambda's contract: any error is retried
                logger.exception("invocation failed", extra={"attempt": attempt})
                error = f"{type(exc).__name__}: {exc}"
        with self.aws_environment():
            clients.sqs().send_message(
                QueueUrl=self._physical["EventsDeadLetterQueue"]["Ref"],
                MessageBody=json.dumps(event, default=str),
                MessageAttributes={
                    "reason": {"DataType": "String", "StringValue": error[:1024]},
                    "source": {"DataType": "String", "StringValue": function},
                },
            )
        return {"status": "failed", "reason": error}

    def drain(self) -> list[ProcessedMessage]:
        """Feed each queue-triggered function until its queue is empty, as Lambda's poller does."""
        processed: list[ProcessedMessage] = []
        for route in self.template.queue_routes:
            url = self._physical[route.queue]["Ref"]
            arn = self._physical[route.queue]["Arn"]
            for _ in range(_MAX_RECEIVES):
                with self.aws_environment():
                    batch = (
                        clients.sqs()
                        .receive_message(
                            QueueUrl=url,
                            MaxNumberOfMessages=route.batch_size,
                            AttributeNames=["All"],
                            MessageAttributeNames=["All"],
                        )
                        .get("Messages", [])
                    )
                if not batch:
                    break
                failed = self._invoke_batch(route.function, _sqs_event(batch, arn))
                with self.aws_environment():
                    sqs = clients.sqs()
                    for message in batch:
                        ok = message["MessageId"] not in failed
                        if ok:
                            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                        else:
                            # Visible again at once: locally there is no reason to wait.
                            sqs.change_message_visibility(
                                QueueUrl=url,
                                ReceiptHandle=message["ReceiptHandle"],
                                VisibilityTimeout=0,
                            )
                        processed.append(ProcessedMessage(route.function, message["Body"], ok))
        return processed

    def _invoke_batch(self, function: str, event: dict[str, Any]) -> set[str]:
        """Ids of the messages the function failed; an exception fails the whole batch."""
        try:
            result = self.invoke(function, event)
        except Exception:  # noqa: BLE001 - Lambda's contract: an error fails every record
            logger.exception("batch failed", extra={"function": function})
            return {record["messageId"] for record in event["Records"]}
        return {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}

    def notifications(self) -> list[dict[str, str]]:
        """Messages published to the notification topic since the last call."""
        with self.aws_environment():
            sqs = clients.sqs()
            url = sqs.get_queue_url(QueueName=NOTIFICATIONS_QUEUE)["QueueUrl"]
            found = []
            for message in self._receive_all(url):
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                envelope = json.loads(message["Body"])
                found.append(
                    {"subject": envelope.get("Subject") or "", "text": envelope.get("Message", "")}
                )
            return found

    def queue_depth(self, logical_id: str) -> int:
        with self.aws_environment():
            attributes = clients.sqs().get_queue_attributes(
                QueueUrl=self._physical[logical_id]["Ref"],
                AttributeNames=["ApproximateNumberOfMessages"],
            )
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])

    def physical(self, logical_id: str) -> Mapping[str, str]:
        return self._physical[logical_id]

    @staticmethod
    def _receive_all(url: str) -> list[MessageTypeDef]:
        sqs = clients.sqs()
        found: list[MessageTypeDef] = []
        while True:
            batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return found
            found.extend(batch)


@dataclass(frozen=True)
class ProcessedMessage:
    function: str
    body: str
    succeeded: bool


def _sqs_event(messages: list[MessageTypeDef], queue_arn: str) -> dict[str, Any]:
    """The event Lambda's SQS poller hands to a function."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {
                    name: {
                        "stringValue": value.get("StringValue"),
                        "dataType": value.get("DataType", "String"),
                    }
                    for name, value in m.get("MessageAttributes", {}).items()
                },
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
            for m in messages
        ]
    }


def function_arn(function: str) -> str:
    """A function's ARN on the local stack (what a service's lifecycle hook names)."""
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}"


def _fixed_clock(text: str) -> Callable[[], datetime] | None:
    if not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise LocalRunnerError(f"{CLOCK}: not an ISO time with a zone: {text!r}") from exc
    if moment.tzinfo is None:
        raise LocalRunnerError(f"{CLOCK}: give the time zone, e.g. {text}Z")
    return lambda: moment


def read_event_file(path: Path, schedule_actions: Collection[str]) -> list[EventInput]:
    """The events in a file holding one event or a JSON list of them, checked as far as they
    can be before anything runs: each problem is a `BadInputError` naming the file."""
    inputs = _events_in(path, _load_json(path, _read_text(path)))
    for one in inputs:
        problem = event_problem(one.event) or _schedule_problem(one.event, schedule_actions)
        if problem:
            raise BadInputError(f"{one.where}: {problem}")
    return inputs


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")  # an editor's byte-order mark is harmless
    except FileNotFoundError:
        raise BadInputError(
            f"{path}: no such file: check the path (samples are in events/)"
        ) from None
    except IsADirectoryError:
        raise BadInputError(
            f"{path} is a directory: name the event files in it, e.g. {path}/*.json"
        ) from None
    except OSError as exc:
        raise BadInputError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise BadInputError(
            f"{path} is not UTF-8 text (at byte offset {exc.start}): save it as UTF-8 JSON"
        ) from None


class _NotJsonError(ValueError):
    """A token Python's json module reads but JSON does not have (NaN, Infinity)."""


def _refuse_constant(name: str) -> object:
    raise _NotJsonError(name)


def _load_json(path: Path, text: str) -> object:
    if not text.strip():
        raise BadInputError(f"{path} is empty: {_WANTED}")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise BadInputError(
            f"{path} is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno}): "
            "fix the syntax, or start from a sample in events/"
        ) from None
    except _NotJsonError as exc:
        raise BadInputError(
            f"{path} is not JSON ({exc} is not a JSON value): write a number or a string"
        ) from None
    except (ValueError, RecursionError) as exc:  # an integer too long, nesting too deep
        raise BadInputError(f"{path} cannot be read as JSON ({exc}): {_WANTED}") from None


def _events_in(path: Path, loaded: object) -> list[EventInput]:
    if isinstance(loaded, dict):
        return [EventInput(path, loaded)]
    if not isinstance(loaded, list) or not loaded:
        what = "an empty list" if isinstance(loaded, list) else _kind(loaded)
        raise BadInputError(f"{path} holds {what}, not an event: {_WANTED}")
    for position, item in enumerate(loaded, start=1):
        if not isinstance(item, dict):
            raise BadInputError(
                f"{path}: item {position} of its list is {_kind(item)}, not an event: "
                "every item must be an event object"
            )
    return [EventInput(path, item, position) for position, item in enumerate(loaded, start=1)]


_WANTED = "put one event (a JSON object) in it, or a JSON list of events"
_A_TIME = "2026-11-20T10:00:00Z"


def event_problem(event: Mapping[str, Any]) -> str | None:
    """What keeps `event` from being delivered the way AWS delivers it, with what to do; None
    when nothing does. An EventBridge event needs what PutEvents needs, and a real time; a
    schedule document (no detail-type) needs its action; a lifecycle hook invocation is handed
    to the hook as it is (the hook answers a malformed one FAILED, as in Lambda)."""
    if is_lifecycle_hook(event):
        return None
    if "detail-type" not in event:
        if "action" not in event:
            return (
                'neither an EventBridge event (no "detail-type") nor a schedule document '
                '(no "action"): start from a sample in events/ (events/README.md says which)'
            )
        if not isinstance(event["action"], str):
            return f'"action" is {_kind(event["action"])}, not a string: name the action'
        return None
    for key, example in (("source", "aws.ecr"), ("detail-type", "ECR Image Action")):
        value = event.get(key)
        if not isinstance(value, str) or not value:
            found = "missing" if value is None else "empty" if value == "" else _kind(value)
            return f'"{key}" is {found}: EventBridge events name it, e.g. "{example}"'
    if "detail" in event and not isinstance(event["detail"], dict):
        return f'"detail" is {_kind(event["detail"])}: EventBridge only carries a JSON object'
    resources = event.get("resources", [])
    if not isinstance(resources, list) or not all(isinstance(r, str) for r in resources):
        return '"resources" must be a list of ARNs (strings), e.g. []'
    if "time" in event:
        return _time_problem(event["time"])
    return None


def _time_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return f'"time" is {_kind(value)}: EventBridge sends a UTC time string like {_A_TIME}'
    try:
        # In UTC too: the SDK sends UTC, and 0001-01-01T00:00+01:00 is before year 1 there.
        datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        reason = "not a date and time" if str(exc).startswith("Invalid isoformat") else exc
        return (
            f'"time": {json.dumps(value)} is not a real date and time ({reason}): '
            f"EventBridge never sends one; give a real UTC time such as {_A_TIME}"
        )
    return None


def _schedule_problem(event: Mapping[str, Any], actions: Collection[str]) -> str | None:
    """A schedule document whose action no schedule in template.yaml delivers."""
    if is_lifecycle_hook(event) or "detail-type" in event or event["action"] in actions:
        return None
    return (
        f"no schedule in template.yaml delivers action {event['action']!r}: "
        f"use one of {', '.join(sorted(actions))}"
    )


def bus_entry(event: Mapping[str, Any]) -> PutEventsRequestEntryTypeDef:
    """The PutEvents entry for an event `event_problem` passed."""
    entry: PutEventsRequestEntryTypeDef = {
        "Source": event["source"],
        "DetailType": event["detail-type"],
        "Detail": json.dumps(event.get("detail", {})),
        "Resources": list(event.get("resources", [])),
    }
    if "time" in event:
        entry["Time"] = datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
    return entry


def _kind(value: object) -> str:
    """How JSON would name the value's type, for messages."""
    if isinstance(value, bool):
        return f"JSON {str(value).lower()}"
    if value is None:
        return "JSON null"
    if isinstance(value, dict):
        return "a JSON object"
    if isinstance(value, list):
        return "a JSON array"
    return "a JSON string" if isinstance(value, str) else "a JSON number"


def find_project_root(start: Path | None = None) -> Path:
    """The folder holding template.yaml: the current one or a parent."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "template.yaml").is_file() and (folder / "functions").is_dir():
            return folder
    raise LocalRunnerError(
        f"no template.yaml in {here} or above: run autopilot from the project folder "
        "(the one holding template.yaml), or unset AWS_ENDPOINT_URL to operate on AWS"
    )


def stderr_logs(stream: TextIO | None = None) -> None:
    """Function logs go to stderr (or `stream`), so stdout carries only what the runner says."""
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "ecs-autopilot")
    # Read when the metrics object is built (at import): as the template's Globals set it.
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ECSAutopilot")
    from autopilot.observability import logger  # noqa: PLC0415

    handler = logger.registered_handler
    if hasattr(handler, "setStream"):
        handler.setStream(stream or sys.stderr)
