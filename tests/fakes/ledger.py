"""The ledger table in memory, with adapters/ledger.py's conditional writes.

- `write(first=True)` stores nothing and returns False when the action has an entry;
- `save_state` raises ConflictError unless the stored version is the one the state was read at;
- the state goes through the adapter's own JSON codec, so a test reads back exactly what
  DynamoDB would give, never an object a workflow still holds.
Every write is also kept in order (`writes`, `saved_states`) for tests to inspect history.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from autopilot.adapters.state_codec import dump_state, load_state
from autopilot.domain.errors import ConflictError
from autopilot.domain.ledger import LedgerEntry, Quarantine
from autopilot.domain.state import ServiceState
from autopilot.records import replace


def _action_key(trigger_time: datetime, action_id: str) -> str:
    # The adapter's sort key: entries of one service sort by trigger time.
    stamp = trigger_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f"ACTION#{stamp}#{action_id}"


class FakeLedger:
    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], LedgerEntry] = {}
        self._states: dict[str, tuple[str, int]] = {}  # service -> (JSON, version)
        self._quarantine: dict[str, Quarantine] = {}
        self._failures: dict[tuple[str, str], int] = {}
        self._claims: dict[tuple[str, str], tuple[datetime, str]] = {}  # (service, kind)
        self.writes: list[LedgerEntry] = []  # every successful write, in order
        self.saved_states: list[ServiceState] = []  # every successful save, as stored

    # -- inspection, for tests ----------------------------------------------------------------

    def entries_of(self, action_id: str) -> list[LedgerEntry]:
        """Every version of the action's entry that was written, oldest first."""
        return [e for e in self.writes if e.action_id == action_id]

    def failures(self, service_arn: str, action_id: str) -> int:
        return self._failures.get((service_arn, action_id), 0)

    # -- the gateway --------------------------------------------------------------------------

    def find(self, service_arn: str, trigger_time: datetime, action_id: str) -> LedgerEntry | None:
        return self._entries.get((service_arn, _action_key(trigger_time, action_id)))

    def write(self, entry: LedgerEntry, *, first: bool = False) -> bool:
        key = (entry.service_arn, _action_key(entry.trigger_time, entry.action_id))
        if first and key in self._entries:
            return False  # ConditionalCheckFailedException, as the adapter reads it
        stored = replace(entry)
        self._entries[key] = stored
        self.writes.append(stored)
        return True

    def first_within(
        self, service_arn: str, kind: str, window: timedelta, now: datetime, claimant: str
    ) -> bool:
        claimed = self._claims.get((service_arn, kind))
        if claimed is not None and claimed[0] > now - window and claimed[1] != claimant:
            return False  # ConditionalCheckFailedException, as the adapter reads it
        self._claims[(service_arn, kind)] = (now, claimant)
        return True

    def history(self, service_arn: str, limit: int = 50) -> list[LedgerEntry]:
        # The adapter queries by sort key, newest first, then orders by recorded_at.
        newest = sorted(
            ((sk, e) for (arn, sk), e in self._entries.items() if arn == service_arn),
            key=lambda item: item[0],
            reverse=True,
        )[:limit]
        return sorted((e for _, e in newest), key=lambda e: e.recorded_at, reverse=True)

    def recorded_between(
        self, service_arn: str, kind: str, start: datetime, end: datetime
    ) -> list[LedgerEntry]:
        return [
            e
            for e in self.history(service_arn, limit=200)
            if e.kind == kind and start <= e.recorded_at < end
        ]

    def state(self, service_arn: str) -> ServiceState:
        stored = self._states.get(service_arn)
        if stored is None:
            return ServiceState(service_arn=service_arn)
        return load_state(*stored)

    def save_state(self, state: ServiceState) -> ServiceState:
        stored = self._states.get(state.service_arn)
        current = stored[1] if stored else 0
        if current != state.version:
            raise ConflictError(f"state of {state.service_arn} changed meanwhile")
        self._states[state.service_arn] = (dump_state(state), state.version + 1)
        self.saved_states.append(self.state(state.service_arn))
        return replace(state, version=state.version + 1)

    def quarantine(self, entry: Quarantine) -> None:
        self._quarantine[entry.digest] = entry

    def quarantined(self, digests: set[str] | None = None) -> dict[str, Quarantine]:
        return {d: q for d, q in self._quarantine.items() if digests is None or d in digests}

    def release(self, digest: str) -> bool:
        return self._quarantine.pop(digest, None) is not None

    def note_failure(self, service_arn: str, action_id: str) -> int:
        # An atomic ADD in DynamoDB: each call counts once.
        key = (service_arn, action_id)
        self._failures[key] = self._failures.get(key, 0) + 1
        return self._failures[key]

    def forget_failures(self, service_arn: str, action_id: str) -> None:
        self._failures.pop((service_arn, action_id), None)
