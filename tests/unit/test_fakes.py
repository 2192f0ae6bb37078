"""The fakes' own semantics: the AWS behaviour the workflows (and the chaos suite) rely on."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from email.message import EmailMessage

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from autopilot import ports
from autopilot.adapters.aws_errors import error_code
from autopilot.adapters.codedeploy import appspec
from autopilot.domain.capacity import Capacity, Parked
from autopilot.domain.errors import ConflictError, NotFoundError
from autopilot.domain.fleet import task_definition_label
from autopilot.domain.ledger import LedgerEntry, Outcome, Quarantine
from autopilot.domain.report import CostLine, Utilization
from autopilot.domain.report_delivery import ABANDONED_AFTER, Delivery, DeliveryState
from autopilot.domain.scan import ScanResult
from autopilot.domain.state import ServiceState
from autopilot.models.actions import OperatorRequest
from autopilot.records import replace
from tests.fakes.capacity import FakeAutoScaling, FakeScheduler
from tests.fakes.cloudwatch import FakeCloudWatch
from tests.fakes.codedeploy import FakeCodeDeploy
from tests.fakes.ecr import FakeEcr
from tests.fakes.ecs import FakeEcs, FakeTagging
from tests.fakes.ledger import FakeLedger
from tests.fakes.messages import FakeActionQueue, FakeNotifier
from tests.fakes.report import FakeCostExplorer, FakeMailer, FakeReportDeliveries
from tests.fakes.world import T0, World, fargate_task_definition


def test_every_fake_has_every_method_of_its_port() -> None:
    """mypy checks these assignments (signatures included); this checks the names at run
    time."""
    ecs = FakeEcs()
    _ecs: ports.EcsGateway = ecs
    _codedeploy: ports.CodeDeployGateway = FakeCodeDeploy(ecs)
    _ledger: ports.Ledger = FakeLedger()
    _deliveries: ports.DeliveryRecords = FakeReportDeliveries()
    pairs: list[tuple[type, object]] = [
        (ports.EcsGateway, _ecs),
        (ports.CodeDeployGateway, _codedeploy),
        (ports.Ledger, _ledger),
        (ports.DeliveryRecords, _deliveries),
    ]
    _ecr: ports.EcrGateway = FakeEcr()
    _cloudwatch: ports.CloudWatchGateway = FakeCloudWatch()
    _notifier: ports.Notifier = FakeNotifier()
    _autoscaling: ports.AutoScalingGateway = FakeAutoScaling()
    _scheduler: ports.SchedulerGateway = FakeScheduler()
    _costs: ports.CostExplorerGateway = FakeCostExplorer()
    _mailer: ports.Mailer = FakeMailer("a@example.com", ["b@example.com"], "bucket")
    _queue: ports.ActionQueue = FakeActionQueue()
    _tagging: ports.TaggingGateway = FakeTagging(ecs)
    pairs += [
        (ports.EcrGateway, _ecr),
        (ports.CloudWatchGateway, _cloudwatch),
        (ports.Notifier, _notifier),
        (ports.AutoScalingGateway, _autoscaling),
        (ports.SchedulerGateway, _scheduler),
        (ports.CostExplorerGateway, _costs),
        (ports.Mailer, _mailer),
        (ports.ActionQueue, _queue),
        (ports.TaggingGateway, _tagging),
    ]

    for port, fake in pairs:
        members = {name for name in vars(port) if not name.startswith("_")}
        members |= set(getattr(port, "__annotations__", {}))
        assert members, port
        assert all(hasattr(fake, name) for name in members), (port, fake)


def _web(world: World) -> str:
    return world.add_service("prod", "web", {"web": "nginx:1.27"}, desired=3)


def _next_revision(world: World, image: str = "nginx:1.28", **tags: str) -> str:
    return world.ecs.register_task_definition(
        fargate_task_definition("web", {"web": image}),
        [{"key": k, "value": v} for k, v in tags.items()],
    )


# -- ECS -----------------------------------------------------------------------------------------


def test_revisions_are_numbered_per_family_and_never_change() -> None:
    """Given web:1, when a revision is registered and the described one is edited by the
    caller, then the new one is web:2 and web:1 is as registered."""
    world = World()
    _web(world)

    arn = _next_revision(world)
    described, _ = world.ecs.task_definition("web:1")
    described["containerDefinitions"][0]["image"] = "edited"

    assert task_definition_label(arn) == "web:2"
    assert world.ecs.task_definition("web:1")[0]["containerDefinitions"][0]["image"] == (
        "nginx:1.27"
    )
    assert world.ecs.task_definition("web")[0]["taskDefinitionArn"] == arn  # latest
    with pytest.raises(NotFoundError):
        world.ecs.task_definition("web:3")


def test_registering_refuses_what_ecs_and_botocore_refuse() -> None:
    """Given a definition with a field RegisterTaskDefinition does not have, or an aws: tag,
    when it is registered, then botocore's validation or ECS refuses it."""
    world = World()
    definition = fargate_task_definition("web", {"web": "nginx:1.27"})

    with pytest.raises(ParamValidationError):
        world.ecs.register_task_definition({**definition, "revision": 4}, [])
    with pytest.raises(ClientError) as raised:
        world.ecs.register_task_definition(definition, [{"key": "aws:cloudformation", "value": ""}])
    assert error_code(raised.value) == "InvalidParameterException"


