"""`autopilot local demo`: an embedded moto server, a seeded fleet, and the story of a day of
pushes, printed as a timeline. Each step states what should happen; the demo fails (exit 1)
if the automation did anything else.
"""

from __future__ import annotations

import csv
import email
import io
import json
import re
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from zoneinfo import ZoneInfo

import boto3

from autopilot.adapters import clients
from autopilot.adapters.ecs import EcsGateway
from autopilot.adapters.ledger import Ledger
from autopilot.adapters.queues import ActionQueue
from autopilot.adapters.tagging import TaggingGateway
from autopilot.domain.fleet import short_digest
from autopilot.domain.report import Week
from autopilot_tools.local import costs, faults, fleet, sample_events
from autopilot_tools.local.figures import collect, figures
from autopilot_tools.local.runner import LocalApp, stderr_logs
from autopilot_tools.local.server import start_moto_server
from autopilot_tools.local.session import advance, send

if TYPE_CHECKING:
    from autopilot_tools.cli.operator import Backend

_WIDTH = 16


@dataclass
class Story:
    app: LocalApp
    failures: list[str] = field(default_factory=list)

    def step(self, title: str) -> None:
        print(f"\n== {title}")

    def push(self, repository: str, tag: str, build: int) -> dict[str, Any]:
        with self.app.aws_environment():
            digest = fleet.push_image(repository, tag, build)
        print(f"   push {repository}:{tag} -> {short_digest(digest)}")
        return sample_events.ecr_push(repository, tag, digest)

    def send(self, event: Mapping[str, Any], expect: Mapping[str, str]) -> list[dict[str, Any]]:
        """Route the event; `expect` maps service -> the outcome it must have (or a skip code)."""
        lines = send(self.app, [event])
        seen: dict[str, str] = {}
        for line in lines:
            shown = render(line)
            if line.get("code") != "not-using-repository" and shown:  # most services: noise
                print(shown)
            if line["type"] == "action":
                seen[line["service"]] = line.get("code") or line["outcome"]
            elif line["type"] == "skipped":
                seen[line["service"]] = line["code"]
            elif line["type"] in {"ignored", "rejected", "unrouted"}:
                seen["(event)"] = line["type"]
        for service, outcome in expect.items():
            if seen.get(service) != outcome:
                self.failures.append(f"{service}: expected {outcome}, got {seen.get(service)}")
                print(f"   !! expected {service} to be {outcome}, got {seen.get(service)}")
        return lines

    def tick(self, moment: datetime) -> list[dict[str, Any]]:
        """The clock moves to `moment`, and the local ECS with it."""
        self.app.clock = lambda: moment
        print(f"   (clock: {moment.strftime('%H:%M %Z')})")
        lines = advance(self.app)
        for line in lines:
            shown = render(line)
            if shown:
                print(shown)
        return lines

    def expect(self, lines: list[dict[str, Any]], what: str, **fields: Any) -> dict[str, Any]:
        """The line with those fields; a failure of the demo when none has them."""
        for line in lines:
            if all(line.get(k) == v for k, v in fields.items()):
                return line
        self.failures.append(f"{what}: no line with {fields}")
        print(f"   !! expected {what}")
        return {}

    def operator(self, kind: str, service: str) -> dict[str, Any]:
        """`autopilot approve|reject SERVICE`, as on-call types it."""
        from autopilot_tools.cli.operator import approval  # noqa: PLC0415

        with self.app.aws_environment():
            line = approval(self._backend("on-call"), kind, service)  # type: ignore[arg-type]
        print(f"   $ autopilot {kind} {service}")
        print(f"   {line['outcome']:<{_WIDTH}}{service:<16} {line.get('reason', '')}")
        self.app.notifications()  # the command's own line said it
        return line

    def production_weights(self, label: str) -> dict[str, int]:
        """The production listener rule's forward weights, by target group name."""
        with self.app.aws_environment():
            found = fleet.production_weights()
        shown = ", ".join(f"{name} {weight}%" for name, weight in found.items())
        print(f"   {'alb':<{_WIDTH}}{label:<16} production listener: {shown}")
        return found

    def deployment_of(self, lines: list[dict[str, Any]], service: str) -> str:
        for line in lines:
            if line["type"] == "action" and line["service"] == service and line.get("deployment"):
                return str(line["deployment"])
        self.failures.append(f"{service}: no deployment id in {lines}")
        return ""

    def lose_next_response(self, service: str, operation: str) -> None:
        """The next such call takes effect on the server, and its answer never arrives."""
        with self.app.aws_environment():
            clients.reset()
            faults.arm([faults.Fault(service, operation, "after")])
        print(f"   (the next {operation} takes effect, and its response is lost)")

    def rolled_back_once(self, service_arn: str, lines: list[dict[str, Any]]) -> None:
        """The retry found the rollback ECS had already made: one entry, counted once."""
        with self.app.aws_environment():
            ledger = Ledger(self.app.physical("LedgerTable")["Ref"], 1)
            state = ledger.state(service_arn)
            rollbacks = [e for e in ledger.history(service_arn) if e.kind == "rollback"]
        confirmed = any("confirmed on retry" in line.get("reason", "") for line in lines)
        if len(rollbacks) != 1 or len(state.rollbacks) != 1 or not confirmed:
            self.failures.append(
                "the rollback after a lost response was not recorded exactly once "
                f"({len(rollbacks)} entries, {len(state.rollbacks)} counted)"
            )
        print(
            f"   {'retried':<{_WIDTH}}the retry found the rollback already made: "
            f"{len(rollbacks)} ledger entry, counted {len(state.rollbacks)} time toward the freeze"
        )

    def _backend(self, operator: str) -> Backend:
        """What the `autopilot` operator commands act through (inside the AWS environment)."""
        from autopilot_tools.cli.operator import Backend  # noqa: PLC0415

        return Backend(
            ledger=Ledger(self.app.physical("LedgerTable")["Ref"], retention_days=1),
            queue=ActionQueue(self.app.physical("ActionsQueue")["Ref"]),
            ecs=EcsGateway(),
            tagging=TaggingGateway(),
            operator=operator,
            run_queue=self.app.drain,
        )

    def status(self) -> None:
        from autopilot_tools.cli.operator import render_status, status  # noqa: PLC0415

        with self.app.aws_environment():
            report = render_status(status(self._backend("demo")))
        print("   $ autopilot status")
        print("\n".join(f"   {line}" for line in report.splitlines()))

    def at(self, moment: datetime) -> None:
        """From now on the automation's clock reads `moment`."""
        self.app.clock = lambda: moment
        print(f"   (clock: {moment.strftime('%A %H:%M %Z')})")

    def capacity(self, label: str, arn: str) -> tuple[int, int | None, int | None, bool | None]:
        """(desired, min, max, any scaling suspended) as ECS and Auto Scaling report them."""
        with self.app.aws_environment():
            desired = fleet.desired_count(arn)
            target = fleet.scalable_target(arn)
        print(
            f"   {'capacity':<{_WIDTH}}{label:<16} desired {desired}"
            + (
                f", min {target[0]}, max {target[1]}, scaling suspended: {target[2]}"
                if target
                else ""
            )
        )
        return (desired, *target) if target else (desired, None, None, None)

    def alarm_state(self, name: str, state: str) -> None:
        """CloudWatch moves the alarm (moto sends no event: the story sends it when it matters)."""
        with self.app.aws_environment():
            fleet.set_alarm_state(name, state)
        print(f"   {'cloudwatch':<{_WIDTH}}{_short_alarm(name)} -> {state}")

    def runs(self, label: str, arn: str, repository: str, build: int) -> None:
        """Expect the service's container of `repository` to run build N."""
        with self.app.aws_environment():
            image = fleet.running_images(arn)[repository]
        if not image.endswith(fleet.digest_of(repository, build)):
            self.failures.append(f"{label}: expected build {build}, runs {image}")
            print(f"   !! expected {label} to run {repository} build {build}")

    def untouched(self, label: str, arn: str, why: str) -> None:
        with self.app.aws_environment():
            images = fleet.running_images(arn)
        shown = ", ".join(f"{name}={image.rsplit('/', 1)[-1]}" for name, image in images.items())
        print(f"   {'untouched':<{_WIDTH}}{label:<16} {why}: still runs {shown}")


