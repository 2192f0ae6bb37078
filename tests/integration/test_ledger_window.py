"""The ledger's once-per-window claim against DynamoDB (moto): a conditional write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from autopilot.adapters.ledger import Ledger
from autopilot_tools.local.runner import LocalApp

SERVICE = "arn:aws:ecs:us-east-1:123456789012:service/prod/web"
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_a_kind_is_claimed_once_per_window_and_again_after_it(app: LocalApp) -> None:
    with app.aws_environment():
        ledger = Ledger(app.physical("LedgerTable")["Ref"], 400)
        # Given action a1 claimed placement-failure on prod/web at 10:00
        assert ledger.first_within(SERVICE, "placement-failure", HOUR, T0, "a1")
        # When a2 asks at 10:59, and a1's retry asks at 10:30
        # Then a2 is refused and a1 wins again (its retry must still notify)
        assert not ledger.first_within(
            SERVICE, "placement-failure", HOUR, T0 + timedelta(minutes=59), "a2"
        )
        assert ledger.first_within(
            SERVICE, "placement-failure", HOUR, T0 + timedelta(minutes=30), "a1"
        )
        # And another kind, or another service, has a window of its own
        assert ledger.first_within(SERVICE, "other-kind", HOUR, T0, "a3")
        assert ledger.first_within(
            SERVICE.replace("web", "api"), "placement-failure", HOUR, T0, "a4"
        )
        # When a window has passed since the last claim (10:30 + 1h)
        # Then a new claimant wins
        assert ledger.first_within(
            SERVICE, "placement-failure", HOUR, T0 + timedelta(minutes=90), "a5"
        )