def test_a_new_revision_starts_a_primary_deployment_and_the_old_one_becomes_active() -> None:
    """Given a steady service, when it is pointed at a new revision, then ECS starts a new
    PRIMARY deployment IN_PROGRESS and the previous one is ACTIVE; pointing it at the same
    revision again starts nothing and returns the same deployment."""
    world = World()
    arn = _web(world)
    before = world.ecs.describe_service(arn)
    revision = _next_revision(world)

    started = world.ecs.update_service(before, revision)
    again = world.ecs.update_service(world.ecs.describe_service(arn), revision)

    service = world.ecs.describe_service(arn)
    assert service.task_definition_arn == revision
    assert started == again
    assert service.primary is not None
    assert (service.primary.id, service.primary.rollout_state) == (started, "IN_PROGRESS")
    assert [(d.status, d.task_definition) for d in service.deployments] == [
        ("PRIMARY", revision),
        ("ACTIVE", before.task_definition_arn),
    ]


def test_deployments_complete_or_fail_and_roll_back_to_the_last_revision() -> None:
    """Given a deployment in progress, when the circuit breaker fails it, then ECS starts a
    deployment back to the previous revision; completing that one drains the others."""
    world = World()
    arn = _web(world)
    original = world.ecs.describe_service(arn).task_definition_arn
    world.ecs.update_service(world.ecs.describe_service(arn), _next_revision(world))

    back = world.ecs.fail_deployment(arn)
    world.ecs.complete_deployment(arn)

    service = world.ecs.describe_service(arn)
    assert service.task_definition_arn == original
    assert [d.id for d in service.deployments] == [back]
    assert service.running_count == 3


def test_gone_services_and_code_deploy_services_refuse_updates() -> None:
    """Given a deleted service and a CODE_DEPLOY one, when they are updated, then the first
    is NotFoundError (as the adapter translates it), the second InvalidParameterException."""
    world = World()
    arn = _web(world)
    blue_green = world.add_service(
        "prod", "checkout", {"web": "nginx:1.27"}, controller="CODE_DEPLOY"
    )
    service = world.ecs.describe_service(arn)
    world.ecs.delete_service(arn)

    with pytest.raises(NotFoundError):
        world.ecs.set_desired_count(service, 1)
    with pytest.raises(ClientError) as raised:
        world.ecs.update_service(world.ecs.describe_service(blue_green), _next_revision(world))
    assert error_code(raised.value) == "InvalidParameterException"
    assert world.ecs.describe_service(arn).status == "INACTIVE"
    assert world.ecs.describe_services([arn.replace("/web", "/nope")]) == []
    with pytest.raises(ClientError):
        world.ecs.describe_services([arn.replace("/prod/", "/nowhere/")])


