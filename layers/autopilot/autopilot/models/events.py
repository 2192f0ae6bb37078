"""EventBridge events, typed at the edge (msgspec Structs: `autopilot.models.base`).

Field names follow the AWS documentation of each event; unknown fields are ignored, so an AWS
addition never breaks parsing. Fields whose AWS names are not Python names (`detail-type`,
`repository-name`) carry them as their wire name.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from msgspec import Meta, field

from autopilot.domain.fleet import ImagePush
from autopilot.domain.scan import ScanResult
from autopilot.models.base import Model

Digest = Annotated[str, Meta(pattern=r"^sha256:[0-9a-f]{64}$")]
NonEmpty = Annotated[str, Meta(min_length=1)]
Aware = Annotated[datetime, Meta(tz=True)]  # a time with its zone: never guessed
AtLeastOne = Annotated[list[str], Meta(min_length=1)]
Count = Annotated[int, Meta(ge=0)]


class EventBridgeEvent(Model, frozen=True, kw_only=True):
    """The envelope EventBridge puts around every event; each event narrows `detail-type`,
    `source` and `detail`."""

    version: str
    id: str
    source: str
    account: str
    time: Aware
    region: str
    resources: list[str]
    detail_type: str = field(name="detail-type")
    detail: Any
    replay_name: str | None = field(default=None, name="replay-name")


class EcrImageActionDetail(Model, frozen=True, kw_only=True):
    result: str
    repository_name: NonEmpty = field(name="repository-name")
    image_digest: Digest | None = field(default=None, name="image-digest")
    action_type: str = field(name="action-type")
    image_tag: str | None = field(default=None, name="image-tag")
    manifest_media_type: str | None = field(default=None, name="manifest-media-type")


class EcrImageActionEvent(EventBridgeEvent, frozen=True, kw_only=True):
    detail_type: Literal["ECR Image Action"] = field(name="detail-type")
    source: Literal["aws.ecr"]
    detail: EcrImageActionDetail


class IgnoredEvent(Exception):  # noqa: N818 - a verdict, not a fault
    """A well-formed event the automation does not act on; the message says why."""


def image_push(event: EcrImageActionEvent) -> ImagePush:
    """The push this event reports, or IgnoredEvent saying why there is nothing to deploy."""
    detail = event.detail
    if detail.action_type != "PUSH":
        raise IgnoredEvent(f"ECR action {detail.action_type} is not a push")
    if detail.result != "SUCCESS":
        raise IgnoredEvent(f"push result is {detail.result}")
    if not detail.image_tag:
        raise IgnoredEvent("push has no tag: nothing can follow it")
    if detail.image_digest is None:
        raise IgnoredEvent("push event carries no image digest")
    return ImagePush(
        event_id=event.id,
        time=event.time,
        account=event.account,
        region=event.region,
        repository=detail.repository_name,
        digest=detail.image_digest,
        tag=detail.image_tag,
    )


# -- deployments ------------------------------------------------------------------------------


class EcsDeploymentDetail(Model, frozen=True, kw_only=True):
    eventType: str  # noqa: N815 - AWS's field names
    eventName: str  # noqa: N815
    deploymentId: NonEmpty  # noqa: N815
    reason: str = ""


class EcsDeploymentStateChangeEvent(EventBridgeEvent, frozen=True, kw_only=True):
    detail_type: Literal["ECS Deployment State Change"] = field(name="detail-type")
    source: Literal["aws.ecs"]
    resources: AtLeastOne
    detail: EcsDeploymentDetail


class EcsHookStateChangeEvent(EventBridgeEvent, frozen=True, kw_only=True):
    """A deployment lifecycle hook changed state (HOOK_AWAITING_ACTION when a PAUSE hook waits):
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/pause-lifecycle-hooks.html
    AWS documents the detail-type and the event name, not the detail's fields: only the
    envelope is read (`resources` names the service or its service deployment), and everything
    that decides is read from DescribeServiceDeployments."""

    detail_type: Literal["ECS Hook State Change"] = field(name="detail-type")
    source: Literal["aws.ecs"]
    resources: AtLeastOne


class CodeDeployDetail(Model, frozen=True, kw_only=True):
    application: str
    deploymentGroup: str  # noqa: N815
    deploymentId: NonEmpty  # noqa: N815
    state: str


class CodeDeployStateChangeEvent(EventBridgeEvent, frozen=True, kw_only=True):
    detail_type: Literal["CodeDeploy Deployment State-change Notification"] = field(
        name="detail-type"
    )
    source: Literal["aws.codedeploy"]
    detail: CodeDeployDetail


# -- alarms -----------------------------------------------------------------------------------


class AlarmMetric(Model, frozen=True, kw_only=True):
    name: str = ""
    namespace: str = ""
    dimensions: dict[str, str] = field(default_factory=dict)


class AlarmMetricStat(Model, frozen=True, kw_only=True):
    metric: AlarmMetric


class AlarmQuery(Model, frozen=True, kw_only=True):
    id: str = ""
    metricStat: AlarmMetricStat | None = None  # noqa: N815
    expression: str | None = None


class AlarmConfiguration(Model, frozen=True, kw_only=True):
    metrics: list[AlarmQuery] = field(default_factory=list)
    alarmRule: str | None = None  # noqa: N815 - composite alarms


class AlarmStateValue(Model, frozen=True, kw_only=True):
    value: str
    reason: str = ""
    timestamp: str = ""


class AlarmDetail(Model, frozen=True, kw_only=True):
    alarmName: str  # noqa: N815
    state: AlarmStateValue
    previousState: AlarmStateValue | None = None  # noqa: N815
    configuration: AlarmConfiguration = field(default_factory=AlarmConfiguration)

    def dimensions(self) -> list[dict[str, str]]:
        return [q.metricStat.metric.dimensions for q in self.configuration.metrics if q.metricStat]


class AlarmStateChangeEvent(EventBridgeEvent, frozen=True, kw_only=True):
    detail_type: Literal["CloudWatch Alarm State Change"] = field(name="detail-type")
    source: Literal["aws.cloudwatch"]
    resources: AtLeastOne
    detail: AlarmDetail

    @property
    def alarm_arn(self) -> str:
        return self.resources[0]


# -- scans ------------------------------------------------------------------------------------


class ScanDetail(Model, frozen=True, kw_only=True):
    scan_status: str = field(name="scan-status")
    repository_name: NonEmpty = field(name="repository-name")
    image_digest: Digest = field(name="image-digest")
    image_tags: list[str] = field(default_factory=list, name="image-tags")
    finding_severity_counts: dict[str, int] = field(
        default_factory=dict, name="finding-severity-counts"
    )

    @property
    def repository(self) -> str:
        """Inspector2 names the repository by ARN, ECR by name."""
        name = self.repository_name
        if name.startswith("arn:"):
            return name.split(":", 5)[-1].removeprefix("repository/")
        return name


class ImageScanEvent(EventBridgeEvent, frozen=True, kw_only=True):
    detail_type: Literal["ECR Image Scan", "Inspector2 Scan"] = field(name="detail-type")
    source: Literal["aws.ecr", "aws.inspector2"]
    detail: ScanDetail


def scanned_images(event: ImageScanEvent) -> tuple[list[ImagePush], ScanResult]:
    """The scanned image once per tag it carries, and the scan's result."""
    detail = event.detail
    if not detail.image_tags:
        raise IgnoredEvent("scanned image has no tag: nothing follows it")
    complete = detail.scan_status in {"COMPLETE", "INITIAL_SCAN_COMPLETE"}
    pushes = [
        ImagePush(
            event_id=event.id,
            time=event.time,
            account=event.account,
            region=event.region,
            repository=detail.repository,
            digest=detail.image_digest,
            tag=tag,
        )
        for tag in detail.image_tags
    ]
    result = ScanResult(
        status="COMPLETE" if complete else detail.scan_status,
        counts={k: v for k, v in detail.finding_severity_counts.items() if k != "TOTAL"},
    )
    return pushes, result


