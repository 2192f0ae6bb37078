"""The local runner: the application's own resources on a moto server, events routed through
the rules template.yaml declares, handlers invoked the way Lambda invokes them.

EventBridge (moto's) does the pattern matching: each rule gets an SQS target here, because
moto cannot deliver to Lambda. A rule that matched leaves a message in its queue, and the
runner invokes that rule's function with the original event, byte for byte.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TextIO

from autopilot import wiring
from autopilot.adapters import clients
from autopilot.local import faults
from autopilot.local.template import FunctionSpec, Template, load_template
from autopilot.observability import logger

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
        # Clients built from here on point at the moto server; they are kept for the run.
        with self.aws_environment():
            clients.reset()
            self._arm_faults(os.environ.get(faults.ENVIRONMENT, ""))

    @staticmethod
    def _arm_faults(spec: str) -> None:
        """Failures asked for on the command line (see autopilot.local.faults)."""
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
            # No CloudWatch locally: metrics would only clutter stdout (tests may turn them on).
            os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
            wiring.reset()
            real_clock = wiring.utc_now
            if self.clock is not None:
                wiring.utc_now = self.clock
            handler = self._handler(spec)
            context = LambdaContext(
                function_name=function,
                aws_request_id=str(uuid.uuid4()),
                invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}",
                timeout_seconds=spec.timeout_seconds,
            )
            try:
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
        if "detail-type" not in event and "action" in event:
            function = self.template.schedule_routes.get(str(event["action"]))
            return [(function, self._invoke_async(function, event))] if function else []
        with self.aws_environment():
            events, sqs = clients.events(), clients.sqs()
            entry: PutEventsRequestEntryTypeDef = {
                "Source": str(event.get("source", "")),
                "DetailType": str(event.get("detail-type", "")),
                "Detail": json.dumps(event.get("detail", {})),
                "Resources": [str(r) for r in event.get("resources", [])],
            }
            if "time" in event:
                entry["Time"] = datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
            events.put_events(Entries=[entry])
            matched: list[str] = []
            for route in self.template.rules:
                url = sqs.get_queue_url(QueueName=self._rule_name(route.function, route.name))
                for message in self._receive_all(url["QueueUrl"]):
                    sqs.delete_message(
                        QueueUrl=url["QueueUrl"], ReceiptHandle=message["ReceiptHandle"]
                    )
                    matched.append(route.function)
        return [(function, self._invoke_async(function, event)) for function in matched]

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


def find_project_root(start: Path | None = None) -> Path:
    """The folder holding template.yaml: the current one or a parent."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "template.yaml").is_file() and (folder / "functions").is_dir():
            return folder
    raise LocalRunnerError("no template.yaml found here or above: run from the project folder")


def stderr_logs(stream: TextIO | None = None) -> None:
    """Function logs go to stderr (or `stream`), so stdout carries only what the runner says."""
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "ecs-autopilot")
    from autopilot.observability import logger  # noqa: PLC0415

    handler = logger.registered_handler
    if hasattr(handler, "setStream"):
        handler.setStream(stream or sys.stderr)