def test_a_revision_is_found_by_the_action_that_registered_it() -> None:
    """Given revisions tagged by two actions, when one is looked up by action id, then the
    newest revision of that action is found, and nothing for an unknown action."""
    world = World()
    _web(world)
    _next_revision(world, **{"autopilot:action": "a1"})
    mine = _next_revision(world, **{"autopilot:action": "a1"})
    _next_revision(world, **{"autopilot:action": "a2"})

    assert world.ecs.find_revision("web", "a1") == mine
    assert world.ecs.find_revision("web", "a3") is None


def test_only_the_newest_listed_active_revisions_are_searched() -> None:
    """Given web:2 tagged by a1, when five newer revisions exist or it is deregistered, then
    a1's revision is not found (one ListTaskDefinitions page of five ACTIVE revisions is read,
    as the adapter reads it); another family's revisions (web-worker) do not count."""
    world = World()
    _web(world)
    tagged = _next_revision(world, **{"autopilot:action": "a1"})
    for build in range(5):
        world.ecs.register_task_definition(
            fargate_task_definition("web-worker", {"w": f"worker:{build}"}),
            [{"key": "autopilot:action", "value": "a1"}],
        )
    assert world.ecs.find_revision("web", "a1") == tagged

    world.ecs.deregister(tagged)
    assert world.ecs.find_revision("web", "a1") is None
    assert world.ecs.task_definition("web")[0]["revision"] == 1  # the latest ACTIVE one

    newer = World()
    _web(newer)
    _next_revision(newer, **{"autopilot:action": "a1"})
    for _ in range(5):
        _next_revision(newer)
    assert newer.ecs.find_revision("web", "a1") is None


def test_the_report_reads_active_services_and_why_the_others_are_gone() -> None:
    """Given an active, a deleted, a purged service, and one in a deleted cluster, when the
    report describes them, then the active one is found and each other has its reason; and
    deployment alarms are read for the services that name some."""
    world = World()
    web = world.add_service("prod", "web", {"web": "nginx:1.27"}, deployment_alarms=["web-5xx"])
    api = world.add_service("prod", "api", {"api": "api:1"})
    old = world.add_service("prod", "old", {"old": "old:1"})
    batch = world.add_service("jobs", "batch", {"batch": "batch:1"})
    world.ecs.delete_service(api)
    world.ecs.delete_service(old, purged=True)
    world.ecs.delete_service(batch)
    world.ecs.delete_cluster("jobs")

    found, gone = world.ecs.describe_services_or_gone([web, api, old, batch])

    assert [s.arn for s in found] == [web]
    assert gone == {api: "INACTIVE", old: "MISSING", batch: "ClusterNotFoundException"}
    assert world.ecs.deployment_alarms([web, api]) == {web: ("web-5xx",)}


def test_desired_count_changes_and_daemon_services_have_none() -> None:
    world = World()
    arn = _web(world)
    daemon = world.add_service("prod", "agent", {"agent": "x:1"}, scheduling_strategy="DAEMON")

    world.ecs.set_desired_count(world.ecs.describe_service(arn), 0)

    assert world.ecs.describe_service(arn).desired_count == 0
    with pytest.raises(ClientError):
        world.ecs.set_desired_count(world.ecs.describe_service(daemon), 1)
    assert world.tagging.services_tagged("missing") == []


# -- ledger --------------------------------------------------------------------------------------


def _entry(outcome: Outcome = Outcome.STARTED) -> LedgerEntry:
    return LedgerEntry(
        service_arn="arn:aws:ecs:us-east-1:123456789012:service/prod/web",
        action_id="a1",
        kind="deploy",
        trigger="ecr-push",
        trigger_id="e1",
        trigger_time=T0,
        recorded_at=T0,
        outcome=outcome,
    )


