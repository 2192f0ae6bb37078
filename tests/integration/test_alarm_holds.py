"""Which alarms count (Application Auto Scaling's never do; ECS deployment alarms do) and pushes
held back by an alarm or a scan: remembered, told once, deployed when the alarm is back to OK,
expired when that takes too long. Events are routed through template.yaml's rules to the real
handlers, against moto (which emits no alarm events: the tests send them after each change)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from autopilot.adapters.cloudwatch import CloudWatchGateway
from autopilot.adapters.ecs import EcsGateway
from autopilot.adapters.queues import ActionQueue
from autopilot.adapters.tagging import TaggingGateway
from autopilot.models.events import AlarmStateChangeEvent, IgnoredEvent
from autopilot.workflows.plan_alarm import plan_alarm
from autopilot_tools.local import fleet, sample_events
from autopilot_tools.local.runner import LocalApp
from tests.integration.test_rollback import API, WEB, Scenario

STAGING_WEB = "arn:aws:ecs:us-east-1:123456789012:service/staging/web"


@pytest.fixture
def story(app: LocalApp, services: dict[str, str]) -> Scenario:
    return Scenario(app)


def aws(story: Scenario) -> Any:
    return story.app.aws_environment()


def fire(story: Scenario, name: str, cluster: str, service: str, **kw: Any) -> dict[str, Any]:
    """CloudWatch puts the alarm in ALARM and sends its event."""
    with aws(story):
        fleet.set_alarm_state(name, "ALARM")
    return story.send(sample_events.alarm(name, cluster, service, "ALARM", **kw))


def clear(story: Scenario, name: str, cluster: str, service: str) -> dict[str, Any]:
    """CloudWatch puts the alarm back to OK and sends its event."""
    with aws(story):
        fleet.set_alarm_state(name, "OK")
    return story.send(sample_events.alarm(name, cluster, service, "OK"))


def running_build(story: Scenario, service_arn: str, container: str = "web") -> str:
    return story.running(service_arn, container).rsplit("@", 1)[-1]


def notes_for(story: Scenario, label: str) -> list[dict[str, Any]]:
    return [n for n in story.notes if label in n["subject"]]


# -- which alarms count ------------------------------------------------------------------------


def test_target_tracking_alarms_neither_roll_back_nor_hold_a_deploy(story: Scenario) -> None:
    # Given staging/web scaling on CPU with a target tracking policy, and build 2 baking on it
    with aws(story):
        high, low = fleet.scale_on_cpu("staging", "web")
    assert story.push("web", "main", 2)["staging/web"]["outcome"] == "deployed"

    # When load rises and AlarmHigh fires, in the shape of the event AWS sends for it
    lines = fire(story, high, "staging", "web", sample="cloudwatch_alarm_target_tracking.json")

    # Then the event is ignored as a scaling signal: no rollback
    assert "Application Auto Scaling" in lines["(event)"]["reason"]
    assert running_build(story, STAGING_WEB) == fleet.digest_of("web", 2)

    # When the service is quiet too (AlarmLow in ALARM) and build 3 is pushed
    with aws(story):
        fleet.set_alarm_state(low, "ALARM")
    pushed = story.push("web", "main", 3)

    # Then neither alarm holds it back
    assert pushed["staging/web"]["outcome"] == "deployed"
    assert story.state(STAGING_WEB).held is None
    assert not [e for e in story.ledger_history(STAGING_WEB) if e.kind == "rollback"]


def test_a_step_scaling_alarm_is_known_by_its_action(story: Scenario) -> None:
    # Given an alarm someone made on staging/web's CPU, whose action is a step scaling policy
    with aws(story):
        policy = boto3.client("application-autoscaling").put_scaling_policy(
            PolicyName="scale-out",
            ServiceNamespace="ecs",
            ResourceId="service/staging/web",
            ScalableDimension="ecs:service:DesiredCount",
            PolicyType="StepScaling",
            StepScalingPolicyConfiguration={
                "AdjustmentType": "ChangeInCapacity",
                "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}],
            },
        )["PolicyARN"]
        boto3.client("cloudwatch").put_metric_alarm(
            AlarmName="staging-web-scale-out",
            Namespace="AWS/ECS",
            MetricName="CPUUtilization",
            Dimensions=[
                {"Name": "ClusterName", "Value": "staging"},
                {"Name": "ServiceName", "Value": "web"},
            ],
            Statistic="Average",
            Period=60,
            EvaluationPeriods=1,
            Threshold=70.0,
            ComparisonOperator="GreaterThanThreshold",
            AlarmActions=[policy],
        )
    story.push("web", "main", 2)

    # When it fires during the bake window, and a push arrives while it is in ALARM
    lines = fire(story, "staging-web-scale-out", "staging", "web")
    pushed = story.push("web", "main", 3)

    # Then it neither rolls back nor holds the push
    assert "Application Auto Scaling" in lines["(event)"]["reason"]
    assert pushed["staging/web"]["outcome"] == "deployed"


def test_an_ecs_deployment_alarm_ties_an_alarm_without_service_dimensions(
    story: Scenario,
) -> None:
    # Given prod/api naming a load balancer latency alarm in its deployment configuration,
    # and api 1.5.0 baking on it
    with aws(story):
        fleet.put_alarm(
            "api-p99-latency",
            "prod",
            "api",
            dimensions={"LoadBalancer": "app/prod-api/0123456789abcdef"},
            namespace="AWS/ApplicationELB",
            metric="TargetResponseTime",
        )
        fleet.set_deployment_alarms(API, ["api-p99-latency"])
    story.push("api", "1.5.0", 150)

    # When it fires (its event names the load balancer, not the service)
    with aws(story):
        fleet.set_alarm_state("api-p99-latency", "ALARM")
    event = sample_events.alarm("api-p99-latency", "prod", "api")
    event["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"]["dimensions"] = {
        "LoadBalancer": "app/prod-api/0123456789abcdef"
    }
    fired = story.send(event)

    # Then prod/api is rolled back, and a push while it fires is held
    assert fired["prod/api"]["outcome"] == "rolled-back"
    held = story.push("api", "1.5.1", 151)
    assert held["prod/api"]["code"] == "alarm-firing"

    # When it is back to OK, the held push goes out
    with aws(story):
        fleet.set_alarm_state("api-p99-latency", "OK")
    event["detail"]["state"]["value"] = "OK"
    event["id"] = "ok-" + event["id"]
    resumed = story.send(event)
    assert (resumed["prod/api"]["outcome"], resumed["prod/api"]["trigger"]) == (
        "deployed",
        "alarm-ok",
    )
    assert story.running(API, "api").endswith(fleet.digest_of("api", 151))


# -- a push held by an alarm -------------------------------------------------------------------


def test_a_push_held_by_an_alarm_deploys_when_the_alarm_is_back_to_ok(story: Scenario) -> None:
    # Given prod/web's CPU alarm in ALARM
    with aws(story):
        fleet.put_alarm("prod-web-cpu-high", "prod", "web")
        fleet.set_alarm_state("prod-web-cpu-high", "ALARM")

    # When build 2 and then build 3 are pushed while it fires
    first = story.push("web", "main", 2)
    told = list(notes_for(story, "prod/web"))
    second = story.push("web", "main", 3)

    # Then both are held from prod/web (staging/web, not tied to it, deploys), people are told
    # once, and only the newer push is remembered
    assert first["prod/web"]["code"] == second["prod/web"]["code"] == "alarm-firing"
    assert first["staging/web"]["outcome"] == "deployed"
    assert len(told) == 1
    assert "goes out on its own when the alarm is back to OK" in told[0]["text"]
    assert notes_for(story, "prod/web") == told
    held = story.state(WEB).held
    assert held is not None
    assert (held.push.digest, held.notified) == (fleet.digest_of("web", 3), True)

    # When the alarm is back to OK
    ok = clear(story, "prod-web-cpu-high", "prod", "web")

    # Then build 3 goes out to prod/web, triggered by the OK event, and the hold is over
    assert ok["prod/web"]["outcome"] == "deployed"
    assert ok["prod/web"]["trigger"] == "alarm-ok"
    assert running_build(story, WEB) == fleet.digest_of("web", 3)
    assert story.state(WEB).held is None
    assert "[autopilot] deploying prod/web: web:main" in [n["subject"] for n in story.notes]


def test_a_replayed_ok_event_deploys_nothing_twice(story: Scenario) -> None:
    # Given a push held by prod/web's CPU alarm, released by the alarm's OK event
    with aws(story):
        fleet.put_alarm("prod-web-cpu-high", "prod", "web")
        fleet.set_alarm_state("prod-web-cpu-high", "ALARM")
    story.push("web", "main", 2)
    with aws(story):
        fleet.set_alarm_state("prod-web-cpu-high", "OK")
    ok = sample_events.alarm("prod-web-cpu-high", "prod", "web", "OK")
    first = story.send(ok)

    # When EventBridge delivers the same OK event again
    again = story.send(ok)

    # Then it finds its own finished deploy: one deploy in the ledger, no new revision
    assert first["prod/web"]["outcome"] == again["prod/web"]["outcome"] == "deployed"
    assert first["prod/web"]["to"] == again["prod/web"]["to"]
    deploys = [e for e in story.ledger_history(WEB) if e.trigger == "alarm-ok"]
    assert len(deploys) == 1


def test_a_held_push_waits_until_every_tied_alarm_is_back_to_ok(story: Scenario) -> None:
    # Given two of prod/web's alarms in ALARM and a push they hold
    with aws(story):
        for name in ("prod-web-cpu-high", "prod-web-5xx"):
            fleet.put_alarm(name, "prod", "web")
            fleet.set_alarm_state(name, "ALARM")
    story.push("web", "main", 2)

    # When one of them is back to OK
    first = clear(story, "prod-web-cpu-high", "prod", "web")

    # Then the push stays held, and nobody is told again
    assert first["prod/web"]["code"] == "still-held"
    assert "prod-web-5xx" in first["prod/web"]["reason"]
    assert len(notes_for(story, "prod/web")) == 1
    assert story.state(WEB).held is not None

    # When the other one is back to OK too, the push goes out
    second = clear(story, "prod-web-5xx", "prod", "web")
    assert second["prod/web"]["outcome"] == "deployed"


def test_a_dry_run_remembers_no_hold_and_tells_each_held_push(
    story: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the application deployed with DryRun=true, and prod/web's CPU alarm in ALARM
    monkeypatch.setenv("AUTOPILOT_PARAMETER_DryRun", "true")
    with aws(story):
        fleet.put_alarm("prod-web-cpu-high", "prod", "web")
        fleet.set_alarm_state("prod-web-cpu-high", "ALARM")

    # When two builds are pushed
    story.push("web", "main", 2)
    story.push("web", "main", 3)

    # Then each held push is told (nothing is remembered to say it was), and no state is written
    assert len(notes_for(story, "prod/web")) == 2
    assert story.state(WEB).held is None


def test_the_hold_limit_is_a_setting(story: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given HeldPushMaxHours=2, and a push held by prod/web's CPU alarm
    monkeypatch.setenv("AUTOPILOT_PARAMETER_HeldPushMaxHours", "2")
    with aws(story):
        fleet.put_alarm("prod-web-cpu-high", "prod", "web")
        fleet.set_alarm_state("prod-web-cpu-high", "ALARM")
    held = story.push("web", "main", 2)

    # When the alarm is back to OK three hours later
    later = datetime.now(UTC) + timedelta(hours=3)
    story.app.clock = lambda: later
    expired = clear(story, "prod-web-cpu-high", "prod", "web")

    # Then the hold says so when it is told, and it has expired
    assert "more than 2 h" in notes_for(story, "prod/web")[0]["text"]
    assert held["prod/web"]["code"] == "alarm-firing"
    assert expired["prod/web"]["code"] == "hold-expired"


def test_a_hold_older_than_the_limit_expires_with_a_notice(story: Scenario) -> None:
    # Given build 2 held from prod/web by its CPU alarm
    with aws(story):
        fleet.put_alarm("prod-web-cpu-high", "prod", "web")
        fleet.set_alarm_state("prod-web-cpu-high", "ALARM")
    story.push("web", "main", 2)
    before = story.revision(WEB)

    # When the alarm is back to OK 25 hours later (the limit is 24)
    later = datetime.now(UTC) + timedelta(hours=25)
    story.app.clock = lambda: later
    expired = clear(story, "prod-web-cpu-high", "prod", "web")

    # Then nothing is deployed, the hold is forgotten, and people are told why
    assert (expired["prod/web"]["kind"], expired["prod/web"]["code"]) == (
        "resume-held",
        "hold-expired",
    )
    assert story.revision(WEB) == before
    assert story.state(WEB).held is None
    [notice] = [n for n in story.notes if "expired" in n["subject"]]
    assert notice["subject"] == "[autopilot] held push to prod/web expired: web:main"
    assert "longer than the 24 h a held push may wait" in notice["text"]


# -- a push held for its scan ------------------------------------------------------------------


def test_a_push_waiting_for_a_scan_that_never_comes_is_told_once_with_what_to_do(
    story: Scenario,
) -> None:
    # Given prod/web gated on the image scan, and repository web not scanned on push
    story.tag(WEB, "autopilot:scan", "HIGH")

    # When build 2 and then build 3 are pushed
    first = story.push("web", "main", 2)
    second = story.push("web", "main", 3)

    # Then both wait for a scan, and people are told once, with the commands that release it
    assert first["prod/web"]["code"] == second["prod/web"]["code"] == "scan-pending"
    [notice] = notes_for(story, "prod/web")
    digest = fleet.digest_of("web", 2)
    assert "ECR does not scan web on push" in notice["text"]
    assert (
        "aws ecr start-image-scan --registry-id 123456789012 --repository-name web "
        f"--image-id imageDigest={digest}"
    ) in notice["text"]
    assert "remove the autopilot:scan tag" in notice["text"]
    held = story.state(WEB).held
    assert held is not None
    assert (held.code, held.push.digest, held.notified) == (
        "scan-pending",
        fleet.digest_of("web", 3),
        True,
    )


def test_a_push_whose_scan_is_on_its_way_is_held_quietly(story: Scenario) -> None:
    # Given prod/web gated on the image scan, and repository web scanned on push
    story.tag(WEB, "autopilot:scan", "HIGH")
    with aws(story):
        boto3.client("ecr").put_image_scanning_configuration(
            repositoryName="web", imageScanningConfiguration={"scanOnPush": True}
        )

    # When build 2 is pushed
    pushed = story.push("web", "main", 2)

    # Then it waits for the scan without a notice (the scan's event deploys it)
    assert pushed["prod/web"]["code"] == "scan-pending"
    assert notes_for(story, "prod/web") == []


def test_enhanced_scanning_that_skips_the_repository_is_explained(story: Scenario) -> None:
    # Given prod/web gated on the scan, and enhanced scanning that covers only api
    story.tag(WEB, "autopilot:scan", "HIGH")
    with aws(story):
        boto3.client("ecr").put_registry_scanning_configuration(
            scanType="ENHANCED",
            rules=[
                {
                    "scanFrequency": "CONTINUOUS_SCAN",
                    "repositoryFilters": [{"filter": "api", "filterType": "WILDCARD"}],
                }
            ],
        )

    # When build 2 is pushed
    story.push("web", "main", 2)

    # Then people are told that Inspector never scans web, and how to change that
    [notice] = notes_for(story, "prod/web")
    assert "enhanced scanning (Amazon Inspector)" in notice["text"]
    assert "add a filter matching web" in notice["text"]


# -- what the planner costs --------------------------------------------------------------------


def test_the_alarm_planner_reads_a_fleet_of_100_services_in_one_pass(app: LocalApp) -> None:
    # Given 100 opted-in services in one cluster, one of them naming the alarm as a deployment
    # alarm, and the alarm itself (a load balancer alarm: no service dimensions)
    with app.aws_environment():
        ecs = boto3.client("ecs")
        ecs.create_cluster(clusterName="big")
        definition = ecs.register_task_definition(
            family="svc", containerDefinitions=[{"name": "app", "image": "app:1", "memory": 128}]
        )["taskDefinition"]["taskDefinitionArn"]
        for index in range(100):
            ecs.create_service(
                cluster="big",
                serviceName=f"svc-{index:03}",
                taskDefinition=definition,
                desiredCount=1,
                tags=[{"key": "autopilot:track", "value": "tag:main"}],
            )
        target = "arn:aws:ecs:us-east-1:123456789012:service/big/svc-042"
        fleet.set_deployment_alarms(target, ["big-p99"])
        fleet.put_alarm("big-p99", "big", "svc-042", dimensions={"LoadBalancer": "app/big/1"})
        fleet.set_alarm_state("big-p99", "ALARM")
        calls: list[str] = []
        gateways = {}
        for service in ("cloudwatch", "ecs", "resourcegroupstaggingapi", "sqs"):
            client = boto3.client(service)
            client.meta.events.register(
                "before-call.*.*", lambda model, **_: calls.append(model.name)
            )
            gateways[service] = client
        event = AlarmStateChangeEvent.parse(sample_events.alarm("big-p99", "big", "x"))

        # When its ALARM event is planned
        plan = plan_alarm(
            event,
            CloudWatchGateway(gateways["cloudwatch"]),
            EcsGateway(gateways["ecs"]),
            TaggingGateway(gateways["resourcegroupstaggingapi"]),
            ActionQueue(app.physical("ActionsQueue")["Ref"], gateways["sqs"]),
        )

    # Then the service that names it is found, with one DescribeAlarms, one ListTagsForResource,
    # two GetResources pages (100 services, then an empty last page), ten DescribeServices and
    # one SendMessage
    assert plan.services == (target,)
    assert sorted(calls) == sorted(
        [
            "DescribeAlarms",
            "ListTagsForResource",
            *["GetResources"] * 2,
            *["DescribeServices"] * 10,
            "SendMessage",
        ]
    )


def test_a_target_tracking_alarm_costs_the_planner_no_call(app: LocalApp) -> None:
    # Given a target tracking alarm's event
    event = AlarmStateChangeEvent.parse(
        sample_events.alarm(
            "TargetTracking-service/staging/web-AlarmLow-1",
            "staging",
            "web",
            sample="cloudwatch_alarm_target_tracking.json",
        )
    )
    calls: list[str] = []
    with app.aws_environment():
        clients = {s: boto3.client(s) for s in ("cloudwatch", "ecs", "resourcegroupstaggingapi")}
        for client in clients.values():
            client.meta.events.register(
                "before-call.*.*", lambda model, **_: calls.append(model.name)
            )

        # When it is planned
        with pytest.raises(IgnoredEvent, match="Application Auto Scaling"):
            plan_alarm(
                event,
                CloudWatchGateway(clients["cloudwatch"]),
                EcsGateway(clients["ecs"]),
                TaggingGateway(clients["resourcegroupstaggingapi"]),
                ActionQueue(app.physical("ActionsQueue")["Ref"]),
            )

    # Then it was ruled out by its name alone
    assert calls == []
