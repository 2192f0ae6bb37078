"""`autopilot`: the operator's command line, and the local runner."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from autopilot.cli.operator import OperatorError

if TYPE_CHECKING:
    from datetime import datetime

    from autopilot.cli.operator import Backend
    from autopilot.domain.report import Week
    from autopilot.workflows.cost_report import ReportSources

EXIT_FAILED = 1
EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autopilot", description="ECS Autopilot: deploys, rollbacks and schedules for ECS."
    )
    parser.add_argument(
        "--stack",
        default=os.environ.get("AUTOPILOT_STACK", "ecs-autopilot"),
        help="the deployed stack to operate on (default: $AUTOPILOT_STACK or ecs-autopilot); "
        "ignored when AWS_ENDPOINT_URL points at a local moto server",
    )
    parser.add_argument("--json", action="store_true", help="print JSON lines for scripts")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("status", help="managed services, last known good, quarantine, freezes")
    history = commands.add_parser("history", help="the ledger of one service, newest first")
    history.add_argument("service", metavar="SERVICE", help="cluster/service or service ARN")
    history.add_argument("--limit", type=int, default=20)
    rollback = commands.add_parser("rollback", help="roll a service back (to its last known good)")
    rollback.add_argument("service", metavar="SERVICE")
    rollback.add_argument(
        "--to",
        dest="revision",
        metavar="REVISION",
        help="family:revision, a revision number, or a task definition ARN",
    )
    for name, text in (
        ("pause", "stop automatic deploys and rollbacks of a service"),
        ("resume", "lift a pause or a freeze"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("service", metavar="SERVICE")
    report = commands.add_parser(
        "report", help="render the weekly cost report locally (no email is sent)"
    )
    report.add_argument("--week", help="ISO week, e.g. 2026-W46 (default: the last full week)")
    report.add_argument("--out", type=Path, default=Path("report.html"), help="HTML file to write")
    report.add_argument(
        "--resend",
        action="store_true",
        help="email the week's report again (needs --week), e.g. when it may not have arrived",
    )
    release = commands.add_parser("release", help="let a quarantined digest deploy again")
    release.add_argument("digest", metavar="DIGEST")

    local = commands.add_parser("local", help="run the application on this machine against moto")
    local_commands = local.add_subparsers(dest="local_command", required=True)

    send = local_commands.add_parser(
        "send",
        help="route events through template.yaml's rules to the handlers (AWS_ENDPOINT_URL)",
        description="Route each event (a JSON file holding one event or a list) through the "
        "rules template.yaml declares, run the handlers that match, drain the actions queue, "
        "and print one JSON line per outcome. The moto server is the one named by "
        "AWS_ENDPOINT_URL; the application's own resources are created there on first use.",
    )
    send.add_argument("files", nargs="+", type=Path, metavar="FILE")

    local_commands.add_parser("demo", help="start moto, seed a fleet and play the whole story")

    server = local_commands.add_parser("server", help="run a moto server in the foreground")
    server.add_argument("--port", type=int, default=5000)
    local_commands.add_parser("seed", help="seed the demo fleet into the moto server")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Powertools names log lines after this; Lambda sets it from the template.
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "ecs-autopilot")
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "report" and args.resend and not args.week:
        parser.error("report --resend needs the week to send again, e.g. --week 2026-W46")
    if args.command == "local":
        return _local(args)
    from autopilot.domain.errors import NotFoundError  # noqa: PLC0415

    try:
        return _operate(args)
    except (OperatorError, NotFoundError) as exc:
        print(f"autopilot: {exc}", file=sys.stderr)
        return EXIT_FAILED


def _operate(args: argparse.Namespace) -> int:
    from autopilot.cli import operator  # noqa: PLC0415

    endpoint = os.environ.get("AWS_ENDPOINT_URL", "").strip()
    if endpoint.startswith(("http://127.", "http://localhost")):
        with _local_backend(endpoint) as backend:
            return _run_operator_command(args, backend)
    return _run_operator_command(args, operator.aws_backend(args.stack))


@contextmanager
def _local_backend(endpoint: str) -> Iterator[Backend]:
    from autopilot.adapters.ecs import EcsGateway  # noqa: PLC0415
    from autopilot.adapters.ledger import Ledger  # noqa: PLC0415
    from autopilot.adapters.queues import ActionQueue  # noqa: PLC0415
    from autopilot.adapters.tagging import TaggingGateway  # noqa: PLC0415
    from autopilot.cli.operator import Backend  # noqa: PLC0415
    from autopilot.local.runner import LocalApp, find_project_root, stderr_logs  # noqa: PLC0415

    stderr_logs()
    app = LocalApp(find_project_root(), endpoint)
    app.ensure_resources()
    with app.aws_environment():
        yield Backend(
            ledger=Ledger(app.physical("LedgerTable")["Ref"], retention_days=1),
            queue=ActionQueue(app.physical("ActionsQueue")["Ref"]),
            ecs=EcsGateway(),
            tagging=TaggingGateway(),
            operator="operator@local",
            run_queue=app.drain,
        )


def _report(args: argparse.Namespace, backend: Backend) -> int:
    from datetime import UTC, datetime  # noqa: PLC0415

    from autopilot.adapters import clients  # noqa: PLC0415
    from autopilot.adapters.cloudwatch import CloudWatchGateway  # noqa: PLC0415
    from autopilot.adapters.costexplorer import CostExplorerGateway  # noqa: PLC0415
    from autopilot.domain.report import CostsUnavailableError, Week, money  # noqa: PLC0415
    from autopilot.reporting import render  # noqa: PLC0415
    from autopilot.workflows.cost_report import ReportSources, gather  # noqa: PLC0415

    now = datetime.now(UTC)
    try:
        week = Week.parse(args.week) if args.week else Week.last_full(now.date())
    except ValueError as exc:
        raise OperatorError(str(exc)) from exc
    sources = ReportSources(
        costs=CostExplorerGateway(),
        cloudwatch=CloudWatchGateway(),
        ecs=backend.ecs,
        ledger=backend.ledger,
        account=clients.sts().get_caller_identity()["Account"],
        region=clients.region(),
    )
    if args.resend:
        return _resend(args, sources, week, now)
    try:
        report = gather(sources, week, now)
    except CostsUnavailableError as exc:
        raise OperatorError(f"{exc}: {exc.__cause__}") from exc
    args.out.write_text(render.html(report), encoding="utf-8")
    summary = {
        "week": str(week),
        "total": str(report.total),
        "currency": report.currency,
        "out": str(args.out.resolve()),
        "cost_explorer_requests": report.requests,
    }
    print(
        json.dumps(summary)
        if args.json
        else f"{render.subject(report)}\nwrote {args.out.resolve()} "
        f"({report.requests} Cost Explorer request(s), {money(report.total, report.currency)})"
    )
    return 0


def _resend(args: argparse.Namespace, sources: ReportSources, week: Week, now: datetime) -> int:
    """Email the week's report again, as the report function would, and record it as sent."""
    from autopilot.adapters.mailer import Mailer  # noqa: PLC0415
    from autopilot.adapters.notifier import Notifier  # noqa: PLC0415
    from autopilot.adapters.report_deliveries import ReportDeliveries  # noqa: PLC0415
    from autopilot.domain.report import CostsUnavailableError  # noqa: PLC0415
    from autopilot.domain.report_delivery import DeliveryRejectedError  # noqa: PLC0415
    from autopilot.settings import ReportSettings  # noqa: PLC0415
    from autopilot.workflows.cost_report import ReportDelivery, weekly_report  # noqa: PLC0415

    env = _report_function_environment(args.stack)
    config = ReportSettings.from_env(env)
    delivery = ReportDelivery(
        mailer=Mailer(config.sender, list(config.recipients), config.bucket),
        deliveries=ReportDeliveries(env["LEDGER_TABLE"], int(env["LEDGER_RETENTION_DAYS"])),
        notifier=Notifier(env["NOTIFY_TOPIC_ARN"], env.get("CHAT_WEBHOOK_SECRET_ARN") or None),
    )
    try:
        result = weekly_report(sources, delivery, week, now, resend=True)
    except (CostsUnavailableError, DeliveryRejectedError) as exc:
        raise OperatorError(f"{exc}: {exc.__cause__}") from exc
    print(
        json.dumps(result)
        if args.json
        else f"{week}: {result['delivery']}"
        + (f" (message {result['message_id']})" if result.get("message_id") else "")
        + (f": {result['reason']}" if result.get("reason") else "")
    )
    return 0 if result["delivery"] == "resent" else EXIT_FAILED