def test_a_first_write_does_not_replace_an_entry_and_every_write_is_kept() -> None:
    """Given an action's started entry, when it is written `first` again, then False and the
    entry is unchanged; a plain write replaces it; the history of writes keeps both."""
    ledger = FakeLedger()
    started = _entry()

    assert ledger.write(started, first=True) is True
    assert ledger.write(replace(started, reason="again"), first=True) is False
    ledger.write(replace(started, outcome=Outcome.DEPLOYED, recorded_at=T0 + timedelta(1)))

    assert ledger.find(started.service_arn, T0, "a1") == replace(
        started, outcome=Outcome.DEPLOYED, recorded_at=T0 + timedelta(1)
    )
    assert [e.outcome for e in ledger.entries_of("a1")] == [Outcome.STARTED, Outcome.DEPLOYED]
    assert ledger.history(started.service_arn)[0].outcome is Outcome.DEPLOYED


def test_state_is_saved_only_at_the_version_it_was_read() -> None:
    """Given a state saved once, when a copy read before that save is saved, then
    ConflictError; what a test reads back is a copy, not the object the workflow holds."""
    ledger = FakeLedger()
    arn = _entry().service_arn
    stale = ledger.state(arn)
    suspended = {"DynamicScalingInSuspended": False}
    saved = ledger.save_state(replace(stale, parked=Parked(Capacity(3, 2, 6, suspended), T0)))
    suspended["DynamicScalingInSuspended"] = True  # the caller mutates what it saved

    with pytest.raises(ConflictError):
        ledger.save_state(replace(stale, paused=True))
    assert saved.version == 1
    read = ledger.state(arn)
    assert read.parked is not None
    assert read.parked.capacity.suspended == {"DynamicScalingInSuspended": False}
    assert ledger.save_state(replace(read, paused=True)).version == 2


def test_quarantine_release_and_failure_counts() -> None:
    ledger = FakeLedger()
    ledger.quarantine(Quarantine("sha256:bad", "svc", "rolled back", T0))

    assert set(ledger.quarantined({"sha256:bad", "sha256:good"})) == {"sha256:bad"}
    assert ledger.release("sha256:bad") is True
    assert ledger.release("sha256:bad") is False
    assert [ledger.note_failure("svc", "a1") for _ in range(2)] == [1, 2]
    assert ledger.note_failure("svc", "a2") == 1
    assert ledger.state("svc") == ServiceState("svc")


# -- the other services --------------------------------------------------------------------------


def test_codedeploy_runs_one_deployment_per_group_and_switches_the_service_on_success() -> None:
    """Given a blue/green service, when a deployment is created, then a second one is refused
    while it runs; once it succeeds the ECS service runs the new revision, and stopping it
    changes nothing (the adapter reads DeploymentAlreadyCompletedException as done)."""
    world = World()
    arn = world.add_service("prod", "checkout", {"web": "nginx:1.27"}, controller="CODE_DEPLOY")
    world.codedeploy.add_group("app", "group", "prod", "checkout")
    revision = world.ecs.register_task_definition(
        fargate_task_definition("checkout", {"web": "nginx:1.28"}), []
    )
    content = appspec(revision, "web", 8080)

    first = world.codedeploy.create_deployment("app", "group", content, "deploy")
    with pytest.raises(ClientError) as limit:
        world.codedeploy.create_deployment("app", "group", content, "deploy")
    world.codedeploy.succeed(first)

    assert error_code(limit.value) == "DeploymentLimitExceededException"
    assert world.codedeploy.deployment_status(first) == "Succeeded"
    assert world.ecs.describe_service(arn).task_definition_arn == revision
    world.codedeploy.stop_deployment(first)
    assert world.codedeploy.deployment_status(first) == "Succeeded"
    assert world.codedeploy.ecs_services("app", "group") == [("prod", "checkout")]


