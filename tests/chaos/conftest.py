"""Crash points: one test per (workflow, gateway call, before/after), generated from a clean run.

`KNOWN_FAILING` is the one place that says which crash points the workflows get wrong today:
those cases are xfail (not strict), so fixing a workflow turns them into XPASS; then remove its
pairs here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pytest

from tests.chaos.faults import MODES, Mode
from tests.chaos.scenarios import SCENARIOS, run

# (workflow, mode) pairs with at least one crash point that breaks an invariant today, and why.
KNOWN_FAILING: dict[tuple[str, Mode], str] = {
    ("deploy", "before"): "UpdateService failing after RegisterTaskDefinition: the retry "
    "registers a second revision; SaveState or the final write failing: the retry records "
    "'confirmed on retry' with no revision, no deployment id, no service state",
    ("deploy", "after"): "a lost RegisterTaskDefinition response: a second revision on retry; "
    "after UpdateService took effect: 'confirmed on retry' with no revision or deployment id",
    ("rollback-auto", "before"): "Quarantine or SaveState failing after UpdateService: the "
    "retry records NOTIFIED not-automated, quarantines nothing, leaves the state on the bad "
    "deploy; the final write failing: SKIPPED already-rolled-back, no revision",
    ("rollback-auto", "after"): "after UpdateService took effect: the retry records NOTIFIED "
    "not-automated and quarantines nothing; after SaveState: SKIPPED already-rolled-back",
    ("rollback-manual", "before"): "a failure after UpdateService: the retry rolls one revision "
    "further (web:1) and quarantines web:2's good digest",
    ("rollback-manual", "after"): "after UpdateService took effect: the retry rolls one revision "
    "further (web:1) and quarantines web:2's good digest",
    ("codedeploy", "before"): "a failure after RegisterTaskDefinition: the retry registers "
    "another revision, and CreateDeployment is refused while the first deployment runs "
    "(DeploymentLimitExceededException): the entry stays STARTED",
    ("codedeploy", "after"): "a lost RegisterTaskDefinition or CreateDeployment response: "
    "another revision on retry, CreateDeployment refused (DeploymentLimitExceededException) "
    "three times, the entry stays STARTED",
    ("park", "before"): "the capacity to restore is read after a partial park: the retry saves "
    "min 0 / max 0 suspended (or desired 0) as what unpark restores; a failed final write "
    "ends as SKIPPED already-parked",
    ("park", "after"): "the capacity to restore is read after a partial park: the retry saves "
    "min 0 / max 0 suspended (or desired 0); after SaveState: SKIPPED already-parked",
    ("unpark", "before"): "the final write failing: the retry records SKIPPED not-parked, "
    "without the hours parked and the saving the report reads",
    ("unpark", "after"): "after SaveState: the retry records SKIPPED not-parked, without the "
    "hours parked and the saving the report reads",
    ("scale", "before"): "the restore schedule exists before the change: every retry fails on "
    "ConflictException, no ledger entry, capacity left half applied (min/max set, desired not)",
    ("scale", "after"): "a lost CreateSchedule response or any later failure: every retry fails "
    "on ConflictException, no ledger entry, capacity possibly half applied",
    ("cost-report", "before"): "S3 PutObject failing after the email was sent: the retry sends "
    "the report again",
    ("cost-report", "after"): "a lost SendRawEmail response or a failure after it: the retry "
    "sends the report again",
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
    """Every gateway call of each workflow's clean run, in both modes."""
    points = []
    for name, scenario in SCENARIOS.items():
        calls = run(scenario).calls
        points += [
            CrashPoint(name, index, mode, call)
            for index, call in enumerate(calls)
            for mode in MODES
        ]
    return points


_COUNTED: Counter[str] = Counter()
_FAILING: Counter[str] = Counter()  # crash points of KNOWN_FAILING pairs that failed (xfail)
_WORKFLOW_OF: dict[str, str] = {}  # test id -> workflow
_MODE_OF: dict[str, Mode] = {}  # test id -> mode
_RAN: set[str] = set()
_FAILING_PAIRS: set[tuple[str, Mode]] = set()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "crash_point" not in metafunc.fixturenames:
        return
    points = crash_points()
    _COUNTED.clear()
    _COUNTED.update(p.workflow for p in points)
    _WORKFLOW_OF.update((p.id, p.workflow) for p in points)
    _MODE_OF.update((p.id, p.mode) for p in points)
    metafunc.parametrize(
        "crash_point",
        [
            pytest.param(
                point,
                id=point.id,
                # Only a broken invariant is expected: a harness error still fails.
                marks=[pytest.mark.xfail(strict=False, raises=AssertionError, reason=reason)]
                if (reason := KNOWN_FAILING.get((point.workflow, point.mode)))
                else [],
            )
            for point in points
        ],
    )


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count the crash points that failed as expected (xfail), per workflow and mode."""
    point = report.nodeid.rpartition("[")[2].rstrip("]")
    if report.when != "call" or point not in _WORKFLOW_OF:
        return
    _RAN.add(point)
    if report.skipped and hasattr(report, "wasxfail"):
        _FAILING[_WORKFLOW_OF[point]] += 1
        _FAILING_PAIRS.add((_WORKFLOW_OF[point], _MODE_OF[point]))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _COUNTED:
        return
    shown = ", ".join(f"{name} {count}" for name, count in _COUNTED.items())
    terminalreporter.write_line(f"crash points: {_COUNTED.total()} ({shown})")
    if _FAILING:
        shown = ", ".join(f"{name} {count}" for name, count in _FAILING.items())
        terminalreporter.write_line(
            f"known failing today: {_FAILING.total()} ({shown}); -rx lists them"
        )
    ran = {(_WORKFLOW_OF[point], _MODE_OF[point]) for point in _RAN}
    fixed = [f"{w}/{m}" for w, m in KNOWN_FAILING if (w, m) in ran - _FAILING_PAIRS]
    if fixed:
        terminalreporter.write_line(f"KNOWN_FAILING pairs that no longer fail: {', '.join(fixed)}")