def _report_function_environment(stack: str) -> dict[str, str]:
    """What the report function reads from its environment: locally, the runner's resources;
    else the deployed stack's parameters, outputs and resources."""
    from botocore.exceptions import ClientError  # noqa: PLC0415

    from autopilot.adapters import clients  # noqa: PLC0415

    endpoint = os.environ.get("AWS_ENDPOINT_URL", "").strip()
    if endpoint.startswith(("http://127.", "http://localhost")):
        from autopilot.local.runner import LocalApp, find_project_root  # noqa: PLC0415

        app = LocalApp(find_project_root(), endpoint)
        app.ensure_resources()
        return app.function_environment(app.template.functions["CostReportFunction"])
    cloudformation = clients.cloudformation()
    try:
        [described] = cloudformation.describe_stacks(StackName=stack)["Stacks"]
        bucket = cloudformation.describe_stack_resource(
            StackName=stack, LogicalResourceId="ReportsBucket"
        )["StackResourceDetail"].get("PhysicalResourceId", "")
    except ClientError as exc:
        raise OperatorError(f"cannot read stack {stack}: {exc}") from exc
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in described["Parameters"]}
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    return {
        "REPORT_SENDER": parameters.get("ReportSender", ""),
        "REPORT_RECIPIENTS": parameters.get("ReportRecipients", ""),
        "REPORTS_BUCKET": bucket,
        "LEDGER_TABLE": outputs["LedgerTableName"],
        "LEDGER_RETENTION_DAYS": parameters.get("LedgerRetentionDays", "400"),
        "NOTIFY_TOPIC_ARN": outputs["NotificationTopicArn"],
        "CHAT_WEBHOOK_SECRET_ARN": parameters.get("ChatWebhookSecretArn", ""),
    }