def test_a_stopped_blue_green_deployment_leaves_the_original_revision() -> None:
    world = World()
    arn = world.add_service("prod", "checkout", {"web": "nginx:1.27"}, controller="CODE_DEPLOY")
    original = world.ecs.describe_service(arn).task_definition_arn
    world.codedeploy.add_group("app", "group", "prod", "checkout")
    started = world.codedeploy.create_deployment("app", "group", appspec(original, "web", 80), "")

    world.codedeploy.stop_deployment(started)

    assert world.codedeploy.deployment_status(started) == "Stopped"
    assert world.ecs.describe_service(arn).task_definition_arn == original
    with pytest.raises(ClientError):
        world.codedeploy.deployment_status("d-UNKNOWN")


def test_a_retry_finds_the_deployment_of_exactly_that_revision_created_since_its_intent() -> None:
    """Given a deployment of checkout:2 in flight, when the group is asked for checkout:2's
    deployment since the intent, then it is found (also once succeeded); not when it was
    created before the intent, not once stopped, and not for another revision (checkout:2 is
    not checkout:22) or group."""
    world = World()
    world.add_service("prod", "checkout", {"web": "nginx:1.27"}, controller="CODE_DEPLOY")
    world.codedeploy.add_group("app", "group", "prod", "checkout")
    revision = world.ecs.register_task_definition(
        fargate_task_definition("checkout", {"web": "nginx:1.28"}), []
    )
    intent = world.clock()
    started = world.codedeploy.create_deployment("app", "group", appspec(revision, "web", 80), "")

    assert world.codedeploy.deployment_for("app", "group", revision, intent) == started
    assert world.codedeploy.deployment_for("app", "other", revision, intent) is None
    assert world.codedeploy.deployment_for("app", "group", revision[:-1] + "1", intent) is None
    assert world.codedeploy.deployment_for("app", "group", revision + "2", intent) is None
    world.codedeploy.succeed(started)
    assert world.codedeploy.deployment_for("app", "group", revision, intent) == started
    later = intent + timedelta(seconds=1)
    assert world.codedeploy.deployment_for("app", "group", revision, later) is None

    world.clock.advance(timedelta(seconds=2))
    stopped = world.codedeploy.create_deployment("app", "group", appspec(revision, "web", 80), "")
    world.codedeploy.stop_deployment(stopped)
    assert world.codedeploy.deployment_for("app", "group", revision, later) is None


def test_a_schedule_name_is_taken_once() -> None:
    """Given a schedule, when the same one is created again (a retry), then its ARN; when one
    of the same name does something else, then ConflictError, as the adapter answers; names
    are cut to 64 characters as the adapter does."""
    scheduler = FakeScheduler()
    name = "autopilot-restore-" + "x" * 60
    arn = scheduler.once(name, T0, {"action": "restore"})

    again = scheduler.once(name, T0.replace(microsecond=1), {"action": "restore"})
    with pytest.raises(ConflictError):
        scheduler.once(name, T0 + timedelta(hours=1), {"action": "restore"})
    with pytest.raises(ConflictError):
        scheduler.once(name, T0, {"action": "restore", "scale_id": "other"})

    assert again == arn
    assert list(scheduler.schedules) == [name[:64]]


def test_scalable_targets_are_copies_and_validated() -> None:
    world = World()
    service = world.ecs.describe_service(_web(world))
    world.autoscaling.register("prod", "web", 2, 6)
    target = world.autoscaling.target(service)
    assert target is not None
    target[2]["ScheduledScalingSuspended"] = True

    assert world.autoscaling.target(service) == (2, 6, dict.fromkeys(target[2], False))
    with pytest.raises(ClientError):
        world.autoscaling.set_target(service, 5, 4, target[2])


