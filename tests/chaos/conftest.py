"""Crash points: one test per (workflow, gateway call, before/after), generated from a clean run.

`KNOWN_FAILING` is the one place that says which crash points the workflows get wrong today,
each by its id (`<workflow>-<index>-<mode>-<gateway.method>`: the call is part of it, so a
workflow that changes its calls cannot shift the mark onto another point). Only those points
are xfail, strictly: every other crash point stays guarded, and a fixed one fails as XPASS
until its id is removed here. An id that names no crash point fails the collection.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pytest

from tests.chaos.faults import MODES, OUTAGE, Mode
from tests.chaos.scenarios import SCENARIOS, run

# Why crash points fail today, one reason per cause (the report names the file to change).
# context.py's finish() writes the final entry, then notifies: when the write took effect but
# its answer was lost (or the function stopped there), the retry replays the finished entry
# and the notification is never sent (holds.py tells twice rather than never).
_TOLD_AFTER_THE_WRITE = "the final entry is stored, its answer lost: the retry replays it and "
_TRACK_ALREADY_RECORDED = (
    "track_action.py: the state was saved with the deployment FAILED but the entry was not "
    "written; the retry finds it 'already recorded as failed', records SKIPPED "
    "already-recorded, and the deployment failure is never paged"
)
_GAVE_UP_KEPT = (
    "a redrive of a given-up deploy/rollback finishes the given-up entry (deploy_action.py and "
    "rollback_action.py take it as their own, context.finish keeps its code and reason): the "
    "entry ends DEPLOYED/ROLLED_BACK with code gave-up and 'failed 3 attempts' as its reason, "
    "and unfinished() still takes it for unfinished, so a replay runs the action again"
)
_NO_INTENT = (
    "given up before the deploy wrote its STARTED entry: ActionRunner.give_up writes a new "
    "FAILED entry without from_task_definition; the redrive takes it as the deploy's intent, "
    "deploys, then fails reading task definition '' (deploy_action._started) and is given up "
    "again with the new revision running and the service state not naming it: every later "
    "redrive fails the same way"
)

# Crash point id -> why it breaks an invariant today.
KNOWN_FAILING: dict[str, str] = {
    "deploy-16-after-ledger.write": _TOLD_AFTER_THE_WRITE + "'deploying' is never sent",
    "codedeploy-16-after-ledger.write": _TOLD_AFTER_THE_WRITE + "'deploying' is never sent",
    "resume-held-20-after-ledger.write": _TOLD_AFTER_THE_WRITE + "'deploying' is never sent",
    "rollback-auto-11-after-ledger.write": _TOLD_AFTER_THE_WRITE + "'ROLLED BACK' is never sent",
    "rollback-manual-11-after-ledger.write": _TOLD_AFTER_THE_WRITE + "'ROLLED BACK' is never sent",
    "rollback-bluegreen-11-after-ledger.write": _TOLD_AFTER_THE_WRITE
    + "'ROLLED BACK' is never sent",
    "track-failed-04-after-ledger.write": _TOLD_AFTER_THE_WRITE
    + "'deployment FAILED' is never sent",
    "track-failed-03-after-ledger.save_state": _TRACK_ALREADY_RECORDED,
    "track-failed-04-before-ledger.write": _TRACK_ALREADY_RECORDED,
    **dict.fromkeys(
        (
            "codedeploy-08-outage-ecs.task_definition",
            "codedeploy-09-outage-ecs.register_task_definition",
            "codedeploy-11-outage-codedeploy.create_deployment",
            "codedeploy-13-outage-ecs.task_definition",
            "codedeploy-14-outage-ecs.task_definition",
            "codedeploy-15-outage-ledger.save_state",
            "deploy-08-outage-ecs.task_definition",
            "deploy-09-outage-ecs.register_task_definition",
            "deploy-11-outage-ecs.update_service",
            "deploy-13-outage-ecs.task_definition",
            "deploy-14-outage-ecs.task_definition",
            "deploy-15-outage-ledger.save_state",
            "resume-held-12-outage-ecs.task_definition",
            "resume-held-13-outage-ecs.register_task_definition",
            "resume-held-15-outage-ecs.update_service",
            "resume-held-17-outage-ecs.task_definition",
            "resume-held-18-outage-ecs.task_definition",
            "resume-held-19-outage-ledger.save_state",
            "rollback-auto-01-outage-ecs.describe_service",
            "rollback-auto-02-outage-ledger.state",
            "rollback-auto-03-outage-ledger.quarantined",
            "rollback-auto-04-outage-ecr.image",
            "rollback-auto-06-outage-ecs.update_service",
            "rollback-auto-08-outage-ledger.quarantine",
            "rollback-auto-09-outage-ecs.task_definition",
            "rollback-auto-10-outage-ledger.save_state",
            "rollback-bluegreen-01-outage-ecs.describe_service",
            "rollback-bluegreen-02-outage-ledger.state",
            "rollback-bluegreen-03-outage-codedeploy.deployment_status",
            "rollback-bluegreen-04-outage-ledger.quarantined",
            "rollback-bluegreen-05-outage-ecr.image",
            "rollback-bluegreen-07-outage-codedeploy.stop_deployment",
            "rollback-bluegreen-08-outage-ledger.quarantine",
            "rollback-bluegreen-09-outage-ecs.task_definition",
            "rollback-bluegreen-10-outage-ledger.save_state",
            "rollback-manual-01-outage-ecs.describe_service",
            "rollback-manual-02-outage-ledger.state",
            "rollback-manual-03-outage-ledger.quarantined",
            "rollback-manual-04-outage-ecr.image",
            "rollback-manual-06-outage-ecs.update_service",
            "rollback-manual-08-outage-ledger.quarantine",
            "rollback-manual-09-outage-ecs.task_definition",
            "rollback-manual-10-outage-ledger.save_state",
        ),
        _GAVE_UP_KEPT,
    ),
    **dict.fromkeys(
        (
            "codedeploy-01-outage-ecs.describe_service",
            "codedeploy-02-outage-ledger.state",
            "codedeploy-03-outage-ecr.image",
            "codedeploy-04-outage-ecr.images",
            "codedeploy-05-outage-ledger.quarantined",
            "codedeploy-06-outage-cloudwatch.firing_for",
            "deploy-01-outage-ecs.describe_service",
            "deploy-02-outage-ledger.state",
            "deploy-03-outage-ecr.image",
            "deploy-04-outage-ecr.images",
            "deploy-05-outage-ledger.quarantined",
            "deploy-06-outage-cloudwatch.firing_for",
            "resume-held-01-outage-ecs.describe_service",
            "resume-held-02-outage-ledger.state",
            "resume-held-03-outage-cloudwatch.firing_for",
            "resume-held-05-outage-ecs.describe_service",
            "resume-held-06-outage-ledger.state",
            "resume-held-07-outage-ecr.image",
            "resume-held-08-outage-ecr.images",
            "resume-held-09-outage-ledger.quarantined",
            "resume-held-10-outage-cloudwatch.firing_for",
        ),
        _NO_INTENT,
    ),
    **dict.fromkeys(
        ("track-failed-04-outage-ledger.write",),
        _TRACK_ALREADY_RECORDED,
    ),
}


@dataclass(frozen=True)
class CrashPoint:
    workflow: str
    index: int
    mode: Mode
    call: str  # gateway.method

    @property
    def id(self) -> str:
        return f"{self.workflow}-{self.index:02d}-{self.mode}-{self.call}"


def crash_points() -> list[CrashPoint]:
    """Every gateway call of each workflow's clean run, before and after it took effect, and
    (for the executor's actions) as the start of an outage."""
    points = []
    for name, scenario in SCENARIOS.items():
        modes = (*MODES, OUTAGE) if scenario.build().request is not None else MODES
        calls = run(scenario).calls
        points += [
            CrashPoint(name, index, mode, call)
            for index, call in enumerate(calls)
            for mode in modes
        ]
    return points


_COUNTED: Counter[str] = Counter()  # crash points per workflow
_XFAILED: Counter[str] = Counter()  # known failing crash points that failed, per workflow
_WORKFLOW_OF: dict[str, str] = {}  # crash point id -> workflow


def _marks(point: CrashPoint) -> list[pytest.MarkDecorator]:
    reason = KNOWN_FAILING.get(point.id)
    if reason is None:
        return []
    # Only a broken invariant is expected: a harness error still fails.
    return [pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason)]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "crash_point" not in metafunc.fixturenames:
        return
    points = crash_points()
    unknown = sorted(set(KNOWN_FAILING) - {p.id for p in points})
    if unknown:
        raise pytest.UsageError(f"KNOWN_FAILING names no crash point: {', '.join(unknown)}")
    _COUNTED.clear()
    _COUNTED.update(p.workflow for p in points)
    _WORKFLOW_OF.update((p.id, p.workflow) for p in points)
    metafunc.parametrize("crash_point", [pytest.param(p, id=p.id, marks=_marks(p)) for p in points])


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    point = report.nodeid.rpartition("[")[2].rstrip("]")
    # An xfail that failed as known is reported skipped, with `wasxfail`.
    known = report.skipped and hasattr(report, "wasxfail")
    if report.when == "call" and point in _WORKFLOW_OF and known:
        _XFAILED[_WORKFLOW_OF[point]] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _COUNTED:
        return
    shown = ", ".join(f"{name} {count}" for name, count in _COUNTED.items())
    terminalreporter.write_line(f"crash points: {_COUNTED.total()} ({shown})")
    if _XFAILED:
        shown = ", ".join(f"{name} {count}" for name, count in _XFAILED.items())
        terminalreporter.write_line(
            f"known failing today: {_XFAILED.total()} ({shown}); listed in the short test summary"
        )