def _deployment_step(line: Mapping[str, Any]) -> str:
    """A stage the local ECS reached, as the timeline shows it."""
    if line["status"] != "IN_PROGRESS":
        return str(line["status"])
    if "stage" not in line:
        return f"IN_PROGRESS ({line.get('strategy', 'ROLLING')}: new tasks starting)"
    what = str(line["stage"])
    if "production_on_green" in line:
        return f"{what}: {line['production_on_green']:g}% of production on green"
    if line.get("waiting"):
        return f"{what}: waits ({line['waiting']})"
    return what


def _short_alarm(name: str) -> str:
    """Target tracking's alarm names end in a UUID: the first block is enough to tell them apart."""
    head, marker, tail = name.rpartition("-Alarm")
    return f"{head}{marker}{tail.split('-')[0]}-{tail.split('-')[1]}..." if marker else name


def render(line: Mapping[str, Any]) -> str:
    kind = line["type"]
    if kind == "action":
        outcome = line["outcome"]
        change = f"{line.get('from', '?')} -> {line.get('to', '?')}"
        if outcome == "deployed":
            detail = f"{change} ({', '.join(line.get('containers', []))} pinned to "
            detail += f"{short_digest(line.get('digest', ''))})"
        elif outcome == "rolled-back":
            detail = f"{change} ({line.get('reason', '')})"
        else:
            detail = line.get("reason", "")
        return f"   {outcome:<{_WIDTH}}{line['service']:<16} {detail}"
    if kind == "skipped":
        return f"   {'skipped':<{_WIDTH}}{line['service']:<16} {line['reason']}"
    if kind == "result" and "message_id" in line:
        return (
            f"   {'emailed':<{_WIDTH}}{line['week']}: total ${Decimal(line['total']):,.2f}; "
            f"kept {line['html']}"
        )
    if kind == "notification":
        return f"   {'notified':<{_WIDTH}}{line['subject']}"
    if kind == "deployment":
        return f"   {'ecs':<{_WIDTH}}{line['service']:<16} {_deployment_step(line)}"
    if kind == "hook":
        return (
            f"   {'lifecycle hook':<{_WIDTH}}{line['service']:<16} {line['stage']}: "
            f"{line.get('hookStatus', '?')}"
        )
    if kind == "ignored":
        return ""
    if kind == "result":
        return ""
    return f"   {kind:<{_WIDTH}}{line.get('reason', '')}"


