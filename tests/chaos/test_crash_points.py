"""Crash any gateway call of a workflow, before or after it took effect, let the retries run,
and check that nothing is left half done: the service ends where the clean run ends it or
unchanged, the ledger agrees with ECS, nothing is duplicated, and a failure is recorded.
An outage of the call's operation outlasts the executor's attempts: the action is given up,
recorded and told, then redriven, and must end where the clean run ends."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.chaos.conftest import CrashPoint
from tests.chaos.scenarios import (
    SCENARIOS,
    Scenario,
    Snapshot,
    given_up_problems,
    observe,
    problems,
    run,
)


def _unchanged(scenario: Scenario) -> Snapshot:
    """Where a workflow's fixture ends if the automation does nothing (what happens anyway,
    such as ECS finishing its own rollback, happens)."""
    case = scenario.build()
    case.settle()
    return observe(case)


@pytest.fixture(scope="module")
def references() -> dict[str, tuple[Snapshot, Snapshot]]:
    """Each workflow's starting point and clean end, computed once."""
    return {name: (_unchanged(scenario), run(scenario).end) for name, scenario in SCENARIOS.items()}


@pytest.mark.parametrize("workflow", SCENARIOS)
def test_the_clean_run_does_the_work(
    workflow: str, references: dict[str, tuple[Snapshot, Snapshot]]
) -> None:
    """Given a workflow's fixture, when its request is delivered once without faults, then it
    does what the scenario is about (so the crash tests never compare against a no-op)."""
    initial, clean = references[workflow]
    expected = SCENARIOS[workflow].expected

    assert clean.revision == expected.revision
    assert clean.capacity == expected.capacity
    assert (clean.entry.outcome if clean.entry else None) is expected.outcome
    assert clean.emails == expected.emails
    assert len(clean.schedules) == expected.schedules
    assert len(clean.quarantined) == expected.quarantined
    assert (None if clean.index is None else len(clean.index)) == expected.indexed
    assert clean.service_deployments == expected.service_deployments
    assert problems(initial, clean, clean, has_ledger=expected.outcome is not None) == []


def test_crash_point(
    crash_point: CrashPoint, references: dict[str, tuple[Snapshot, Snapshot]]
) -> None:
    """Given a workflow's fixture, when call `index` of its first attempt fails (before or
    after taking effect, or in an outage that outlasts the attempts and is followed by a
    redrive) and the request is retried as the executor or Lambda retries it, then every
    invariant holds."""
    scenario = SCENARIOS[crash_point.workflow]
    initial, clean = references[crash_point.workflow]

    result = run(scenario, crash_point.index, crash_point.mode)

    assert result.fired == crash_point.call, "the fault hit the call the clean run made there"
    errors = Counter(f"{type(e).__name__}: {e}" for e in result.errors)
    given_up = result.given_up
    found = given_up_problems(given_up, result.outage, result.end) if given_up else []
    found += problems(initial, clean, result.end, has_ledger=scenario.expected.outcome is not None)
    assert found == [], f"after {len(result.errors)} failed attempts: {dict(errors)}"