def _run_operator_command(args: argparse.Namespace, backend: Backend) -> int:
    from autopilot.cli import operator  # noqa: PLC0415

    if args.command == "report":
        return _report(args, backend)
    if args.command == "status":
        report = operator.status(backend)
        print(json.dumps(report) if args.json else operator.render_status(report))
        return 0
    if args.command == "history":
        lines = operator.history(backend, args.service, args.limit)
        for line in lines:
            print(json.dumps(line) if args.json else operator.render_entry(line))
        return 0
    if args.command == "rollback":
        result = operator.rollback(backend, args.service, args.revision)
    elif args.command == "release":
        result = operator.release(backend, args.digest)
    else:
        kind: Literal["pause", "resume"] = "pause" if args.command == "pause" else "resume"
        result = operator.operate(backend, kind, args.service)
    print(json.dumps(result) if args.json else operator.render_entry(result))
    return (
        0 if result["outcome"] not in {"failed", "refused", "skipped", "notified"} else EXIT_FAILED
    )


def _local(args: argparse.Namespace) -> int:
    from autopilot.local.runner import LocalRunnerError  # noqa: PLC0415

    try:
        return _run_local(args)
    except LocalRunnerError as exc:
        print(f"autopilot: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _run_local(args: argparse.Namespace) -> int:
    from autopilot.local.runner import LocalApp, find_project_root, stderr_logs  # noqa: PLC0415

    root = find_project_root()
    if args.local_command == "server":
        return _serve(args.port)
    stderr_logs()
    if args.local_command == "demo":
        from autopilot.local.demo import run_demo  # noqa: PLC0415

        return run_demo(root)
    app = LocalApp(root, _endpoint())
    app.ensure_resources()
    if args.local_command == "seed":
        from autopilot.local.fleet import seed_fleet  # noqa: PLC0415

        with app.aws_environment():
            services = seed_fleet()
        _print_lines([{"type": "seeded", "service": k, "arn": v} for k, v in services.items()])
        return 0
    from autopilot.local.session import send  # noqa: PLC0415

    events = [event for path in args.files for event in _read_events(path)]
    _print_lines(send(app, events))
    return 0


def _endpoint() -> str:
    from autopilot.local.runner import LocalRunnerError  # noqa: PLC0415

    endpoint = os.environ.get("AWS_ENDPOINT_URL", "").strip()
    if not endpoint:
        raise LocalRunnerError(
            "AWS_ENDPOINT_URL is not set: start a moto server (autopilot local server) "
            "and export AWS_ENDPOINT_URL=http://127.0.0.1:5000"
        )
    if not endpoint.startswith(("http://127.", "http://localhost")):
        raise LocalRunnerError(f"refusing to run local events against {endpoint}: not loopback")
    return endpoint


def _read_events(path: Path) -> list[dict[str, Any]]:
    from autopilot.local.runner import LocalRunnerError  # noqa: PLC0415

    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise LocalRunnerError(f"{path}: {exc}") from exc
    events = loaded if isinstance(loaded, list) else [loaded]
    if not all(isinstance(event, dict) for event in events):
        raise LocalRunnerError(f"{path}: expected an event object or a list of them")
    return events


def _serve(port: int) -> int:
    from autopilot.local.server import start_moto_server  # noqa: PLC0415

    server, endpoint = start_moto_server(port)
    print(f"moto server on {endpoint}; export AWS_ENDPOINT_URL={endpoint}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0


def _print_lines(lines: list[dict[str, Any]]) -> None:
    for line in lines:
        print(json.dumps(line, default=str), flush=True)


if __name__ == "__main__":
    sys.exit(main())