def run_demo(root: Path) -> int:
    # The functions' own JSON logs would bury the timeline: they go to a file.
    logs = root / "demo-output" / "functions.log"
    logs.parent.mkdir(exist_ok=True)
    emf = root / "demo-output" / "metrics.log"  # what CloudWatch would read from the logs
    server, endpoint = start_moto_server()
    with logs.open("w", encoding="utf-8") as stream, emf.open("w", encoding="utf-8") as sink:
        stderr_logs(stream)
        try:
            return _play(root, endpoint, sink, emf)
        finally:
            server.stop()
            stderr_logs()
            print(f"The functions' logs are in {logs}.")


def _play(root: Path, endpoint: str, sink: TextIO, emf: Path) -> int:
    app = LocalApp(root, endpoint)
    app.metrics_sink = sink
    print(f"ECS Autopilot local demo: moto server on {endpoint}")
    app.ensure_resources()
    with app.aws_environment():
        services = fleet.seed_fleet()
    print("Fleet: " + ", ".join(sorted(services)))
    story = Story(app)
    _deploy_story(story, services)
    _rollback_story(story, services)
    _alarm_story(story, services)
    _schedule_story(story, services)
    _report_story(story, endpoint, root)
    _native_story(story)
    sink.flush()
    story.step("The dashboard's figures, from the metrics the functions emitted")
    with emf.open(encoding="utf-8") as records:
        for line in figures(collect(records)):
            print(f"   {line}")
    print()
    if story.failures:
        print("The demo did not go as expected:\n  " + "\n  ".join(story.failures))
        return 1
    print(
        "Every step went as expected. The ledger is the DynamoDB table "
        f"{app.physical('LedgerTable')['Ref']}."
    )
    return 0