def test_ecr_moves_tags_and_reports_scans() -> None:
    """Given two pushes under one tag, then the tag is on the newest digest only, the older
    digest stays; scans read NOT_STARTED until set, IMAGE_NOT_FOUND once the image is gone."""
    ecr = FakeEcr()
    ecr.push("web", "sha256:old", "main", T0)
    ecr.push("web", "sha256:new", "main", T0 + timedelta(minutes=5))

    old, new = (
        ecr.image("123456789012", "web", "sha256:old"),
        ecr.images("123456789012", "web", {"sha256:new", "sha256:gone"}),
    )
    assert old is not None
    assert old.tags == ()
    assert list(new) == ["sha256:new"]
    assert ecr.scan_result("123456789012", "web", "sha256:new").status == "NOT_STARTED"
    ecr.set_scan("web", "sha256:new", ScanResult("COMPLETE", {"HIGH": 1}))
    assert ecr.scan_result("123456789012", "web", "sha256:new").counts == {"HIGH": 1}
    ecr.delete("web", "sha256:new")
    assert ecr.scan_result("123456789012", "web", "sha256:new").status == "IMAGE_NOT_FOUND"


def test_the_scanning_setup_is_readable_for_this_accounts_repositories_only() -> None:
    """Given this account's repository scanned on push under enhanced scanning, when the
    setup is read, then both; for another account's registry or a deleted repository, None."""
    ecr = FakeEcr()
    ecr.create_repository("web", scan_on_push=True)
    ecr.scan_type, ecr.scan_rules = "ENHANCED", (("CONTINUOUS_SCAN", ("*",)),)
    ecr.push("base", "sha256:b", "1", T0, registry="999999999999")

    setup = ecr.scanning_setup("123456789012", "web")

    assert setup is not None
    assert (setup.scan_type, setup.rules, setup.repository_scan_on_push) == (
        "ENHANCED",
        (("CONTINUOUS_SCAN", ("*",)),),
        True,
    )
    assert ecr.scanning_setup("999999999999", "base") is None
    ecr.delete_repository("web")
    assert ecr.scanning_setup("123456789012", "web") is None


def test_firing_alarms_are_tied_by_tag_deployment_alarms_or_dimensions() -> None:
    """Given alarms in ALARM tied to prod/web by tag, by dimensions and as its deployment
    alarm (this one with an unreadable tag), one with only an unreadable tag, Auto Scaling's
    alarms on its metrics, and one in OK, when prod/web's firing alarms are asked for, then
    the tag, dimension and deployment alarm ones."""
    world = World()
    arn = world.add_service("prod", "web", {"web": "nginx:1.27"}, deployment_alarms=["deploy"])
    cloudwatch = world.cloudwatch
    on_web = [{"ClusterName": "prod", "ServiceName": "web"}]
    cloudwatch.put_alarm("by-tag", state="ALARM", tags={"autopilot:service": "prod/web"})
    cloudwatch.put_alarm("by-dimensions", state="ALARM", dimensions=on_web)
    cloudwatch.put_alarm("deploy", state="ALARM", tags={"autopilot:service": "nonsense"})
    cloudwatch.put_alarm("bad-tag", state="ALARM", tags={"autopilot:service": "nonsense"})
    cloudwatch.put_alarm("TargetTracking-service/prod/web-AlarmLow-1", state="ALARM")
    cloudwatch.put_alarm(
        "step-scaling",
        state="ALARM",
        dimensions=on_web,
        actions=["arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:1:resource/x"],
    )
    calm = cloudwatch.put_alarm("calm", tags={"autopilot:service": "prod/web"})
    cloudwatch.set_utilization("prod", "web", Utilization(0.1, 0.2, 0.3, 0.4))

    assert cloudwatch.firing_for(world.ecs.describe_service(arn)) == (
        "by-dimensions",
        "by-tag",
        "deploy",
    )
    assert cloudwatch.alarm_tags(calm) == {"autopilot:service": "prod/web"}
    assert cloudwatch.alarm_tags(calm + "-gone") == {}
    assert list(cloudwatch.utilization([("prod", "web"), ("prod", "api")], T0, T0)) == [
        ("prod", "web")
    ]


