"""`make bench`: what a push costs, side by side with the floor and with a peer, in one run.

(a) each handler's cold import time and peak RSS, as ratios to `import boto3` measured in the
    same run with the same interpreter (AWS's own Python Lambda floor is boto3 itself);
(b) push -> UpdateService latency per service, p50/p95 over a 100-service fleet (moto
    in-process), and the Lambda durations the cost model in docs/benchmarks.md uses;
(c) AWS calls the ECR push planner makes for one push at 100 / 1,000 / 5,000 opted-in
    services, through its handler (whatever gateways it uses, they are counted);
(d) ECS calls per deployed service, ours next to ecs-deploy's, both counted by one proxy in
    front of one moto server.

It checks the goals of issue 10 and exits 1 when one is missed. Targets live here, never in
timed tests. Environment: BENCH_FLEETS (default "100,1000,5000"), ECS_DEPLOY (the `ecs`
command of ecs-deploy; default .venv-bench/bin/ecs, which `make bench` installs).
"""

from __future__ import annotations

import http.client
import http.server
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]

# Goals (issue 10), on the 2-core reference machine.
IMPORT_RATIO = 1.5  # handler cold import / `import boto3`
RSS_RATIO = 1.3  # handler peak RSS / `import boto3`'s
ECS_CALLS_PER_DEPLOY = 3  # the executor's, per service deployed by a rolling deploy
PLANNING_BASE_CALLS = 5  # a push's planning calls beyond those of the services it deploys
PLANNING_CALLS_PER_DEPLOY = 3  # DescribeServices, DescribeTaskDefinition (tags), SendMessage
MONTHLY_GOAL_USD = 1.0  # the AWS bill at 100 services (arm64), list prices
LATENCY_FLEET = 100
ECS_DEPLOY_VERSION = "1.17.0"
ECS_DEPLOY = Path(os.environ.get("ECS_DEPLOY", ROOT / ".venv-bench" / "bin" / "ecs"))

REPOSITORY = "bench-app"  # what the deployed services follow
OTHER = "bench-other"  # what every other opted-in service follows
ACCOUNT, REGION = "123456789012", "us-east-1"

_IMPORT_PROBE = """
import json, os, resource, sys, time
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ECSAutopilot")
sys.path.insert(0, sys.argv[1])
started = time.perf_counter()
import {module}
elapsed = (time.perf_counter() - started) * 1000
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"ms": elapsed, "rss_mb": rss}}))
"""


# -- (a) cold imports ---------------------------------------------------------------------------


def _probe(module: str, path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE.format(module=module), str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(json.loads(out))


def cold_imports(rounds: int = 7) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """`import boto3` and each handler's, in fresh interpreters, interleaved round by round
    (whatever else loads the machine weighs on both sides of the ratio); the best of the
    rounds for each."""
    # A handler builds its gateways, and so imports boto3, on its first event, not at import:
    # `app, boto3` counts what it loads before its first AWS call, whatever the laziness.
    modules = {"boto3": ("boto3", ROOT)} | {
        f.name: ("app, boto3", f) for f in sorted((ROOT / "functions").iterdir())
    }
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in modules}
    for _ in range(rounds):
        for name, (module, path) in modules.items():
            runs[name].append(_probe(module, path))
    best = {
        name: {"ms": min(r["ms"] for r in found), "rss_mb": min(r["rss_mb"] for r in found)}
        for name, found in runs.items()
    }
    return best.pop("boto3"), best


# -- counting AWS calls in-process ------------------------------------------------------------


def _aws_environment() -> None:
    os.environ.update(
        POWERTOOLS_METRICS_NAMESPACE="ECSAutopilot",
        POWERTOOLS_SERVICE_NAME="ecs-autopilot",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
        LOG_LEVEL="ERROR",
        POWERTOOLS_METRICS_DISABLED="true",
    )


@dataclass
class CallLog:
    """Every call the application's clients make (`before-parameter-build`: once a call, with
    its parameters as the caller gave them), with when it was made."""

    calls: list[tuple[float, str, str, dict[str, Any]]] = field(default_factory=list)

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        service = model.service_model.service_name
        self.calls.append((time.perf_counter(), service, model.name, params))

    def take(self) -> list[tuple[float, str, str, dict[str, Any]]]:
        taken, self.calls = self.calls, []
        return taken