def _deploy_story(story: Story, services: Mapping[str, str]) -> None:
    story.step("A new build of web is pushed as web:main")
    event = story.push("web", "main", 2)
    # prod/api and staging/worker use other repositories: the fleet index leaves them unread.
    story.send(event, {"prod/web": "deployed", "staging/web": "deployed"})
    story.untouched("prod/web-legacy", services["prod/web-legacy"], "not opted in")

    story.step("EventBridge delivers the first push again")
    story.send(event, {"prod/web": "already-running", "staging/web": "already-running"})

    story.step(
        "api follows semver 1.4 - 1 (that is ^1.4): 1.5.0, then 2.0.0, then a 1.4.9 backport"
    )
    story.send(story.push("api", "1.5.0", 150), {"prod/api": "deployed"})
    story.send(story.push("api", "2.0.0", 200), {"prod/api": "tag-not-tracked"})
    story.send(story.push("api", "1.4.9", 149), {"prod/api": "downgrade"})

    story.step("worker follows glob:release-+ (release-*)")
    story.send(story.push("worker", "release-2", 2), {"staging/worker": "deployed"})
    print("   (the same image, tagged again: one digest deploys once)")
    story.send(story.push("worker", "release-2-final", 2), {"staging/worker": "already-running"})
    story.send(story.push("worker", "nightly", 3), {"staging/worker": "tag-not-tracked"})

    story.step("Two pushes to web:main; EventBridge delivers the older one last")
    older = story.push("web", "main", 3)
    time.sleep(1.1)  # ECR records push times to the second
    newer = story.push("web", "main", 4)
    story.send(newer, {"prod/web": "deployed", "staging/web": "deployed"})
    story.send(older, {"prod/web": "older-push", "staging/web": "older-push"})

    story.step("Events that deploy nothing")
    digest = fleet.digest_of("web", 4)
    story.send(
        sample_events.ecr_push("web", "pr-417", digest, action="DELETE"), {"(event)": "ignored"}
    )
    story.send(sample_events.ecr_push("web", None, digest), {"(event)": "ignored"})
    malformed = sample_events.ecr_push("web", "main", "sha256:not-a-digest")
    story.send(malformed, {"(event)": "rejected"})
    print(
        f"   {'dead-letter':<{_WIDTH}}{story.app.queue_depth('EventsDeadLetterQueue')} "
        "event(s) kept in the events dead-letter queue"
    )


