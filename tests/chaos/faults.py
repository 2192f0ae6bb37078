"""Crash points: make the i-th gateway call of a run fail the way AWS calls fail.

`Faults` wraps any gateway (a fake) and counts every call through it on a shared `FaultPlan`.
At the planned call the plan raises a transient error, in one of three modes:
- before: the request never took effect (throttled, or the endpoint was unreachable);
- after: it took effect and the response was lost (a read timeout);
- outage: as before, and every later call of the same operation fails the same way until the
  plan `recover`s (an operation throttled or down for longer than the executor's attempts).
The errors are the ones botocore raises, so the code under test sees what it would see on AWS;
where an adapter translates them (the mailer's single SES attempt), what the adapter raises.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, cast

from botocore.exceptions import ReadTimeoutError

from autopilot.domain.report_delivery import DeliveryRejectedError, DeliveryUncertainError
from tests.fakes.aws import client_error

Mode = Literal["before", "after", "outage"]
MODES: tuple[Mode, ...] = ("before", "after")  # every workflow's
OUTAGE: Mode = "outage"  # the executor's actions: they are retried by the batch, then given up
G = TypeVar("G")

# Calls that make no request (the adapter reads botocore's model): nothing there can fail.
LOCAL_CALLS = frozenset({"ecs.writable_task_definition_fields"})

# The throttling code each service answers with, and its endpoint.
_SERVICES = {
    "ecs": ("ThrottlingException", "ecs"),
    "ecr": ("ThrottlingException", "api.ecr"),
    "codedeploy": ("ThrottlingException", "codedeploy"),
    "cloudwatch": ("Throttling", "monitoring"),
    "ledger": ("ProvisionedThroughputExceededException", "dynamodb"),
    "deliveries": ("ProvisionedThroughputExceededException", "dynamodb"),
    "index": ("ProvisionedThroughputExceededException", "dynamodb"),
    "autoscaling": ("ThrottlingException", "application-autoscaling"),
    "scheduler": ("ThrottlingException", "scheduler"),
    "costs": ("LimitExceededException", "ce"),
    "mailer": ("Throttling", "email"),
}


def _operation(method: str) -> str:
    return "".join(part.title() for part in method.split("_"))


def transient_error(gateway: str, method: str, mode: Mode) -> Exception:
    code, host = _SERVICES.get(gateway, ("ThrottlingException", gateway))
    if mode == "before":
        error: Exception = client_error(code, "Rate exceeded", _operation(method))
    else:
        error = ReadTimeoutError(endpoint_url=f"https://{host}.us-east-1.amazonaws.com/")
    translate = _TRANSLATED.get(f"{gateway}.{method}")
    return translate(error) if translate else error


def _ses_send(error: Exception) -> Exception:
    """adapters/mailer.py: SES answered with an error (nothing sent), or its answer was lost."""
    if isinstance(error, ReadTimeoutError):
        translated: Exception = DeliveryUncertainError(
            f"the request may have reached SES, but its answer was lost ({type(error).__name__})"
        )
    else:
        translated = DeliveryRejectedError("SES refused the email (Throttling)")
    translated.__cause__ = error
    return translated


# Calls whose adapter turns botocore's errors into domain errors.
_TRANSLATED: dict[str, Callable[[Exception], Exception]] = {"mailer.send": _ses_send}


@dataclass
class FaultPlan:
    """Which call fails (index among the calls that can fail) and how; off when index is None."""

    index: int | None = None
    mode: Mode = "before"
    calls: list[str] = field(default_factory=list)  # every call that could fail, in order
    fired: str = ""  # the call that failed, once it did
    down: str = ""  # the operation an outage holds down, until `recover`

    def wrap(self, gateway: G, name: str) -> G:
        return cast("G", Faults(gateway, name, self))

    def disarm(self) -> None:
        """No new fault (an outage under way goes on)."""
        self.index = None

    def recover(self) -> None:
        self.down = ""

    def around(self, call: str, invoke: Callable[[], Any]) -> Any:
        if call in LOCAL_CALLS:
            return invoke()
        index = len(self.calls)
        self.calls.append(call)
        gateway, method = call.split(".", 1)
        if call == self.down:
            raise transient_error(gateway, method, "before")
        if index != self.index:
            return invoke()
        self.disarm()
        self.fired = call
        if self.mode == "outage":
            self.down = call
        if self.mode != "after":
            raise transient_error(gateway, method, "before")
        invoke()
        raise transient_error(gateway, method, "after")


class Faults:
    """Any gateway, its calls counted on `plan` and failed where the plan says."""

    def __init__(self, target: object, name: str, plan: FaultPlan) -> None:
        self._target = target
        self._name = name
        self._plan = plan

    def __getattr__(self, attribute: str) -> Any:
        value = getattr(self._target, attribute)
        if attribute.startswith("_") or not callable(value):
            return value  # plain attributes (CostExplorer's request count) read through

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._plan.around(f"{self._name}.{attribute}", lambda: value(*args, **kwargs))

        return call