def _count(calls: list[tuple[float, str, str, dict[str, Any]]], service: str = "") -> Counter[str]:
    return Counter(
        f"{s}:{op}" if not service else op for _, s, op, _ in calls if not service or s == service
    )


@contextmanager
def _local_app(endpoint: str | None = None) -> Iterator[tuple[Any, CallLog]]:
    """The application's resources in moto (in-process without `endpoint`), and a log of the
    calls its clients make from here on."""
    _aws_environment()
    from autopilot.adapters import clients  # noqa: PLC0415
    from autopilot_tools.local.runner import LocalApp  # noqa: PLC0415

    app = LocalApp(ROOT, endpoint)
    app.ensure_resources()
    app.metrics_sink = io.StringIO()  # the EMF records, as Lambda would log them: not printed
    log = CallLog()
    with app.aws_environment():
        clients.reset()  # the clients built from here on are counted
        clients.session().events.register("before-parameter-build", log)
    yield app, log
    clients.reset()


def _fleet(followers: int, others: int, cluster: str = "bench") -> list[str]:
    """`followers` services following bench-app:main (build 1) and `others` following
    bench-other:main, all opted in, in one cluster; returns the followers' ARNs. Built with
    boto3's default session: not counted."""
    import boto3  # noqa: PLC0415

    from autopilot_tools.local import fleet  # noqa: PLC0415

    ecr, ecs = boto3.client("ecr"), boto3.client("ecs")
    ecs.create_cluster(clusterName=cluster)
    arns = []
    for repository, count in ((REPOSITORY, followers), (OTHER, others)):
        if not count:
            continue
        ecr.create_repository(repositoryName=repository)
        fleet.push_image(repository, "main", 1)
        definition = ecs.register_task_definition(
            family=repository,
            containerDefinitions=[
                {"name": "app", "image": fleet.image(repository, 1), "memory": 512}
            ],
            tags=[{"key": "team", "value": "bench"}],
        )["taskDefinition"]["taskDefinitionArn"]
        for index in range(count):
            arn = ecs.create_service(
                cluster=cluster,
                serviceName=f"{repository}-{index:04}",
                taskDefinition=definition,
                desiredCount=0,
                tags=[{"key": "autopilot:track", "value": "tag:main"}],
            )["service"]["serviceArn"]
            if repository == REPOSITORY:
                arns.append(arn)
    return arns


def _push(app: Any, build: int) -> dict[str, Any]:
    from autopilot_tools.local import fleet, sample_events  # noqa: PLC0415

    with app.aws_environment():
        digest = fleet.push_image(REPOSITORY, "main", build)
    return sample_events.ecr_push(REPOSITORY, "main", digest)


# -- (b) push -> UpdateService over a 100-service fleet ---------------------------------------


@dataclass(frozen=True)
class FleetPush:
    p50_ms: float
    p95_ms: float
    planner_ms: float  # the planner's invocation, for the whole fleet
    executor_ms_per_action: float
    executor_ecs_calls: Counter[str]  # for the whole fleet
    planner_calls: Counter[str]
    executor_calls: Counter[str]  # every AWS call, for the whole fleet
    services: int
    metrics: dict[str, list[str]]  # the EMF metric names each side emitted