# -- schedules --------------------------------------------------------------------------------


class ScheduleDocument(Model, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What an EventBridge Scheduler schedule delivers, e.g. {"action": "park", "group": "nightly"}.

    The template's schedules add `timezone`, `skip_dates` and Scheduler's context attributes:
    the schedule's ARN and scheduled time, which name one firing of one schedule (a retried
    delivery carries the same two), and the execution id, which Scheduler assigns anew to each
    attempt. A hand-sent document may leave them out."""

    action: Literal["park", "unpark", "scale", "restore"]
    group: NonEmpty | None = None
    service_arn: str | None = None  # restore: the one service whose peak ends
    scale_id: str | None = None
    min: Count | None = None
    max: Count | None = None
    desired: Count | None = None
    until: Aware | None = None
    hours: Annotated[float, Meta(gt=0, le=24 * 14)] | None = None
    timezone: str = "UTC"
    skip_dates: list[date] = field(default_factory=list)
    schedule_arn: Annotated[str, Meta(pattern=r"^arn:aws[\w-]*:scheduler:")] | None = None
    execution_id: str | None = None
    scheduled_time: Aware | None = None

    def __post_init__(self) -> None:
        # Raised while parsing, msgspec reports it as the document's validation error.
        if self.action in {"park", "unpark", "scale"} and not self.group:
            raise ValueError(f"{self.action} needs a group")
        if self.action == "scale" and (self.min is None or self.max is None):
            raise ValueError("scale needs min and max")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is above max")
        if self.action == "restore" and not (self.service_arn and self.scale_id):
            raise ValueError("restore needs service_arn and scale_id")
        if self.until is not None and self.hours is not None:
            raise ValueError("give until or hours, not both")
        _zone(self.timezone)

    def trigger_key(self) -> str | None:
        """What names this firing whatever the attempt: the schedule and its scheduled time;
        without them, the execution id (a hand-sent document may carry none: None)."""
        if self.schedule_arn and self.scheduled_time is not None:
            moment = self.scheduled_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            return f"{self.schedule_arn}@{moment}"
        return self.execution_id


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


class CostReportDocument(Model, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """{"action": "cost-report"}: the weekly schedule's document; `week` for a re-run."""

    action: Literal["cost-report"]
    week: Annotated[str, Meta(pattern=r"^\d{4}-W\d{2}$")] | None = None
    timezone: str = "UTC"
    execution_id: str | None = None
    scheduled_time: Aware | None = None

    def __post_init__(self) -> None:
        if self.week is not None:
            # The report's calendar, only for the function that sends it (planners skip it).
            from autopilot.domain.report import Week  # noqa: PLC0415

            Week.parse(self.week)  # raises ValueError for 2026-W60
        _zone(self.timezone)
