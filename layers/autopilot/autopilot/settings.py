"""One frozen, validated settings object, built once per cold start from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping

import msgspec

from autopilot.domain.scope import parse_clusters

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class SettingsError(RuntimeError):
    """A required setting is missing or malformed: fail the cold start, loudly, by name."""


class Settings(msgspec.Struct, frozen=True):
    ledger_table: str
    actions_queue_url: str
    dead_letter_queue_url: str
    actions_dead_letter_queue_url: str
    notify_topic_arn: str
    chat_webhook_secret_arn: str | None
    dry_run: bool
    ledger_retention_days: int
    freeze_after_rollbacks: int
    held_push_max_hours: int
    managed_clusters: frozenset[str] | None = None  # None: every cluster

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        source = os.environ if env is None else env
        return cls(
            ledger_table=_required(source, "LEDGER_TABLE"),
            actions_queue_url=_required(source, "ACTIONS_QUEUE_URL"),
            dead_letter_queue_url=_required(source, "DEAD_LETTER_QUEUE_URL"),
            actions_dead_letter_queue_url=_required(source, "ACTIONS_DEAD_LETTER_QUEUE_URL"),
            notify_topic_arn=_required(source, "NOTIFY_TOPIC_ARN"),
            chat_webhook_secret_arn=source.get("CHAT_WEBHOOK_SECRET_ARN") or None,
            dry_run=_boolean(source, "DRY_RUN"),
            ledger_retention_days=_positive_int(source, "LEDGER_RETENTION_DAYS"),
            freeze_after_rollbacks=_positive_int(source, "FREEZE_AFTER_ROLLBACKS"),
            # Optional: no value means every cluster (the template's default).
            managed_clusters=parse_clusters(source.get("MANAGED_CLUSTERS", "")),
            held_push_max_hours=_positive_int(source, "HELD_PUSH_MAX_HOURS"),
        )


class ScheduleSettings(msgspec.Struct, frozen=True):
    """Where one-off schedules go (the executor creates one to end a peak), and where Scheduler
    keeps a document it could not deliver."""

    group: str
    function_arn: str
    role_arn: str
    dead_letter_arn: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ScheduleSettings:
        source = os.environ if env is None else env
        return cls(
            group=_required(source, "SCHEDULE_GROUP_NAME"),
            function_arn=_required(source, "SCHEDULE_FUNCTION_ARN"),
            role_arn=_required(source, "SCHEDULER_ROLE_ARN"),
            dead_letter_arn=_required(source, "SCHEDULE_DEAD_LETTER_ARN"),
        )


class IndexSettings(msgspec.Struct, frozen=True):
    """Where the fleet index is kept (adapters/fleet_index.py)."""

    table: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> IndexSettings:
        source = os.environ if env is None else env
        return cls(table=_required(source, "FLEET_INDEX_TABLE"))


class ReportSettings(msgspec.Struct, frozen=True):
    """Who gets the weekly cost report, from whom, and where copies are kept."""

    sender: str
    recipients: tuple[str, ...]
    bucket: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ReportSettings:
        source = os.environ if env is None else env
        recipients = tuple(r.strip() for r in _required(source, "REPORT_RECIPIENTS").split(","))
        return cls(
            sender=_required(source, "REPORT_SENDER"),
            recipients=tuple(r for r in recipients if r),
            bucket=_required(source, "REPORTS_BUCKET"),
        )


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(f"setting {name} is required and is missing or empty")
    return value


def _boolean(env: Mapping[str, str], name: str) -> bool:
    value = _required(env, name).lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"setting {name} must be true or false, got {value!r}")


def _positive_int(env: Mapping[str, str], name: str) -> int:
    value = _required(env, name)
    if not value.isdigit() or int(value) <= 0:
        raise SettingsError(f"setting {name} must be a positive whole number, got {value!r}")
    return int(value)