def fleet_push(services: int = LATENCY_FLEET) -> FleetPush:
    """One push to `services` services that follow it. Latency per service: the planner's
    time until it queued that service's action, plus the executor's time from starting that
    action (its first ledger read) to its UpdateService: Lambda runs one executor per message
    group at a time, in parallel across services, so the services do not wait for each other
    (locally they are run one after another, and that wait is left out)."""
    from moto import mock_aws  # noqa: PLC0415

    with mock_aws(), _local_app() as (app, log):
        with app.aws_environment():
            arns = _fleet(services, 0)
        event = _push(app, 2)
        log.take()
        _metric_names(app)
        started = time.perf_counter()
        app.invoke("EcrPushFunction", event)
        planned_at = time.perf_counter()
        planner = log.take()
        planner_metrics = _metric_names(app)
        app.drain()
        drained_at = time.perf_counter()
        executor = log.take()
        executor_metrics = _metric_names(app)
    queued = {
        p["MessageGroupId"]: t for t, s, op, p in planner if (s, op) == ("sqs", "SendMessage")
    }
    began: dict[str, float] = {}
    updated: dict[str, float] = {}
    for t, s, op, p in executor:
        if (s, op) == ("dynamodb", "GetItem"):
            key = p["Key"]["pk"]["S"]
            if key.startswith("SERVICE#"):
                began.setdefault(key.removeprefix("SERVICE#"), t)
        if (s, op) == ("ecs", "UpdateService"):
            updated.setdefault(p["service"], t)
    latencies = sorted((queued[arn] - started + updated[arn] - began[arn]) * 1000 for arn in arns)
    if len(latencies) != services:
        raise SystemExit(f"only {len(latencies)} of {services} services were deployed")
    return FleetPush(
        p50_ms=statistics.median(latencies),
        p95_ms=latencies[int(0.95 * len(latencies)) - 1],
        planner_ms=(planned_at - started) * 1000,
        executor_ms_per_action=(drained_at - planned_at) * 1000 / services,
        executor_ecs_calls=_count(executor, "ecs"),
        planner_calls=_count(planner),
        executor_calls=_count(executor),
        services=services,
        metrics={"planner": planner_metrics, "executor": executor_metrics},
    )


def _metric_names(app: Any) -> list[str]:
    sink, app.metrics_sink = app.metrics_sink, io.StringIO()
    names: set[str] = set()
    for line in sink.getvalue().splitlines():
        if line.startswith("{") and '"_aws"' in line:
            for directive in json.loads(line)["_aws"]["CloudWatchMetrics"]:
                names.update(m["Name"] for m in directive["Metrics"])
    return sorted(names)


# -- (c) planning calls as the fleet grows ----------------------------------------------------


@dataclass(frozen=True)
class Planning:
    fleet: int
    first: Counter[str]  # the first push after the fleet was built
    next: Counter[str]  # the push after it
    deployed: int  # services the push queued a deploy for
    next_ms: float  # the planner's invocation for the next push, moto in-process


def planning_calls(opted_in: int) -> Planning:
    """AWS calls of the ECR push planner's handler for one push, with `opted_in` services of
    which one follows the pushed repository. Two pushes: the first after the fleet was built
    (an index, if the planner keeps one, may be built then), and the next."""
    from moto import mock_aws  # noqa: PLC0415

    with mock_aws(), _local_app() as (app, log):
        with app.aws_environment():
            _fleet(1, opted_in - 1)
        counted = []
        for build in (2, 3):
            event = _push(app, build)
            log.take()
            started = time.perf_counter()
            app.invoke("EcrPushFunction", event)
            elapsed = (time.perf_counter() - started) * 1000
            counted.append(_count(log.take()))
    return Planning(
        opted_in, counted[0], counted[1], counted[1]["sqs:SendMessage"], next_ms=elapsed
    )


# -- (d) ECS calls per deployed service, ours and ecs-deploy's ---------------------------------


class _CountingProxy(http.server.ThreadingHTTPServer):
    """Forwards every request to the moto server and counts it by `X-Amz-Target`."""

    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.upstream = urlsplit(upstream)
        self.counted: Counter[str] = Counter()
        self.lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def take(self, prefix: str) -> Counter[str]:
        with self.lock:
            taken = Counter(
                {k.split(".", 1)[1]: v for k, v in self.counted.items() if k.startswith(prefix)}
            )
            self.counted = Counter()
        return taken


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    server: _CountingProxy

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        target = self.headers.get("X-Amz-Target", "")
        with self.server.lock:
            self.server.counted[target or f"{self.command} {self.path}"] += 1
        upstream = http.client.HTTPConnection(
            self.server.upstream.hostname or "127.0.0.1", self.server.upstream.port, timeout=60
        )
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        upstream.request(self.command, self.path, body=body, headers=headers)
        response = upstream.getresponse()
        payload = response.read()
        self.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() not in {"transfer-encoding", "connection", "content-length"}:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        upstream.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward  # noqa: N815 - the base class names them

    def log_message(self, format: str, *args: Any) -> None:
        return