def _rollback_story(story: Story, services: Mapping[str, str]) -> None:
    web = services["prod/web"]
    story.step("A good build of web goes out; a minute later its tasks run and ECS says completed")
    start = datetime.now(UTC).replace(second=0, microsecond=0)
    story.at(start)
    lines = story.send(story.push("web", "main", 5), {"prod/web": "deployed"})
    deployment = story.deployment_of(lines, "prod/web")
    done = story.tick(start + timedelta(minutes=1))
    story.expect(done, "ECS's completed event recorded", kind="track", outcome="completed")
    story.expect(done, "the deployment ECS completed", type="deployment", status="SUCCESSFUL")
    if deployment and not any(line.get("deployment") == deployment for line in done):
        story.failures.append(f"prod/web: ECS completed another deployment than {deployment}")
    story.app.clock = None  # the wall clock again: the alarm below is timed as it happens

    story.step(
        "A bad build goes out; while it rolls out, its CPU alarm fires, and ECS's answer to "
        "the rollback is lost on the way back"
    )
    with story.app.aws_environment():
        fleet.put_alarm("prod-web-cpu-high", "prod", "web")
    lines = story.send(story.push("web", "main", 6), {"prod/web": "deployed"})
    story.alarm_state("prod-web-cpu-high", "ALARM")
    story.lose_next_response("ecs", "UpdateService")
    lines = story.send(
        sample_events.alarm("prod-web-cpu-high", "prod", "web"), {"prod/web": "rolled-back"}
    )
    story.rolled_back_once(web, lines)

    story.step("The alarm fires again, and another one joins: still one rollback")
    story.send(
        sample_events.alarm("prod-web-cpu-high", "prod", "web"), {"prod/web": "already-rolled-back"}
    )
    story.send(
        sample_events.alarm("prod-web-5xx", "prod", "web"), {"prod/web": "already-rolled-back"}
    )

    story.step("The bad digest is pushed again: quarantined, refused")
    bad = fleet.digest_of("web", 6)
    story.send(sample_events.ecr_push("web", "main", bad), {"prod/web": "quarantined"})
    story.status()


def _alarm_story(story: Story, services: Mapping[str, str]) -> None:
    web, staging_web = services["prod/web"], services["staging/web"]
    story.step("prod-web-cpu-high is still in ALARM when a fixed build 8 is pushed")
    story.send(
        story.push("web", "main", 8), {"prod/web": "alarm-firing", "staging/web": "deployed"}
    )

    story.step("staging/web scales on CPU: target tracking makes its AlarmHigh and AlarmLow")
    with story.app.aws_environment():
        high, low = fleet.scale_on_cpu("staging", "web")
    print(f"   {'auto scaling':<{_WIDTH}}{_short_alarm(high)}, {_short_alarm(low)}")

    story.step(
        "Build 8 bakes on staging/web; load rises and AlarmHigh fires: load, not a bad build"
    )
    story.alarm_state(high, "ALARM")
    event = sample_events.alarm(
        high, "staging", "web", sample="cloudwatch_alarm_target_tracking.json"
    )
    story.send(event, {"(event)": "ignored"})
    story.runs("staging/web", staging_web, "web", 8)
    story.untouched("staging/web", staging_web, "no rollback")

    story.step("Quiet again (AlarmLow in ALARM): build 9 deploys to staging/web, prod/web holds it")
    story.alarm_state(high, "OK")
    story.alarm_state(low, "ALARM")
    story.send(
        story.push("web", "main", 9), {"staging/web": "deployed", "prod/web": "alarm-firing"}
    )
    print("   (prod/web now holds build 9, the newest push; on-call was told once, for build 8)")

    story.step("prod-web-cpu-high is back to OK: the held build 9 goes out to prod/web")
    story.alarm_state("prod-web-cpu-high", "OK")
    ok = sample_events.alarm("prod-web-cpu-high", "prod", "web", "OK")
    story.send(ok, {"prod/web": "deployed"})
    story.runs("prod/web", web, "web", 9)


BERLIN = ZoneInfo("Europe/Berlin")


