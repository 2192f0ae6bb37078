"""The gateways the workflows talk to, as Protocols: what a workflow may call, and nothing else.

`adapters/` implements them with boto3 and `tests/fakes/` in memory. The workflows are typed
against these Protocols, so `mypy --strict` proves that both the real adapters (through
`wiring.py`) and the fakes (through the tests) satisfy them.

Each docstring says what the workflows may rely on: what a method returns, which domain error
it raises. Anything else (throttling, timeouts) reaches the caller as botocore raised it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

# The report's delivery claims are a Protocol of their own, next to the domain rule they keep.
from autopilot.domain.report_delivery import DeliveryRecords

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from datetime import date, datetime, timedelta
    from email.message import EmailMessage

    from autopilot.domain.canary_hook import Minute, ServiceRevision, ServiceTraffic, Window
    from autopilot.domain.fleet import ImageFacts, Service
    from autopilot.domain.fleet_index import IndexChange, IndexEntry
    from autopilot.domain.ledger import LedgerEntry, Quarantine
    from autopilot.domain.notifications import Notification
    from autopilot.domain.report import CostLine, Utilization
    from autopilot.domain.scan import ScanningSetup, ScanResult
    from autopilot.domain.service_deployments import ServiceDeployment
    from autopilot.domain.state import ServiceState
    from autopilot.models.actions import ActionRequest

__all__ = [
    "ActionQueue",
    "AlarmDescription",
    "AutoScalingGateway",
    "CloudWatchGateway",
    "CodeDeployGateway",
    "CostExplorerGateway",
    "DeliveryRecords",
    "EcrGateway",
    "EcsGateway",
    "FleetIndex",
    "Ledger",
    "Mailer",
    "Notifier",
    "SchedulerGateway",
    "TaggingGateway",
]
__all__ += [  # canary analysis
    "CanaryServiceReader",
    "ServiceRevisionReader",
    "TargetGroupMetrics",
    "TargetGroupReader",
]


class EcsGateway(Protocol):
    def describe_services(self, service_arns: Iterable[str]) -> list[Service]:
        """The services that exist (ACTIVE, DRAINING or INACTIVE); unknown ARNs are left out."""
        ...

    def describe_services_or_gone(
        self, service_arns: Iterable[str]
    ) -> tuple[list[Service], dict[str, str]]:
        """The ACTIVE services, and why each other one is gone, by the ARN asked for: its
        status (DRAINING, INACTIVE), MISSING once ECS purged it, or ClusterNotFoundException."""
        ...

    def running_revisions(self, service_arns: Iterable[str]) -> dict[str, str]:
        """Service ARN -> the task definition ARN it runs, for the ACTIVE services among them
        (DescribeServices alone); services in a cluster that is gone are left out."""
        ...

    def deployment_alarms(self, service_arns: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """Service ARN -> the alarm names in its deploymentConfiguration.alarms; services that
        name none are left out."""
        ...

    def describe_service(self, service_arn: str) -> Service:
        """Raises NotFoundError when ECS does not know the service."""
        ...

    def revision(self, arn: str) -> dict[str, Any]:
        """DescribeTaskDefinition's `taskDefinition` of an ARN, `family:revision` or `family`
        (its latest ACTIVE revision), perhaps from a cache: its content never changes (its
        `status` may be missing or old); NotFoundError if none."""
        ...

    def task_definition(self, arn: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
        """As `revision`, with the revision's tags (`{"key", "value"}`) as ECS showed them
        moments ago (tags change): for what copies them."""
        ...

    def writable_task_definition_fields(self) -> frozenset[str]:
        """What RegisterTaskDefinition accepts, but tags."""
        ...

    def register_task_definition(
        self, definition: Mapping[str, Any], tags: list[dict[str, str]]
    ) -> str:
        """Register the next revision of the definition's family; returns its ARN.
        PermanentFailureError when ECS refuses the definition itself."""
        ...

    def find_revision(self, family: str, action_id: str) -> str | None:
        """The ARN of one of the family's newest ACTIVE revisions tagged
        `autopilot:action=<action_id>` (what an earlier attempt of the action registered)."""
        ...

    def update_service(self, service: Service, task_definition_arn: str) -> str:
        """Point the service at a revision; returns the PRIMARY deployment's id (a new one
        when the revision changed). NotFoundError when the service is gone or inactive."""
        ...

    def set_desired_count(self, service: Service, desired: int) -> None:
        """NotFoundError when the service is gone or inactive."""
        ...

    def service_deployments(
        self, service: Service, statuses: Iterable[str]
    ) -> list[ServiceDeployment]:
        """The service's service deployments in those statuses, each with the task
        definitions of its source and target revisions."""
        ...

    def service_deployment(self, arn: str) -> ServiceDeployment | None:
        """That service deployment as ECS shows it now; None when ECS does not know it."""
        ...

    def stop_service_deployment(self, arn: str) -> None:
        """Stop it with rollback (traffic back to its source revision). One already rolling
        back or stopping goes on as it was (no error). ConflictError when its state no longer
        allows a stop (it completed meanwhile); PermanentFailureError when ECS refuses the
        request itself."""
        ...

    def continue_service_deployment(self, arn: str, hook_id: str, action: str) -> None:
        """Answer the deployment paused at PAUSE hook `hook_id` with `action` (CONTINUE or
        ROLLBACK). PermanentFailureError when ECS refuses (the hook no longer awaits action)."""
        ...


class EcrGateway(Protocol):
    def image(self, registry_id: str, repository: str, digest: str) -> ImageFacts | None:
        """ECR's record of the digest; None when it (or its repository) is gone."""
        ...

    def images(self, registry_id: str, repository: str, digests: set[str]) -> dict[str, ImageFacts]:
        """The records of those digests that ECR still has, by digest."""
        ...

    def scan_result(self, registry_id: str, repository: str, digest: str) -> ScanResult:
        """Status NOT_STARTED without a scan, IMAGE_NOT_FOUND without the image."""
        ...

    def scanning_setup(self, registry_id: str, repository: str) -> ScanningSetup | None:
        """How ECR scans the repository; None when the registry is another account's or the
        repository is gone."""
        ...


