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

# Crash point id -> why it breaks an invariant today. Empty: every crash point holds.
KNOWN_FAILING: dict[str, str] = {}


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