def _schedule_story(story: Story, services: Mapping[str, str]) -> None:
    staging_web, api = services["staging/web"], services["prod/api"]
    weekend, peak_hours = costs.DEMO_WEEKEND, costs.DEMO_PEAK
    story.step("Friday 20:00 Europe/Berlin: the nightly group is parked")
    before = story.capacity("staging/web", staging_web)
    story.at(weekend.start)
    park = {"action": "park", "group": "nightly", "timezone": "Europe/Berlin"}
    story.send(park, {"staging/web": "applied", "staging/worker": "applied"})
    story.capacity("staging/web", staging_web)
    story.step("Scheduler delivers the park again: the saved capacity is not overwritten")
    story.send(park, {"staging/web": "already-parked"})

    story.step("Saturday: a push deploys to the parked staging/web without starting tasks")
    story.at(datetime(2026, 11, 21, 11, 0, tzinfo=BERLIN))
    story.send(story.push("web", "main", 7), {"staging/web": "deployed"})
    story.capacity("staging/web", staging_web)

    story.step("Monday 07:00: unpark restores exactly what was saved, on the newest revision")
    story.at(weekend.end)
    story.send({"action": "unpark", "group": "nightly"}, {"staging/web": "applied"})
    after = story.capacity("staging/web", staging_web)
    if after != before:
        story.failures.append(f"staging/web: capacity {after} after unpark, {before} before park")

    story.step("Monday 07:30: prod/api gets peak capacity until 11:30; then it is restored")
    before = story.capacity("prod/api", api)
    story.at(peak_hours.start)
    peak = {
        "action": "scale",
        "group": peak_hours.group,
        "min": peak_hours.tasks,
        "max": 30,
        "until": peak_hours.end.isoformat(),
    }
    story.send(peak, {"prod/api": "applied"})
    story.capacity("prod/api", api)
    [restore] = story.app.schedules()
    print(f"   {'scheduled':<{_WIDTH}}{restore['expression']} (UTC): restore prod/api")
    story.at(peak_hours.end)
    delivered = sample_events.scheduler_delivery(
        restore["input"], peak_hours.end, schedule_arn=restore["arn"]
    )
    story.send(delivered, {"prod/api": "applied"})
    if story.capacity("prod/api", api) != before:
        story.failures.append("prod/api: capacity after the peak differs from before it")


def _report_story(story: Story, endpoint: str, root: Path) -> None:
    story.step("Monday 12:00: the weekly cost report for the week just ended, 2026-W47")
    week = Week.parse("2026-W47")
    story.at(datetime(2026, 11, 23, 12, 0, tzinfo=BERLIN))
    # Cost Explorer's figures, hour by hour from the fleet's task sizes and the schedules above.
    costs.load_costs(endpoint, week, schedules=costs.DEMO_SCHEDULES)
    with story.app.aws_environment():
        costs.load_utilization(week)
    lines = story.send({"action": "cost-report", "week": str(week)}, {})
    [result] = [line for line in lines if line["type"] == "result" and "html" in line]
    bucket, _, key = result["html"].removeprefix("s3://").partition("/")
    with story.app.aws_environment():
        html = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    out = root / "demo-output" / f"cost-report-{week}.html"
    out.parent.mkdir(exist_ok=True)
    out.write_bytes(html)
    sent = _sent_mail(endpoint)
    print(f"   {'local SES':<{_WIDTH}}{len(sent)} email(s) sent; subject: {_subject(sent[-1])}")
    print(f"   open file://{out} in a browser to read it")
    if "parked" not in html.decode():
        story.failures.append("the cost report does not show the hours parked")
    with story.app.aws_environment():
        table = boto3.client("s3").get_object(Bucket=bucket, Key=key.replace(".html", ".csv"))
    _check_arithmetic(story, table["Body"].read().decode(), _text_part(sent[-1]))


_PARKED = re.compile(r"parked: (\S+): parked ([\d.]+) h by schedule - saved \$([\d,.]+)")
_SPOT = re.compile(r"spot: (\S+): .* - \$([\d,.]+) a week")


def _check_arithmetic(story: Story, table: str, text: str) -> None:
    """The report's savings explain its cost changes: a service parked this week and not the
    week before costs what the park saved less; Spot saves less than the service costs."""
    rows = {f"{r['cluster']}/{r['service']}": r for r in csv.DictReader(io.StringIO(table))}
    for label, hours, saved in _PARKED.findall(text):
        row = rows[label]
        drop = -Decimal(row["change"])  # from the exact figures, not the rounded ones
        money = Decimal(saved.replace(",", ""))
        print(
            f"   {'adds up':<{_WIDTH}}{label:<16} ${row['last_week']} -> ${row['this_week']}: "
            f"${drop} less; parked {hours} h saved ${money}"
        )
        if abs(drop - money) > Decimal("0.01"):
            story.failures.append(f"{label}: cost fell by ${drop}, parking saved ${money}")
    for label, amount in _SPOT.findall(text):
        if Decimal(amount.replace(",", "")) >= Decimal(rows[label]["this_week"]):
            story.failures.append(f"{label}: the Spot saving ${amount} is not below its cost")


