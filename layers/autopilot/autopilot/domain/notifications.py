"""Messages an on-call engineer understands at a glance: what, where, from what to what, why."""

from __future__ import annotations

from dataclasses import dataclass

from autopilot.domain.fleet import short_digest, task_definition_label
from autopilot.domain.ledger import LedgerEntry, Outcome


@dataclass(frozen=True, slots=True)
class Notification:
    subject: str
    text: str
    severity: str  # info | warning | critical


def deploy_notification(entry: LedgerEntry, service_label: str) -> Notification | None:
    """None for outcomes nobody needs to hear about (skips are in the logs and the ledger)."""
    source = (
        task_definition_label(entry.from_task_definition) if entry.from_task_definition else "?"
    )
    target = task_definition_label(entry.to_task_definition) if entry.to_task_definition else "?"
    image = f"{entry.repository}:{entry.tag} ({short_digest(entry.digest)})"
    if entry.outcome is Outcome.DEPLOYED:
        return Notification(
            subject=f"[autopilot] deploying {service_label}: {entry.repository}:{entry.tag}",
            text=(
                f"Deploying {image} to {service_label}.\n"
                f"Task definition {source} -> {target}; "
                f"containers: {', '.join(entry.containers)}.\n"
                f"Deployment: {entry.deployment_id or 'n/a'}. "
                f"Trigger: {entry.trigger} {entry.trigger_id}."
            ),
            severity="info",
        )
    if entry.outcome is Outcome.DRY_RUN:
        return Notification(
            subject=f"[autopilot] dry run: would deploy {service_label}",
            text=(
                f"Dry run: would deploy {image} to {service_label} "
                f"(containers: {', '.join(entry.containers)}). Nothing was changed."
            ),
            severity="info",
        )
    if entry.outcome is Outcome.FAILED:
        return Notification(
            subject=f"[autopilot] FAILED to deploy {service_label}",
            text=(
                f"Could not deploy {image} to {service_label}: {entry.reason}\n"
                f"The service still runs {source}. Trigger: {entry.trigger} {entry.trigger_id}."
            ),
            severity="critical",
        )
    return None