_ECS_TARGET = "AmazonEC2ContainerServiceV20141113."


@dataclass(frozen=True)
class PerDeploy:
    ours_executor: Counter[str]
    ours_planner: Counter[str]
    ecs_deploy: dict[str, Counter[str]]  # by command line; empty when not installed


def ecs_calls_per_deploy() -> PerDeploy:
    """One service, one deploy: ours (planner, then executor) and ecs-deploy's `ecs deploy`
    with `--timeout -1` and with its default (it waits: with a deployment that is done at
    the first look, that is one DescribeServices and one ListTasks more; each later look
    costs as much again)."""
    from autopilot_tools.local.server import start_moto_server  # noqa: PLC0415

    server, upstream = start_moto_server()
    proxy = _CountingProxy(upstream)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        with _local_app(proxy.endpoint) as (app, _):
            with app.aws_environment():
                _fleet(1, 0)
            event = _push(app, 2)
            proxy.take(_ECS_TARGET)
            app.invoke("EcrPushFunction", event)
            planner = proxy.take(_ECS_TARGET)
            app.drain()
            executor = proxy.take(_ECS_TARGET)
            theirs = _ecs_deploy(app, proxy)
    finally:
        proxy.shutdown()
        server.stop()
    return PerDeploy(executor, planner, theirs)


def _ecs_deploy(app: Any, proxy: _CountingProxy) -> dict[str, Counter[str]]:
    if not ECS_DEPLOY.exists():
        return {}
    from autopilot_tools.local import fleet  # noqa: PLC0415

    found = {}
    for build, options in ((3, ["--timeout", "-1"]), (4, [])):
        with app.aws_environment():
            fleet.push_image(REPOSITORY, "main", build)
            environment = dict(os.environ, AWS_ENDPOINT_URL=proxy.endpoint)
        command = [
            str(ECS_DEPLOY),
            "deploy",
            "bench",
            f"{REPOSITORY}-0000",
            "--image",
            "app",
            fleet.image(REPOSITORY, build),
            *options,
        ]
        proxy.take(_ECS_TARGET)
        subprocess.run(command, env=environment, capture_output=True, check=True, timeout=300)
        found[" ".join(["ecs deploy CLUSTER SERVICE --image CONTAINER IMAGE", *options])] = (
            proxy.take(_ECS_TARGET)
        )
    return found


# -- (e) what it costs to run ----------------------------------------------------------------

# us-east-1 list prices, as published on 2026-12-03 (docs/benchmarks.md names the pages).
LAMBDA_GB_S = {"x86_64": 0.0000166667, "arm64": 0.0000133334}
LAMBDA_PER_REQUEST = 0.20 / 1e6
SQS_FIFO_PER_REQUEST = 0.50 / 1e6
DYNAMODB_PER_WRU, DYNAMODB_PER_RRU, DYNAMODB_GB_MONTH = 0.625 / 1e6, 0.125 / 1e6, 0.25
SCHEDULER_PER_INVOCATION = 1.00 / 1e6
COST_EXPLORER_PER_REQUEST = 0.01
CW_METRIC_MONTH, CW_ALARM_METRIC, CW_DASHBOARD, CW_LOGS_GB = 0.30, 0.10, 3.00, 0.50