class CodeDeployGateway(Protocol):
    def create_deployment(
        self, application: str, deployment_group: str, appspec_content: str, description: str
    ) -> str:
        """Start a deployment of the AppSpec's revision; returns its id (`d-...`)."""
        ...

    def stop_deployment(self, deployment_id: str) -> None:
        """Stop it and let CodeDeploy shift traffic back to the original task set; a deployment
        that already ended is left as it is (no error)."""
        ...

    def deployment_status(self, deployment_id: str) -> str:
        """Created | Queued | InProgress | Baking | Ready | Succeeded | Failed | Stopped."""
        ...

    def deployment_for(
        self,
        application: str,
        deployment_group: str,
        task_definition_arn: str,
        since: datetime,
    ) -> str | None:
        """The group's deployment (in flight or succeeded) of exactly that revision, created
        since `since`, if any."""
        ...

    def ecs_services(self, application: str, deployment_group: str) -> list[tuple[str, str]]:
        """(cluster, service) pairs the deployment group deploys to."""
        ...


class AlarmDescription(Protocol):
    """An alarm as DescribeAlarms shows it, tags aside (adapters/cloudwatch.AlarmFacts)."""

    @property
    def name(self) -> str: ...

    @property
    def arn(self) -> str: ...

    @property
    def dimensions(self) -> tuple[dict[str, str], ...]:
        """Of the alarm's metric and of each metric query; none for a composite alarm."""
        ...

    @property
    def actions(self) -> tuple[str, ...]:
        """Its alarm, OK and insufficient-data actions."""
        ...


class CloudWatchGateway(Protocol):
    def alarm_tags(self, alarm_arn: str) -> dict[str, str]:
        """The alarm's tags; empty when the alarm is gone."""
        ...

    def describe_alarm(self, name: str) -> AlarmDescription | None:
        """The metric or composite alarm of that name; None when there is none."""
        ...

    def firing_for(self, service: Service) -> tuple[str, ...]:
        """Names of the alarms in ALARM now that are tied to the service (domain/alarms:
        its tagged alarms, its deployment alarms, untagged alarms on its metrics; never Auto
        Scaling's), sorted."""
        ...

    def utilization(
        self, services: list[tuple[str, str]], start: datetime, end: datetime
    ) -> dict[tuple[str, str], Utilization]:
        """Container Insights use against reservation per (cluster, service) that has data."""
        ...