def _text_part(raw: str) -> str:
    message = email.message_from_string(raw)
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            return payload.decode() if isinstance(payload, bytes) else ""
    return ""


def _sent_mail(endpoint: str) -> list[str]:
    with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=10) as response:  # noqa: S310 - local moto
        data = json.loads(response.read())
    return [m["raw_data"] for m in data.get("ses", {}).get("RawMessage", [])]


def _subject(raw: str) -> str:
    return next((line[9:] for line in raw.splitlines() if line.startswith("Subject: ")), "?")


def _native_story(story: Story) -> None:
    """ECS's own CANARY strategy, an approval gate and canary analysis, on the local ECS."""
    t0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    story.step(
        "prod/cart deploys with ECS's CANARY strategy behind the ALB shop: it waits for approval "
        "after test traffic, then 10% of production goes to the new revision for 5 minutes, "
        "judged by the canary hook against the old one. No alarm is configured."
    )
    story.at(t0)
    with story.app.aws_environment():
        fleet.seed_cart_alone(gated=True)
    story.production_weights("prod/cart")
    print("   (moto sends no CloudTrail event for a new service: the index is rebuilt on demand)")
    story.send({"action": "reindex"}, {})

    story.step("A good build 2 of cart is pushed: ECS starts it and waits for approval")
    story.send(story.push(fleet.CART, "main", 2), {"prod/cart": "deployed"})
    waiting = story.tick(t0 + timedelta(minutes=1))
    story.expect(waiting, "the approval notice", kind="approval-waiting", outcome="notified")
    story.operator("approve", "prod/cart")
    story.tick(t0 + timedelta(minutes=2))
    judged = story.tick(t0 + timedelta(minutes=3))
    story.expect(judged, "the canary passing", kind="canary", outcome="completed")
    done = story.tick(t0 + timedelta(minutes=13))
    story.expect(done, "ECS completing the deployment", kind="track", outcome="completed")
    with story.app.aws_environment():
        cart = fleet.service_arn("prod", fleet.CART)
    story.runs("prod/cart", cart, fleet.CART, 2)
    story.production_weights("prod/cart")

    t1 = t0 + timedelta(minutes=30)
    story.step(
        "A bad build 3 (more 5XX, slower: a property of the image) is pushed and approved; "
        "its canary is caught by analysis and traffic goes back to blue"
    )
    story.at(t1)
    story.send(story.push(fleet.CART, "main", 3), {"prod/cart": "deployed"})
    story.tick(t1 + timedelta(minutes=1))
    story.operator("approve", "prod/cart")
    story.tick(t1 + timedelta(minutes=2))
    verdict = story.tick(t1 + timedelta(minutes=3))
    story.expect(verdict, "the canary failing", kind="canary", outcome="failed")
    story.expect(verdict, "the rollback", type="deployment", status="ROLLBACK_SUCCESSFUL")
    story.expect(verdict, "traffic back on blue, timed", code="rollback-completed")
    story.runs("prod/cart", cart, fleet.CART, 2)
    # Build 1 served from the primary group, so build 2 went to the alternate one: blue now.
    if story.production_weights("prod/cart").get(fleet.CART_TARGET_GROUPS[1]) != 100:
        story.failures.append("prod/cart: production traffic is not back on build 2's group")

    story.step("Build 3 is pushed again: quarantined, refused")
    bad = fleet.digest_of(fleet.CART, 3)
    story.send(sample_events.ecr_push(fleet.CART, "main", bad), {"prod/cart": "quarantined"})
