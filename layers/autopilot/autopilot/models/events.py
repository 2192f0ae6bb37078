"""EventBridge events, typed at the edge with pydantic models.

Field names follow the AWS documentation of each event; unknown fields are kept out of the
way (pydantic ignores them), so an AWS addition never breaks parsing.

The envelope is `EventBridgeEvent`, the fields of Powertools' `EventBridgeModel` without the
parser package: importing that package costs the planners about 6 ms and 1 MB of every cold
start for one base class.

Every model here and in `models.actions` builds its validator on first use (`defer_build`): a
handler builds the schemas of what it parses, not of every event the application knows.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from autopilot.domain.fleet import ImagePush
from autopilot.domain.scan import ScanResult

Digest = Annotated[str, StringConstraints(pattern=r"^sha256:[0-9a-f]{64}$")]


class EventBridgeEvent(BaseModel):
    """The envelope EventBridge puts around every event; each event narrows `detail-type`,
    `source` and `detail`."""

    model_config = ConfigDict(defer_build=True, populate_by_name=True)

    version: str
    id: str
    source: str
    account: str
    time: datetime
    region: str
    resources: list[str]
    detail_type: str = Field(alias="detail-type")
    detail: Any
    replay_name: str | None = Field(default=None, alias="replay-name")


class EcrImageActionDetail(BaseModel):
    model_config = ConfigDict(defer_build=True, populate_by_name=True, frozen=True)

    result: str
    repository_name: str = Field(alias="repository-name", min_length=1)
    image_digest: Digest | None = Field(default=None, alias="image-digest")
    action_type: str = Field(alias="action-type")
    image_tag: str | None = Field(default=None, alias="image-tag")
    manifest_media_type: str | None = Field(default=None, alias="manifest-media-type")


class EcrImageActionEvent(EventBridgeEvent):
    detail_type: Literal["ECR Image Action"] = Field(alias="detail-type")
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


class EcsDeploymentDetail(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)

    eventType: str  # noqa: N815 - AWS's field names
    eventName: str  # noqa: N815
    deploymentId: str = Field(min_length=1)  # noqa: N815
    reason: str = ""


class EcsDeploymentStateChangeEvent(EventBridgeEvent):
    detail_type: Literal["ECS Deployment State Change"] = Field(alias="detail-type")
    source: Literal["aws.ecs"]
    resources: list[str] = Field(min_length=1)
    detail: EcsDeploymentDetail


class CodeDeployDetail(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)

    application: str
    deploymentGroup: str  # noqa: N815
    deploymentId: str = Field(min_length=1)  # noqa: N815
    state: str


class CodeDeployStateChangeEvent(EventBridgeEvent):
    detail_type: Literal["CodeDeploy Deployment State-change Notification"] = Field(
        alias="detail-type"
    )
    source: Literal["aws.codedeploy"]
    detail: CodeDeployDetail


# -- alarms -----------------------------------------------------------------------------------


class AlarmMetric(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)

    name: str = ""
    namespace: str = ""
    dimensions: dict[str, str] = Field(default_factory=dict)


class AlarmMetricStat(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)

    metric: AlarmMetric


class AlarmQuery(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)

    id: str = ""
    metricStat: AlarmMetricStat | None = None  # noqa: N815
    expression: str | None = None


class AlarmConfiguration(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)

    metrics: list[AlarmQuery] = Field(default_factory=list)
    alarmRule: str | None = None  # noqa: N815 - composite alarms


class AlarmStateValue(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)

    value: str
    reason: str = ""
    timestamp: str = ""


class AlarmDetail(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)

    alarmName: str  # noqa: N815
    state: AlarmStateValue
    previousState: AlarmStateValue | None = None  # noqa: N815
    configuration: AlarmConfiguration = Field(default_factory=AlarmConfiguration)

    def dimensions(self) -> list[dict[str, str]]:
        return [q.metricStat.metric.dimensions for q in self.configuration.metrics if q.metricStat]


class AlarmStateChangeEvent(EventBridgeEvent):
    detail_type: Literal["CloudWatch Alarm State Change"] = Field(alias="detail-type")
    source: Literal["aws.cloudwatch"]
    resources: list[str] = Field(min_length=1)
    detail: AlarmDetail

    @property
    def alarm_arn(self) -> str:
        return self.resources[0]


# -- scans ------------------------------------------------------------------------------------


class ScanDetail(BaseModel):
    model_config = ConfigDict(defer_build=True, populate_by_name=True, frozen=True)

    scan_status: str = Field(alias="scan-status")
    repository_name: str = Field(alias="repository-name", min_length=1)
    image_digest: Digest = Field(alias="image-digest")
    image_tags: list[str] = Field(default_factory=list, alias="image-tags")
    finding_severity_counts: dict[str, int] = Field(
        default_factory=dict, alias="finding-severity-counts"
    )

    @property
    def repository(self) -> str:
        """Inspector2 names the repository by ARN, ECR by name."""
        name = self.repository_name
        if name.startswith("arn:"):
            return name.split(":", 5)[-1].removeprefix("repository/")
        return name


class ImageScanEvent(EventBridgeEvent):
    detail_type: Literal["ECR Image Scan", "Inspector2 Scan"] = Field(alias="detail-type")
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


class ScheduleDocument(BaseModel):
    """What an EventBridge Scheduler schedule delivers, e.g. {"action": "park", "group": "nightly"}.

    The template's schedules add `timezone`, `skip_dates` and Scheduler's context attributes:
    the schedule's ARN and scheduled time, which name one firing of one schedule (a retried
    delivery carries the same two), and the execution id, which Scheduler assigns anew to each
    attempt. A hand-sent document may leave them out."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    action: Literal["park", "unpark", "scale", "restore"]
    group: str | None = Field(default=None, min_length=1)
    service_arn: str | None = None  # restore: the one service whose peak ends
    scale_id: str | None = None
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)
    desired: int | None = Field(default=None, ge=0)
    until: AwareDatetime | None = None
    hours: float | None = Field(default=None, gt=0, le=24 * 14)
    timezone: str = "UTC"
    skip_dates: list[date] = Field(default_factory=list)
    schedule_arn: str | None = Field(default=None, pattern=r"^arn:aws[\w-]*:scheduler:")
    execution_id: str | None = None
    scheduled_time: AwareDatetime | None = None

    @model_validator(mode="after")
    def _complete(self) -> ScheduleDocument:
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
        return self

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


class CostReportDocument(BaseModel):
    """{"action": "cost-report"}: the weekly schedule's document; `week` for a re-run."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    action: Literal["cost-report"]
    week: str | None = Field(default=None, pattern=r"^\d{4}-W\d{2}$")
    timezone: str = "UTC"
    execution_id: str | None = None
    scheduled_time: AwareDatetime | None = None

    @model_validator(mode="after")
    def _real_week_and_zone(self) -> CostReportDocument:
        if self.week is not None:
            # The report's calendar, only for the function that sends it (planners skip it).
            from autopilot.domain.report import Week  # noqa: PLC0415

            Week.parse(self.week)  # raises ValueError for 2026-W60
        _zone(self.timezone)
        return self