class Ledger(Protocol):
    def find(self, service_arn: str, trigger_time: datetime, action_id: str) -> LedgerEntry | None:
        """This action's entry (strongly consistent read)."""
        ...

    def write(self, entry: LedgerEntry, *, first: bool = False) -> bool:
        """Store the entry; with `first`, only if the action has none yet (False if it had)."""
        ...

    def note_failure(self, service_arn: str, action_id: str) -> int:
        """Count one more failed attempt of the action (atomically); returns how many there
        were."""
        ...

    def forget_failures(self, service_arn: str, action_id: str) -> None:
        """Start the action's failure count again (after it was given up)."""
        ...

    def first_within(
        self, service_arn: str, kind: str, window: timedelta, now: datetime, claimant: str
    ) -> bool:
        """At most once per window: True if no other claimant took `kind` on the service
        within `window` before `now` (the claim is then this one's; a conditional write)."""
        ...

    def history(self, service_arn: str, limit: int = 50) -> list[LedgerEntry]:
        """The newest entries first."""
        ...

    def recorded_between(
        self, service_arn: str, kind: str, start: datetime, end: datetime
    ) -> list[LedgerEntry]:
        """Entries of one kind recorded in [start, end)."""
        ...

    def state(self, service_arn: str) -> ServiceState:
        """The service's state with its version (version 0: never saved)."""
        ...

    def save_state(self, state: ServiceState) -> ServiceState:
        """Write if nobody wrote since `state` was read, else ConflictError; returns it with
        its new version."""
        ...

    def quarantine(self, entry: Quarantine) -> None: ...

    def quarantined(self, digests: set[str] | None = None) -> dict[str, Quarantine]:
        """Quarantined digests (all of them, or those among `digests`)."""
        ...

    def release(self, digest: str) -> bool:
        """Lift a quarantine; False when the digest was not quarantined."""
        ...


class Notifier(Protocol):
    def send(self, notification: Notification) -> None:
        """Best effort: never raises for an AWS error (the action already happened)."""
        ...


class AutoScalingGateway(Protocol):
    def target(self, service: Service) -> tuple[int, int, dict[str, bool]] | None:
        """(min, max, suspended state) of the service's scalable target; None without one."""
        ...

    def set_target(
        self, service: Service, minimum: int, maximum: int, suspended: Mapping[str, bool]
    ) -> None:
        """Register (create or update) the service's scalable target."""
        ...


class SchedulerGateway(Protocol):
    def once(self, name: str, at: datetime, document: Mapping[str, Any]) -> str:
        """A one-off schedule that delivers `document` at `at`; returns its ARN. A name that
        exists in the group with the same time and document is success (an earlier attempt
        made it: its ARN); with another, ConflictError."""
        ...


class CostExplorerGateway(Protocol):
    requests: int  # paid requests made so far ($0.01 each)

    def daily_cost_by_service(self, start: date, end: date) -> list[CostLine]: ...

    def daily_cost_by_usage_type(self, start: date, end: date) -> list[CostLine]: ...


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> str:
        """Send it to the report's recipients (one attempt, never retried); returns SES's
        message id. DeliveryRejectedError: SES answered with an error or was never reached,
        nothing was sent. DeliveryUncertainError: the answer was lost, it may have been sent."""
        ...

    def store(self, key: str, body: str, content_type: str) -> str:
        """Keep a copy in the reports bucket; returns its `s3://` URI."""
        ...


class ActionQueue(Protocol):
    def send(self, request: ActionRequest) -> None:
        """Queue the action in its service's message group, deduplicated by action id."""
        ...


class TaggingGateway(Protocol):
    def services_tagged(self, key: str) -> list[str]:
        """ARNs of the ECS services that carry the tag key, sorted."""
        ...

    def tagged_among(self, service_arns: list[str], key: str) -> list[str]:
        """Those of the services (in the managed clusters) that carry the tag key now, in
        their order; unknown ARNs are left out."""
        ...


class FleetIndex(Protocol):
    """Repository -> services (adapters/fleet_index.py says what it holds and how fresh)."""

    def built_at(self) -> datetime | None:
        """When it was last built whole; None: never."""
        ...

    def services_for(self, repository: str) -> list[str]:
        """Service ARNs indexed under the repository key, sorted."""
        ...

    def entry(self, service_arn: str) -> IndexEntry | None: ...

    def entries(self) -> dict[str, IndexEntry]:
        """Every indexed service, with the repositories it is listed under."""
        ...

    def apply(self, changes: Iterable[IndexChange]) -> None: ...

    def mark_built(self, at: datetime) -> None: ...


# -- canary analysis (workflows/canary_hook.py, workflows/canary_action.py) ------------------


class ServiceRevisionReader(Protocol):
    def revision(self, revision_arn: str) -> ServiceRevision | None:
        """The service revision as ECS shows it; None when ECS does not know it."""
        ...


class CanaryServiceReader(ServiceRevisionReader, Protocol):
    def service(self, service_arn: str) -> ServiceTraffic | None:
        """Its tags and load balancer entries; None when it is gone or inactive."""
        ...


class TargetGroupReader(Protocol):
    def load_balancers(self, target_group_arns: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """Target group ARN -> the load balancers forwarding to it; NotFoundError for an
        unknown target group."""
        ...


class TargetGroupMetrics(Protocol):
    def minutes(
        self, load_balancer: str, target_groups: Sequence[str], window: Window
    ) -> dict[str, list[Minute]]:
        """Target group ARN -> its minutes in the window that served requests."""
        ...