def test_an_alarm_is_described_as_describe_alarms_shows_it() -> None:
    """Given a metric alarm and a composite one, when they are described, then dimensions and
    actions as DescribeAlarms gives them (none for the composite), and None for no alarm."""
    cloudwatch = FakeCloudWatch()
    cloudwatch.put_alarm("m", dimensions=[{"ClusterName": "prod", "ServiceName": "web"}, {}])
    cloudwatch.put_alarm("c", composite=True, dimensions=[{"X": "y"}], actions=["arn:sns"])

    metric, composite = cloudwatch.describe_alarm("m"), cloudwatch.describe_alarm("c")

    assert metric is not None
    assert composite is not None
    assert metric.dimensions == ({"ClusterName": "prod", "ServiceName": "web"},)
    assert (composite.dimensions, composite.actions) == ((), ("arn:sns",))
    assert cloudwatch.describe_alarm("gone") is None


def test_the_queue_drops_a_message_it_already_has() -> None:
    queue = FakeActionQueue()
    request = OperatorRequest(
        action_id="a1",
        service_arn="svc",
        trigger="operator",
        trigger_id="r1",
        trigger_time=T0,
        kind="pause",
    )

    queue.send(request)
    queue.send(request)

    assert (queue.sends, queue.messages) == (2, [request])


def test_cost_explorer_counts_requests_and_ends_before_the_end_date() -> None:
    line = CostLine(T0.date(), ("k",), Decimal("1"), "USD", False)
    costs = FakeCostExplorer(by_service=[line])

    assert costs.daily_cost_by_service(T0.date(), T0.date() + timedelta(1)) == [line]
    assert costs.daily_cost_by_usage_type(T0.date(), T0.date() + timedelta(1)) == []
    assert costs.daily_cost_by_service(T0.date() - timedelta(1), T0.date()) == []
    assert costs.requests == 3


def test_the_mailer_keeps_what_was_sent_and_stored() -> None:
    mailer = FakeMailer("autopilot@example.com", ["a@example.com", "b@example.com"], "reports")
    message = EmailMessage()
    message["Subject"] = "ECS cost"

    first, second = mailer.send(message), mailer.store("r/report.html", "<p>", "text/html")
    mailer.store("r/report.html", "<p>again", "text/html")

    assert first != mailer.send(EmailMessage())
    assert mailer.sent[0]["To"] == "a@example.com, b@example.com"
    assert second == "s3://reports/r/report.html"
    assert mailer.objects == {"r/report.html": ("<p>again", "text/html")}


def test_a_week_is_claimed_once_and_settled_only_by_its_claim() -> None:
    """Given a claimed week, when another attempt claims it, then it is refused; only the
    holder settles it; a release frees it only while SENDING; a resend takes over a settled
    week or an abandoned claim, never a fresh one."""
    deliveries = FakeReportDeliveries()
    mine = Delivery("2026-W47", DeliveryState.SENDING, "a", T0)
    theirs = replace(mine, claim="b")

    assert deliveries.claim(mine)
    assert not deliveries.claim(theirs)
    assert not deliveries.claim(
        replace(theirs, claimed_at=T0 + timedelta(minutes=1)), takeover=True
    )
    with pytest.raises(ConflictError):
        deliveries.settle(replace(theirs, state=DeliveryState.SENT))
    deliveries.release(theirs)
    assert deliveries.find("2026-W47") == mine
    deliveries.settle(replace(mine, state=DeliveryState.SENT), only_from=DeliveryState.SENDING)
    with pytest.raises(ConflictError):
        deliveries.settle(
            replace(mine, state=DeliveryState.UNCERTAIN), only_from=DeliveryState.SENDING
        )
    deliveries.release(mine)  # no longer SENDING: kept
    assert deliveries.find("2026-W47") == replace(mine, state=DeliveryState.SENT)
    assert deliveries.claim(theirs, takeover=True)

    abandoned = FakeReportDeliveries()
    abandoned.claim(mine)
    late = replace(theirs, claimed_at=T0 + ABANDONED_AFTER + timedelta(seconds=1))
    assert abandoned.claim(late, takeover=True)
    assert abandoned.find("2026-W47") == late