# The workload of issue 10, and what the bench cannot measure (each an assumption, stated).
DAYS = 30
DEPLOYS_PER_DAY = 50  # pushes, each deploying one service
SCHEDULE_GROUPS = 2  # each parked and unparked once a day; every service in one group
REPORTS_PER_MONTH = 4.35
MEMORY_GB = 0.5  # template.yaml's MemorySize
AWS_CALL_MS = 20  # one AWS API call from Lambda, in region (moto in-process: about 3 ms)
INIT_MS = 1000  # a cold start at 512 MB (imports and clients); INIT is billed since 2025-08
ACTIONS_PER_BATCH = 10  # the executor's SQS batch, for parks and unparks
IDLE_POLLS = 5 * 3 * 60 * 24 * DAYS  # Lambda's 5 long-polling connections, 20 s each
LOG_BYTES_PER_INVOCATION = 3000  # platform START/END/REPORT, INFO lines, the EMF record
LOG_BYTES_PER_SKIPPED_SERVICE = 300  # the planner's "service skipped" line
# Custom metrics are billed by the hour in which they get data: those of every push (about
# 12 hours a day have a deploy), those of parks and unparks (4 hours a day).
PUSH_METRICS = (
    "DeployQueued",
    "DeploySkipped",
    "DeployDeployed",
    "PushToDeployStarted",
    "ActionBatchItemFailures",
    "TrackCompleted",
)
SCHEDULE_METRICS = (
    "CapacityQueued",
    "ParkApplied",
    "UnparkApplied",
    "ParkedHours",
    "ParkedSavings",
)
PUSH_HOURS, SCHEDULE_HOURS, HOURS_PER_MONTH = 12 * DAYS, 4 * DAYS, 730


@dataclass(frozen=True)
class Invocations:
    count: float
    ms: float  # billed duration of one invocation

    @property
    def seconds(self) -> float:
        return self.count * self.ms / 1000


def alarm_metrics() -> int:
    """Metrics the template's alarms read, as CloudWatch bills them: one for a single-metric
    alarm, each metric (not expression) of a metric math alarm."""
    from autopilot_tools.local.template import load_template  # noqa: PLC0415

    alarms = load_template(ROOT / "template.yaml").of_type("AWS::CloudWatch::Alarm")
    return sum(
        sum(1 for query in props["Metrics"] if "MetricStat" in query) if "Metrics" in props else 1
        for props in alarms.values()
    )


def monthly_cost(services: int, pushed: FleetPush, plan: Planning) -> dict[str, float]:
    """The month's bill, component by component, at list prices without any free tier."""
    deploys = DEPLOYS_PER_DAY * DAYS
    capacity_actions = 2 * services * DAYS  # each service parked and unparked once a day
    deploy_calls = sum(pushed.executor_calls.values()) / pushed.services
    plan_calls = sum(plan.next.values())

    def billed(local_ms: float, calls: float, cold: bool = True) -> float:
        return (INIT_MS if cold else 0) + local_ms + calls * AWS_CALL_MS

    functions = {
        "ecr_push": Invocations(deploys, billed(plan.next_ms, plan_calls)),
        "scan_events": Invocations(deploys, billed(plan.next_ms, plan_calls)),
        "deployment_events": Invocations(2 * deploys, billed(20, services / 100 + 2)),
        "executor (deploy)": Invocations(
            deploys, billed(pushed.executor_ms_per_action, deploy_calls)
        ),
        "executor (track)": Invocations(deploys, billed(pushed.executor_ms_per_action / 2, 9)),
        "executor (park, unpark)": Invocations(
            capacity_actions / ACTIONS_PER_BATCH,
            billed(ACTIONS_PER_BATCH * pushed.executor_ms_per_action, ACTIONS_PER_BATCH * 10),
        ),
        "schedules": Invocations(
            SCHEDULE_GROUPS * 2 * DAYS,
            billed(plan.next_ms, plan_calls + services / SCHEDULE_GROUPS),
        ),
        "cost_report": Invocations(REPORTS_PER_MONTH, billed(2000, 10 + services / 10 + services)),
    }
    seconds = sum(f.seconds for f in functions.values())
    requests = sum(f.count for f in functions.values())
    actions = 2 * deploys + capacity_actions
    sqs = (
        IDLE_POLLS
        + 2 * actions
        + sum(f.count for n, f in functions.items() if n.startswith("executor"))
    )
    writes = 5 * actions + 2 * deploys  # ledger entries and state (1 KB), revisions (2 KB)
    reads = 3 * actions + 2 * deploys
    stored_gb = actions * 400 / 30 * 1e3 / 1e9  # 400 days of ledger entries of about 1 KB
    logs_gb = (
        requests * LOG_BYTES_PER_INVOCATION + 2 * deploys * services * LOG_BYTES_PER_SKIPPED_SERVICE
    ) / 1e9
    metrics = (
        len(PUSH_METRICS) * PUSH_HOURS + len(SCHEDULE_METRICS) * SCHEDULE_HOURS
    ) / HOURS_PER_MONTH
    return {
        "Lambda x86_64 (GB-s and requests)": seconds * MEMORY_GB * LAMBDA_GB_S["x86_64"]
        + requests * LAMBDA_PER_REQUEST,
        "Lambda arm64 (GB-s and requests)": seconds * MEMORY_GB * LAMBDA_GB_S["arm64"]
        + requests * LAMBDA_PER_REQUEST,
        "SQS FIFO (idle polling included)": sqs * SQS_FIFO_PER_REQUEST,
        "DynamoDB on-demand": writes * DYNAMODB_PER_WRU
        + reads * DYNAMODB_PER_RRU
        + stored_gb * DYNAMODB_GB_MONTH,
        "EventBridge Scheduler": (SCHEDULE_GROUPS * 2 * DAYS + REPORTS_PER_MONTH)
        * SCHEDULER_PER_INVOCATION,
        "Cost Explorer": REPORTS_PER_MONTH * 2 * COST_EXPLORER_PER_REQUEST,
        "CloudWatch custom metrics (EMF)": metrics * CW_METRIC_MONTH,
        "CloudWatch logs ingestion": logs_gb * CW_LOGS_GB,
        "CloudWatch alarms": alarm_metrics() * CW_ALARM_METRIC,
        "CloudWatch dashboard": CW_DASHBOARD,
        "(Lambda GB-s)": seconds * MEMORY_GB,
        "(Lambda requests)": requests,
    }


