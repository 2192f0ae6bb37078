"""Park, unpark and peaks: schedule documents routed by the local runner, executed against moto."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest

from autopilot.adapters.ledger import Ledger
from autopilot_tools.local import fleet, sample_events
from autopilot_tools.local.runner import LocalApp
from autopilot_tools.local.session import send

BERLIN = ZoneInfo("Europe/Berlin")
STAGING_WEB = "arn:aws:ecs:us-east-1:123456789012:service/staging/web"
WORKER = "arn:aws:ecs:us-east-1:123456789012:service/staging/worker"
API = "arn:aws:ecs:us-east-1:123456789012:service/prod/api"
FRIDAY_EVENING = datetime(2026, 11, 20, 20, 0, tzinfo=BERLIN)
MONDAY_MORNING = datetime(2026, 11, 23, 7, 0, tzinfo=BERLIN)
NOT_SUSPENDED = {
    "DynamicScalingInSuspended": False,
    "DynamicScalingOutSuspended": False,
    "ScheduledScalingSuspended": False,
}
PARK = {"action": "park", "group": "nightly", "timezone": "Europe/Berlin"}
UNPARK = {"action": "unpark", "group": "nightly", "timezone": "Europe/Berlin"}


class Schedules:
    def __init__(self, app: LocalApp) -> None:
        self.app = app

    def at(self, moment: datetime) -> Schedules:
        self.app.clock = lambda: moment
        return self

    def send(self, document: dict[str, Any]) -> dict[str, dict[str, Any]]:
        lines = send(self.app, [document])
        return {
            line.get("service", "(event)"): line
            for line in lines
            if line["type"] in {"action", "ignored", "rejected", "skipped"}
        }

    def capacity(self, arn: str) -> tuple[int, Any]:
        """(desired count, full scalable target as Application Auto Scaling reports it)."""
        with self.app.aws_environment():
            resource = "service/" + "/".join(arn.rsplit("/", 2)[-2:])
            targets = boto3.client("application-autoscaling").describe_scalable_targets(
                ServiceNamespace="ecs", ResourceIds=[resource]
            )["ScalableTargets"]
            # AWS reports all three flags; moto echoes only those registered: absent is False.
            target = (
                (
                    t["MinCapacity"],
                    t["MaxCapacity"],
                    {**NOT_SUSPENDED, **t.get("SuspendedState", {})},
                )
                for t in targets
            )
            return fleet.desired_count(arn), next(target, None)

    def history(self, arn: str) -> list[Any]:
        with self.app.aws_environment():
            return Ledger(self.app.physical("LedgerTable")["Ref"], 1).history(arn)

    def tag(self, arn: str, key: str, value: str) -> None:
        with self.app.aws_environment():
            boto3.client("ecs").tag_resource(resourceArn=arn, tags=[{"key": key, "value": value}])


@pytest.fixture
def schedules(app: LocalApp, services: dict[str, str]) -> Schedules:
    return Schedules(app)


def test_park_then_unpark_restores_exactly_what_ran(schedules: Schedules) -> None:
    # Given staging/web with 2 tasks, scaling between 1 and 4, and partly suspended scaling
    with schedules.app.aws_environment():
        boto3.client("application-autoscaling").register_scalable_target(
            ServiceNamespace="ecs",
            ResourceId="service/staging/web",
            ScalableDimension="ecs:service:DesiredCount",
            MinCapacity=1,
            MaxCapacity=4,
            SuspendedState={"ScheduledScalingSuspended": True},
        )
    before = schedules.capacity(STAGING_WEB)

    # When the group is parked in the evening
    parked = schedules.at(FRIDAY_EVENING).send(PARK)

    # Then it runs nothing and cannot scale back up by itself
    assert parked["staging/web"]["outcome"] == "applied"
    desired, target = schedules.capacity(STAGING_WEB)
    assert desired == 0
    assert target[:2] == (0, 0)
    assert all(target[2].values())

    # When it is unparked in the morning
    schedules.at(MONDAY_MORNING).send(UNPARK)

    # Then desired count, limits and suspended state are exactly what they were
    assert schedules.capacity(STAGING_WEB) == before


def test_parking_twice_keeps_the_first_saved_capacity(schedules: Schedules) -> None:
    # Given a parked group
    before = schedules.capacity(STAGING_WEB)
    schedules.at(FRIDAY_EVENING).send(PARK)

    # When the park is delivered again, then the group is unparked
    again = schedules.send(PARK)
    schedules.at(MONDAY_MORNING).send(UNPARK)

    # Then the second park saved nothing, and the first capacity came back (not zeros)
    assert again["staging/web"]["code"] == "already-parked"
    assert schedules.capacity(STAGING_WEB) == before


def test_unparking_a_service_that_was_never_parked_changes_nothing(schedules: Schedules) -> None:
    before = schedules.capacity(STAGING_WEB)
    lines = schedules.send(UNPARK)
    assert lines["staging/web"]["code"] == "not-parked"
    assert schedules.capacity(STAGING_WEB) == before


def test_a_service_parked_at_zero_comes_back_at_zero(schedules: Schedules) -> None:
    # Given staging/worker already scaled to 0 tasks
    with schedules.app.aws_environment():
        boto3.client("ecs").update_service(cluster="staging", service="worker", desiredCount=0)

    # When it is parked and unparked
    schedules.at(FRIDAY_EVENING).send(PARK)
    lines = schedules.at(MONDAY_MORNING).send(UNPARK)

    # Then 0 was saved as a value, and restored as 0
    assert lines["staging/worker"]["outcome"] == "applied"
    assert schedules.capacity(WORKER)[0] == 0


def test_on_a_skip_date_in_the_schedules_time_zone_the_group_stays_up(
    schedules: Schedules,
) -> None:
    # Given Christmas Eve is a skip date, and it is 23:30 in Berlin (22:30 UTC)
    document = {**PARK, "skip_dates": ["2026-12-24"]}
    schedules.at(datetime(2026, 12, 24, 23, 30, tzinfo=BERLIN))

    # When the park schedule fires
    lines = schedules.send(document)

    # Then nothing is parked
    assert lines["staging/web"]["code"] == "skip-date"
    assert schedules.capacity(STAGING_WEB)[0] == 2


def test_a_keep_up_override_is_respected_until_it_expires(schedules: Schedules) -> None:
    # Given staging/web is kept up until Friday 22:00 Berlin
    schedules.tag(
        STAGING_WEB, "autopilot:schedule-override", "keep-up-until=2026-11-20T22:00:00+01:00"
    )

    # When the park fires at 20:00, and again at 23:00
    early = schedules.at(FRIDAY_EVENING).send(PARK)
    late = schedules.at(datetime(2026, 11, 20, 23, 0, tzinfo=BERLIN)).send(PARK)

    # Then it stays up the first time and is parked once the override has expired
    assert early["staging/web"]["code"] == "override"
    assert early["staging/worker"]["outcome"] == "applied"
    assert late["staging/web"]["outcome"] == "applied"


def test_daemon_services_are_skipped(schedules: Schedules) -> None:
    # Given a DAEMON service in the nightly group
    with schedules.app.aws_environment():
        ecs = boto3.client("ecs")
        definition = ecs.register_task_definition(
            family="agent", containerDefinitions=[{"name": "agent", "image": "agent", "memory": 64}]
        )["taskDefinition"]["taskDefinitionArn"]
        ecs.create_service(
            cluster="staging",
            serviceName="agent",
            taskDefinition=definition,
            schedulingStrategy="DAEMON",
            tags=[{"key": "autopilot:schedule", "value": "nightly"}],
        )

    # When the group is parked
    lines = schedules.at(FRIDAY_EVENING).send(PARK)

    # Then the daemon is left alone, with the reason
    assert lines["staging/agent"]["code"] == "daemon"


def test_a_deploy_to_a_parked_service_does_not_start_it_and_unpark_runs_the_new_revision(
    schedules: Schedules,
) -> None:
    # Given staging/web parked
    schedules.at(FRIDAY_EVENING).send(PARK)

    # When web:main is pushed while it is parked, and it is unparked on Monday
    with schedules.app.aws_environment():
        digest = fleet.push_image("web", "main", 2)
    deployed = schedules.send(sample_events.ecr_push("web", "main", digest))
    parked_desired = schedules.capacity(STAGING_WEB)[0]
    schedules.at(MONDAY_MORNING).send(UNPARK)

    # Then the deploy changed the revision but not the count, and unpark runs the new revision
    assert deployed["staging/web"]["outcome"] == "deployed"
    assert parked_desired == 0
    with schedules.app.aws_environment():
        image = fleet.running_images(STAGING_WEB)["web"]
    assert image.endswith(digest)
    assert schedules.capacity(STAGING_WEB)[0] == 2


def test_unpark_records_hours_parked_and_money_saved(schedules: Schedules) -> None:
    # Given the group parked from Friday 20:00 to Monday 07:00 (59 hours)
    schedules.at(FRIDAY_EVENING).send(PARK)
    schedules.at(MONDAY_MORNING).send(UNPARK)

    # Then the ledger has the hours and the estimate (2 ARM tasks of 0.5 vCPU and 1 GB)
    [unpark, _park] = schedules.history(STAGING_WEB)
    assert unpark.hours_parked == "59.00"
    expected = round(59 * 2 * (0.5 * 0.03238 + 1 * 0.00356), 2)
    assert unpark.saved_usd == f"{expected:.2f}"


def test_a_peak_ends_by_itself_and_restores_the_capacity_from_before(schedules: Schedules) -> None:
    # Given prod/api with 3 tasks, scaling between 2 and 10
    before = schedules.capacity(API)

    # When a peak of min 6, max 30 until 11:30 Berlin starts at 07:30
    schedules.at(datetime(2026, 11, 23, 7, 30, tzinfo=BERLIN)).send(
        {
            "action": "scale",
            "group": "peak",
            "min": 6,
            "max": 30,
            "until": "2026-11-23T11:30:00+01:00",
        }
    )

    # Then the peak capacity is set, and a one-off schedule will end it at 10:30 UTC
    assert schedules.capacity(API)[0] == 6
    assert schedules.capacity(API)[1][:2] == (6, 30)
    [restore] = schedules.app.schedules()
    assert restore["expression"] == "at(2026-11-23T10:30:00)"

    # When Scheduler delivers the restore at that time
    end = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)
    schedules.at(end).send(
        sample_events.scheduler_delivery(restore["input"], end, schedule_arn=restore["arn"])
    )

    # Then the capacity from before the peak is back
    assert schedules.capacity(API) == before


def test_a_peak_ending_while_parked_keeps_the_service_parked(schedules: Schedules) -> None:
    # Given prod/api scaled for a peak, then parked (it joined the nightly group too)
    schedules.tag(API, "autopilot:schedule", "peak nightly")
    before = schedules.capacity(API)
    schedules.at(datetime(2026, 11, 20, 16, 0, tzinfo=BERLIN)).send(
        {
            "action": "scale",
            "group": "peak",
            "min": 6,
            "max": 30,
            "until": "2026-11-20T21:00:00+01:00",
        }
    )
    schedules.at(FRIDAY_EVENING).send(PARK)

    # When the peak's end arrives while it is parked, and Monday's unpark follows
    [restore] = schedules.app.schedules()
    end = datetime(2026, 11, 20, 21, 0, tzinfo=BERLIN)
    schedules.at(end).send(
        sample_events.scheduler_delivery(restore["input"], end, schedule_arn=restore["arn"])
    )
    parked = schedules.capacity(API)[0]
    schedules.at(MONDAY_MORNING).send(UNPARK)

    # Then it stayed parked, and unpark brought back the capacity from before the peak
    assert parked == 0
    assert schedules.capacity(API) == before


def test_a_malformed_schedule_document_is_rejected_and_kept(schedules: Schedules) -> None:
    lines = schedules.send({"action": "scale", "group": "peak", "min": 6})
    assert "scale needs min and max" in lines["(event)"]["reason"]
    assert schedules.app.queue_depth("EventsDeadLetterQueue") == 1
