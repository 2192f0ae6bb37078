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

from autopilot_tools.cli.operator import OperatorError

if TYPE_CHECKING:
    from datetime import datetime

    from autopilot.domain.report import Week
    from autopilot.workflows.cost_report import ReportSources
    from autopilot_tools.cli.operator import Backend
    from autopilot_tools.local.runner import LocalApp

EXIT_FAILED = 1
EXIT_USAGE = 2


_EXIT_CODES = """exit codes:
  0  done
  1  refused, failed, or nothing matched
  2  usage or setup: bad arguments, no region, credentials or server, not in the project folder

Add --json anywhere for JSON lines (full digests, booleans, ISO times), --debug for tracebacks."""


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def _service(text: str) -> str:
    """`cluster/service` or a service ARN, checked for its form before any AWS call (that it
    exists and opted in is checked against AWS)."""
    if text.startswith("arn:"):
        if ":service/" not in text:
            raise argparse.ArgumentTypeError(f"not an ECS service ARN: {text!r}")
        return text
    cluster, slash, service = text.partition("/")
    if not slash or not cluster or not service or "/" in service:
        raise argparse.ArgumentTypeError(f"name a service as cluster/service, not {text!r}")
    return text


def _common() -> argparse.ArgumentParser:
    """--json and --debug, accepted before or after the subcommand (SUPPRESS: a later parser's
    default must not reset what an earlier one read)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print JSON lines"
    )
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print the traceback of an unexpected error",
    )
    return common


def _parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(
        prog="autopilot",
        description="ECS Autopilot: deploys, rollbacks and schedules for ECS.",
        epilog="examples:\n  autopilot status\n  autopilot history shop/web --limit 5\n"
        "  autopilot rollback shop/web\n  autopilot local demo\n\n" + _EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"autopilot {_version()}")
    parser.add_argument(
        "--stack",
        default=os.environ.get("AUTOPILOT_STACK", "ecs-autopilot"),
        help="the deployed stack to operate on (default: $AUTOPILOT_STACK or ecs-autopilot); "
        "ignored when AWS_ENDPOINT_URL points at a local moto server",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        group: Any, name: str, text: str, *examples: str, description: str = ""
    ) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = group.add_parser(
            name,
            help=text,
            description=description or text,
            epilog="examples:\n" + "\n".join(f"  {e}" for e in examples) + "\n\n" + _EXIT_CODES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
            parents=[common],
        )
        return sub

    command(
        commands,
        "status",
        "managed services, last known good, quarantine, freezes",
        "autopilot status",
        "autopilot status --json",
    )
    history = command(
        commands,
        "history",
        "the ledger of one service, newest first",
        "autopilot history shop/web",
        "autopilot history shop/web --limit 5 --json",
    )
    history.add_argument(
        "service", metavar="SERVICE", type=_service, help="cluster/service or service ARN"
    )
    history.add_argument("--limit", type=_positive, default=20, help="entries (default 20)")
    rollback = command(
        commands,
        "rollback",
        "roll a service back (to its last known good)",
        "autopilot rollback shop/web",
        "autopilot rollback shop/web --to web:7",
        "autopilot rollback shop/web --to 9 --quarantine",
    )
    rollback.add_argument(
        "service", metavar="SERVICE", type=_service, help="cluster/service or service ARN"
    )
    rollback.add_argument(
        "--to",
        dest="revision",
        metavar="REVISION",
        help="family:revision, a revision number, or a task definition ARN",
    )
    rollback.add_argument(
        "--quarantine",
        action="store_true",
        help="with --to a newer revision: quarantine the images it leaves anyway",
    )
    pause = command(
        commands,
        "pause",
        "stop automatic deploys and rollbacks of a service",
        "autopilot pause shop/web",
    )
    pause.add_argument(
        "service", metavar="SERVICE", type=_service, help="cluster/service or service ARN"
    )
    resume = command(commands, "resume", "lift a pause or a freeze", "autopilot resume shop/web")
    resume.add_argument(
        "service", metavar="SERVICE", type=_service, help="cluster/service or service ARN"
    )
    for name, text, example in (
        ("approve", "ship the deployment waiting at the service's PAUSE hook", "shop/web"),
        ("reject", "roll back the deployment waiting at the PAUSE hook; quarantine it", "shop/web"),
    ):
        gate = command(commands, name, text, f"autopilot {name} {example}")
        gate.add_argument(
            "service", metavar="SERVICE", type=_service, help="cluster/service or service ARN"
        )
    report = command(
        commands,
        "report",
        "render the weekly cost report locally (no email is sent)",
        "autopilot report --out report.html",
        "autopilot report --week 2026-W46 --resend",
    )
    report.add_argument("--week", help="ISO week, e.g. 2026-W46 (default: the last full week)")
    report.add_argument("--out", type=Path, default=Path("report.html"), help="HTML file to write")
    report.add_argument(
        "--resend",
        action="store_true",
        help="email the week's report again (needs --week), e.g. when it may not have arrived",
    )
    release = command(
        commands,
        "release",
        "let a quarantined digest deploy again",
        "autopilot release 3f4e2a1b9c0d",
        "autopilot release sha256:3f4e2a1b9c0d...",
    )
    release.add_argument(
        "digest", metavar="DIGEST", help="a quarantined digest, or a unique prefix of 12+ hex"
    )
    redrive = command(
        commands,
        "redrive",
        "put actions given up after every attempt back in line (from the actions DLQ)",
        "autopilot redrive prod/web",
        "autopilot redrive",
    )
    redrive.add_argument(
        "service",
        metavar="SERVICE",
        nargs="?",
        type=_service,
        help="only this service's actions (default: all)",
    )

    local = command(
        commands,
        "local",
        "run the application on this machine against moto",
        "autopilot local server --port 5000 &",
        "export AWS_ENDPOINT_URL=http://127.0.0.1:5000",
        "autopilot local seed",
        "autopilot local send events/ecr_image_push.json",
    )
    local_commands = local.add_subparsers(dest="local_command", required=True, metavar="COMMAND")

    send = command(
        local_commands,
        "send",
        "route events through template.yaml's rules to the handlers (AWS_ENDPOINT_URL)",
        "autopilot local send events/ecr_image_push.json",
        "autopilot local send events/*.json",
        description="Route each event (a JSON file holding one event or a list) through the "
        "rules template.yaml declares, run the handlers that match, drain the actions queue, "
        "and print one JSON line per outcome. The moto server is the one named by "
        "AWS_ENDPOINT_URL; the application's own resources are created there on first use.",
    )
    send.add_argument("files", nargs="+", type=Path, metavar="FILE")

    command(
        local_commands,
        "demo",
        "start moto, seed a fleet and play the whole story",
        "autopilot local demo",
    )
    server = command(
        local_commands,
        "server",
        "run a moto server in the foreground",
        "autopilot local server",
        "autopilot local server --port 5001 &",
    )
    server.add_argument("--port", type=int, default=5000)
    push = command(
        local_commands,
        "push",
        "push a new build to the local ECR and send ECR's push event",
        "autopilot local push web main",
        "autopilot local push api 1.5.0",
        "autopilot local push web main --no-event",
        description="Push the repository's next build under TAG to the moto server's ECR, print "
        "its digest, then send the `ECR Image Action` event ECR sends for a push (unless "
        "--no-event) and print what it triggered, as `local send` does.",
    )
    push.add_argument("repository", metavar="REPOSITORY")
    push.add_argument("tag", metavar="TAG")
    push.add_argument(
        "--no-event",
        action="store_true",
        help="only push; send no event (as if EventBridge lost it)",
    )
    command(
        local_commands,
        "seed",
        "seed the demo fleet into the moto server",
        "autopilot local seed",
    )
    command(
        local_commands,
        "tick",
        "let the local ECS catch up with the clock: deployments move on through their stages",
        "autopilot local tick",
        "AUTOPILOT_LOCAL_NOW=2026-12-03T15:10:00Z autopilot local tick",
        description="Move the moto server's service deployments on to the runner's clock (now, "
        "or AUTOPILOT_LOCAL_NOW): stages are reached, lifecycle hooks invoked, PAUSE hooks "
        "time out, ECS's deployment events are delivered, and what they trigger runs. One JSON "
        "line per outcome, as `local send` prints (which does the same before and after each "
        "event).",
    )
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        return version("ecs-autopilot")
    except PackageNotFoundError:
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    """Every failure is one line on stderr saying what is wrong and what to do; a traceback
    only with --debug."""
    # Powertools names log lines after this; Lambda sets it from the template.
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "ecs-autopilot")
    # Read when the metrics object is built (at import): as the template's Globals set it.
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ECSAutopilot")
    parser = _parser()
    args = parser.parse_args(argv)
    args.json = getattr(args, "json", False)
    args.debug = getattr(args, "debug", False)
    if args.command == "rollback" and args.quarantine and not args.revision:
        parser.error(
            "rollback --quarantine goes with --to REVISION (a plain rollback always "
            "quarantines what it leaves)"
        )
    if args.command == "report":
        if args.resend and not args.week:
            parser.error("report --resend needs the week to send again, e.g. --week 2026-W46")
        if not args.out.parent.is_dir():
            parser.error(f"report --out {args.out}: no folder {args.out.parent}; create it first")
    try:
        if args.command == "local":
            return _local(args)
        return _operate(args)
    except Exception as exc:
        if args.debug:
            raise
        from autopilot_tools.cli.errors import explain  # noqa: PLC0415

        message, code = explain(exc)
        print(f"autopilot: {message}", file=sys.stderr)
        return code


def _operate(args: argparse.Namespace) -> int:
    from autopilot_tools.cli import operator  # noqa: PLC0415

    endpoint = os.environ.get("AWS_ENDPOINT_URL", "").strip()
    if endpoint.startswith(("http://127.", "http://localhost")):
        with _local_backend(endpoint) as backend:
            return _run_operator_command(args, backend)
    return _run_operator_command(args, operator.aws_backend(args.stack))


@contextmanager
def _local_backend(endpoint: str) -> Iterator[Backend]:
    from autopilot.adapters.ecs import EcsGateway  # noqa: PLC0415
    from autopilot.adapters.ledger import Ledger  # noqa: PLC0415
    from autopilot.adapters.queues import ActionQueue, DeadLetteredActions  # noqa: PLC0415
    from autopilot.adapters.tagging import TaggingGateway  # noqa: PLC0415
    from autopilot_tools.cli.operator import Backend  # noqa: PLC0415
    from autopilot_tools.local.runner import LocalApp, find_project_root, stderr_logs  # noqa: PLC0415

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
            dead_letters=DeadLetteredActions(
                app.physical("ActionsDeadLetterQueue")["Ref"], app.physical("ActionsQueue")["Ref"]
            ),
        )
    # What this command notified was its to show (its one line says it): a later
    # `local send` prints only what that send caused.
    app.notifications()


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
        from autopilot_tools.local.runner import LocalApp, find_project_root  # noqa: PLC0415

        app = LocalApp(find_project_root(), endpoint)
        app.ensure_resources()
        return app.function_environment(app.template.functions["CostReportFunction"])
    from autopilot_tools.cli.operator import describe_stack  # noqa: PLC0415

    described = describe_stack(stack)
    try:
        bucket = (
            clients.cloudformation()
            .describe_stack_resource(StackName=stack, LogicalResourceId="ReportsBucket")[
                "StackResourceDetail"
            ]
            .get("PhysicalResourceId", "")
        )
    except ClientError as exc:
        raise OperatorError(f"cannot read stack {stack}'s reports bucket: {exc}") from exc
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
    from autopilot_tools.cli import operator  # noqa: PLC0415

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
        result = operator.rollback(backend, args.service, args.revision, quarantine=args.quarantine)
    elif args.command == "redrive":
        result = operator.redrive(backend, args.service)
    elif args.command == "release":
        result = operator.release(backend, args.digest)
    elif args.command in {"approve", "reject"}:
        gate: Literal["approve", "reject"] = "approve" if args.command == "approve" else "reject"
        result = operator.approval(backend, gate, args.service)
    else:
        kind: Literal["pause", "resume"] = "pause" if args.command == "pause" else "resume"
        result = operator.operate(backend, kind, args.service)
    print(json.dumps(result) if args.json else operator.render_entry(result))
    return 0 if _done(result) else EXIT_FAILED


# Asking for the state a service is already in is done, not refused.
_ALREADY = {"already-paused", "not-held", "already-running", "already-empty"}


def _done(result: dict[str, Any]) -> bool:
    if result.get("code") in _ALREADY:
        return True
    return result["outcome"] not in {"failed", "refused", "skipped", "notified"}


def _local(args: argparse.Namespace) -> int:
    return _run_local(args)


def _run_local(args: argparse.Namespace) -> int:
    from autopilot_tools.local.runner import LocalApp, find_project_root, stderr_logs  # noqa: PLC0415

    root = find_project_root()
    if args.local_command == "server":
        return _serve(args.port)
    stderr_logs()
    if args.local_command == "demo":
        from autopilot_tools.local.demo import run_demo  # noqa: PLC0415

        return run_demo(root)
    app = LocalApp(root, _endpoint())
    if args.local_command == "seed":
        app.ensure_resources()
        from autopilot_tools.local.fleet import seed_fleet  # noqa: PLC0415

        with app.aws_environment():
            services = seed_fleet(samples=True)
        _print_lines([{"type": "seeded", "service": k, "arn": v} for k, v in services.items()])
        return 0
    if args.local_command == "push":
        return _push(app, args.repository, args.tag, send_event=not args.no_event)
    if args.local_command == "tick":
        from autopilot_tools.local.session import advance  # noqa: PLC0415

        app.ensure_resources()
        _print_lines(advance(app))
        return 0
    return _send(app, args.files)


def _push(app: LocalApp, repository: str, tag: str, *, send_event: bool) -> int:
    from autopilot_tools.local.fleet import push_new_build  # noqa: PLC0415
    from autopilot_tools.local.sample_events import ecr_push  # noqa: PLC0415
    from autopilot_tools.local.session import send  # noqa: PLC0415

    app.ensure_resources()
    with app.aws_environment():
        build, digest = push_new_build(repository, tag)
    _print_lines(
        [{"type": "pushed", "repository": repository, "tag": tag, "build": build, "digest": digest}]
    )
    if not send_event:
        return 0
    lines = send(app, [ecr_push(repository, tag, digest)])
    _print_lines(lines)
    problems = [p for p in map(_not_taken, lines) if p]
    for problem in problems:
        print(f"autopilot: {problem}", file=sys.stderr)
    return EXIT_FAILED if problems else 0


def _send(app: LocalApp, files: Sequence[Path]) -> int:
    """Every file is read and checked before anything runs; then each event is sent in turn.
    Exit 1 when a file cannot be sent, or an event was not taken, rejected as malformed, or
    failed: one line on stderr each, naming the file. Events ignored on purpose are fine."""
    from autopilot_tools.local.runner import BadInputError, EventInput, read_event_file  # noqa: PLC0415
    from autopilot_tools.local.session import send  # noqa: PLC0415

    inputs: list[EventInput] = []
    problems: list[str] = []
    actions = app.template.schedule_routes.keys()
    for path in files:
        try:
            inputs.extend(read_event_file(path, actions))
        except BadInputError as exc:
            problems.append(str(exc))
    if not problems:
        app.ensure_resources()
        for one in inputs:
            try:
                lines = send(app, [one.event])
            except BadInputError as exc:  # what only the bus finds out
                problems.append(f"{one.where}: {exc}")
                continue
            _print_lines(lines)
            problems.extend(f"{one.where}: {p}" for p in map(_not_taken, lines) if p)
    for problem in problems:
        print(f"autopilot: {problem}", file=sys.stderr)
    return EXIT_FAILED if problems else 0


def _not_taken(line: dict[str, Any]) -> str | None:
    """Why an outcome line means the event was not taken, with what to do; None if it was."""
    kind, reason = line["type"], line.get("reason")
    if kind == "unrouted":
        return f"{reason}: nothing ran; send an event one of its rules or schedules takes"
    if kind == "rejected":
        return (
            f"{line['function']} rejected it as malformed ({reason}); it is kept in the "
            "events dead-letter queue: fix the event and send it again"
        )
    if kind == "failed":
        return (
            f"{line['function']} failed on every attempt ({reason}); the event is in the "
            "events dead-letter queue: see the function logs above"
        )
    return None


def _endpoint() -> str:
    from autopilot_tools.local.runner import LocalRunnerError  # noqa: PLC0415

    endpoint = os.environ.get("AWS_ENDPOINT_URL", "").strip()
    if not endpoint:
        raise LocalRunnerError(
            "AWS_ENDPOINT_URL is not set: start a moto server (autopilot local server) "
            "and export AWS_ENDPOINT_URL=http://127.0.0.1:5000"
        )
    if not endpoint.startswith(("http://127.", "http://localhost")):
        raise LocalRunnerError(f"refusing to run local events against {endpoint}: not loopback")
    return endpoint


def _serve(port: int) -> int:
    from autopilot_tools.local.server import start_moto_server  # noqa: PLC0415

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