# -- the report -------------------------------------------------------------------------------


def _calls(counter: Counter[str], per: int = 1) -> str:
    total = sum(counter.values()) / per
    shown = ", ".join(f"{op} {n / per:g}" for op, n in sorted(counter.items()))
    return f"{total:g} ({shown})"


def main() -> int:
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    failures: list[str] = []
    fleets = [int(n) for n in os.environ.get("BENCH_FLEETS", "100,1000,5000").split(",")]
    print(f"ECS Autopilot bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()} ({sys.executable})\n"
    )

    print("(a) cold import, as a ratio to `python -c 'import boto3'` (same interpreter, same run)")
    floor, handlers = cold_imports()
    print(f"    {'import boto3':<22}{floor['ms']:>8.0f} ms{floor['rss_mb']:>9.1f} MB")
    for name, result in handlers.items():
        ms_ratio, rss_ratio = result["ms"] / floor["ms"], result["rss_mb"] / floor["rss_mb"]
        print(
            f"    {name:<22}{result['ms']:>8.0f} ms{result['rss_mb']:>9.1f} MB"
            f"{ms_ratio:>8.2f}x time{rss_ratio:>7.2f}x RSS"
        )
        if ms_ratio > IMPORT_RATIO:
            failures.append(f"{name}: cold import {ms_ratio:.2f}x boto3's > {IMPORT_RATIO}x")
        if rss_ratio > RSS_RATIO:
            failures.append(f"{name}: peak RSS {rss_ratio:.2f}x boto3's > {RSS_RATIO}x")

    print(
        f"\n(b) push -> UpdateService per service, {LATENCY_FLEET}-service fleet, moto in-process"
    )
    pushed = fleet_push()
    print(f"    p50 {pushed.p50_ms:.0f} ms, p95 {pushed.p95_ms:.0f} ms")
    print(
        f"    planner {pushed.planner_ms:.0f} ms for the push "
        f"({sum(pushed.planner_calls.values())} AWS calls); executor "
        f"{pushed.executor_ms_per_action:.0f} ms per action "
        f"({sum(pushed.executor_calls.values()) / pushed.services:g} AWS calls each: "
        f"{_calls(pushed.executor_calls, pushed.services).split(' ', 1)[1]})"
    )
    print(f"    custom metrics (EMF): planner {', '.join(pushed.metrics['planner'])}")
    print(f"    {'':>22}executor {', '.join(pushed.metrics['executor'])}")
    per_service = sum(pushed.executor_ecs_calls.values()) / pushed.services
    print(f"    executor ECS calls per deployed service: {per_service:g}")
    if per_service > ECS_CALLS_PER_DEPLOY:
        failures.append(f"executor: {per_service:g} ECS calls per deploy > {ECS_CALLS_PER_DEPLOY}")

    print("\n(c) AWS calls to plan one push (1 service follows the repository), moto in-process")
    plans = {}
    for size in fleets:
        plan = plans[size] = planning_calls(size)
        allowed = PLANNING_BASE_CALLS + PLANNING_CALLS_PER_DEPLOY * plan.deployed
        print(
            f"    {plan.fleet:>5} opted in: first push {sum(plan.first.values()):>4}, "
            f"next push {sum(plan.next.values()):>4} calls in {plan.next_ms:>5.0f} ms "
            f"(goal <= {allowed}): "
            f"{_calls(plan.next).split(' ', 1)[1]}"
        )
        if sum(plan.next.values()) > allowed:
            failures.append(
                f"planning at {size} services: {sum(plan.next.values())} calls > {allowed}"
            )

    print("\n(d) ECS calls per deployed service, one counting proxy in front of one moto server")
    calls = ecs_calls_per_deploy()
    print(f"    ECS Autopilot executor          {_calls(calls.ours_executor)}")
    print(f"    ECS Autopilot planner           {_calls(calls.ours_planner)}")
    if not calls.ecs_deploy:
        print(
            f"    ecs-deploy: not installed at {ECS_DEPLOY}: `make bench` installs it, or "
            f"python3 -m venv .venv-bench && .venv-bench/bin/pip install "
            f"ecs-deploy=={ECS_DEPLOY_VERSION}"
        )
    for command, counted in calls.ecs_deploy.items():
        print(f"    ecs-deploy {ECS_DEPLOY_VERSION}: {command}\n{'':>36}{_calls(counted)}")
    if sum(calls.ours_executor.values()) > ECS_CALLS_PER_DEPLOY:
        failures.append(
            f"executor through the proxy: {sum(calls.ours_executor.values())} ECS calls"
        )

    sizes = [n for n in (100, 1000) if n in plans]
    if sizes:
        print(
            "\n(e) monthly bill, us-east-1 list prices, no free tier (assumptions: tests/bench.py)"
        )
        bills = {n: monthly_cost(n, pushed, plans[n]) for n in sizes}
        print(f"    {'':<36}" + "".join(f"{f'{n:,} services':>16}" for n in sizes))
        for item in bills[sizes[0]]:
            shown = [bills[n][item] for n in sizes]
            form = "{:>16,.0f}" if item.startswith("(") else "{:>16.3f}"
            print(f"    {item:<36}" + "".join(form.format(v) for v in shown))
        for arch in ("x86_64", "arm64"):
            totals = []
            for n in sizes:
                other = "arm64" if arch == "x86_64" else "x86_64"
                totals.append(
                    sum(
                        v for k, v in bills[n].items() if not k.startswith(("(", f"Lambda {other}"))
                    )
                )
            print(f"    {'total, Lambda on ' + arch:<36}" + "".join(f"{t:>16.2f}" for t in totals))
        fixed = ("CloudWatch alarms", "CloudWatch dashboard", "CloudWatch custom metrics (EMF)")
        print(
            f"    {'of which alarms, dashboard, metrics':<36}"
            + "".join(f"{sum(bills[n][k] for k in fixed):>16.2f}" for n in sizes)
        )
        if 100 in bills:
            total = sum(
                v for k, v in bills[100].items() if not k.startswith(("(", "Lambda x86_64"))
            )
            if total >= MONTHLY_GOAL_USD:
                failures.append(
                    f"monthly bill at 100 services: ${total:.2f} >= ${MONTHLY_GOAL_USD:.2f} "
                    "(list prices, no free tier: docs/benchmarks.md)"
                )

    print("\n" + ("\n".join(f"MISSED: {f}" for f in failures) or "all goals met"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
