"""Messages an on-call engineer understands at a glance: what, where, from what to what, why,
and what to do next."""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from autopilot.domain.fleet import TRAFFIC_SHIFTING, short_digest, task_definition_label
from autopilot.domain.ledger import GAVE_UP, LedgerEntry, Outcome
from autopilot.domain.scan import ScanOutlook

# Skips a person should hear about: the push was meant for the service and did not go out.
# (Holds, alarm-firing and scan-pending, are told once: the executor says when.)
_HELD = {
    "alarm-firing",
    "scan-pending",
    "scan-blocked",
    "quarantined",
    "frozen",
    "paused",
    "invalid-revision",
    "no-approval-gate",  # autopilot:approve asks for a PAUSE hook the service lacks
}
_NO_GATE = "Or remove the autopilot:scan tag from the service to deploy without a scan gate."


class Notification(msgspec.Struct, frozen=True):
    subject: str
    text: str
    severity: str  # info | warning | critical


def service_label(service_arn: str) -> str:
    return "/".join(service_arn.rsplit("/", 2)[-2:])


def _revision(arn: str) -> str:
    return task_definition_label(arn) if arn else "?"


def compose(
    entry: LedgerEntry,
    builder: Callable[[LedgerEntry, str], Notification | None] | None,
    extra_text: str = "",
) -> Notification | None:
    """The message about a finished entry, from its kind's builder (registered with the action;
    None: the kind tells nobody). None for outcomes nobody needs to hear about (they are in the
    logs and the ledger)."""
    label = service_label(entry.service_arn)
    if entry.outcome is Outcome.FAILED and entry.code == GAVE_UP:
        # Any kind of action: what its own message would say ("still runs", "deployment
        # failed") is not known after attempts that stopped anywhere.
        return _gave_up(entry, label)
    notification = builder(entry, label) if builder else None
    if notification is None:
        return None
    if entry.requested_by:
        extra_text = "\n".join(
            t for t in (extra_text, f"Sent by {entry.requested_by} (as SQS authenticated it).") if t
        )
    if extra_text:
        notification = Notification(
            notification.subject, f"{notification.text}\n{extra_text}", notification.severity
        )
    return notification


def _gave_up(entry: LedgerEntry, label: str) -> Notification:
    return Notification(
        f"[autopilot] {entry.kind} on {label} FAILED: given up after every attempt",
        f"The {entry.kind} action on {label} ({entry.trigger} {entry.trigger_id}) was given "
        f"up: {entry.reason}.",
        "critical",
    )


def deploy_notification(entry: LedgerEntry, label: str) -> Notification | None:
    image = f"{entry.repository}:{entry.tag} ({short_digest(entry.digest)})"
    source, target = _revision(entry.from_task_definition), _revision(entry.to_task_definition)
    if entry.outcome is Outcome.DEPLOYED:
        return Notification(
            f"[autopilot] deploying {label}: {entry.repository}:{entry.tag}",
            f"Deploying {image} to {label}.\n"
            f"Task definition {source} -> {target}; containers: {', '.join(entry.containers)}.\n"
            f"Deployment: {entry.deployment_id or 'n/a'}. "
            f"Trigger: {entry.trigger} {entry.trigger_id}.",
            "info",
        )
    if entry.outcome is Outcome.DRY_RUN:
        return Notification(
            f"[autopilot] dry run: would deploy {label}",
            f"Dry run: would deploy {image} to {label} "
            f"(containers: {', '.join(entry.containers)}). Nothing was changed.",
            "info",
        )
    if entry.outcome is Outcome.FAILED:
        return Notification(
            f"[autopilot] FAILED to deploy {label}",
            f"Could not deploy {image} to {label}: {entry.reason}\n"
            f"The service still runs {source}. Trigger: {entry.trigger} {entry.trigger_id}.",
            "critical",
        )
    if entry.outcome is Outcome.SKIPPED and entry.code in _HELD:
        return Notification(
            f"[autopilot] not deploying {entry.repository}:{entry.tag} to {label}",
            f"{image} was not deployed to {label}: {entry.reason}.\n"
            f"The service still runs {source}.",
            "warning",
        )
    return None


def alarm_hold_text(max_hours: int) -> str:
    """What happens next to a push an alarm holds back."""
    return (
        "It goes out on its own when the alarm is back to OK, unless it has waited more than "
        f"{max_hours} h by then. A newer push takes its place; you are told once per hold."
    )


def scan_hold_text(  # noqa: PLR0917 - all of it is the hold's context
    outlook: ScanOutlook,
    status: str,
    scan_type: str,
    registry: str,
    repository: str,
    digest: str,
) -> str:
    """What to do about a push that waits for an image scan that will not come by itself."""
    start = (
        f"aws ecr start-image-scan --registry-id {registry} --repository-name {repository} "
        f"--image-id imageDigest={digest}"
    )
    if outlook is ScanOutlook.NOT_SCANNED and scan_type == "ENHANCED":
        return (
            "The registry uses enhanced scanning (Amazon Inspector) and none of its scan-on-push "
            f"or continuous filters matches {repository}: the image is never scanned, so this "
            "push stays held.\n"
            f"To scan it: add a filter matching {repository} to the registry's scanning "
            "configuration (ECR console: Private registry > Settings > Scanning), then push "
            "the image again.\n" + _NO_GATE
        )
    if outlook is ScanOutlook.NOT_SCANNED:
        return (
            f"ECR does not scan {repository} on push (basic scanning; no scan-on-push filter "
            "or repository setting covers it): no scan result will come, so this push stays "
            "held.\n"
            f"To release this push: {start} (it deploys when the scan passes).\n"
            f"To scan every push: add a scan-on-push filter matching {repository} (ECR console: "
            "Private registry > Settings > Scanning).\n" + _NO_GATE
        )
    if outlook is ScanOutlook.ENDED:
        return (
            f"ECR's scan of this image ended {status}: no result the gate can pass will come, "
            "so this push stays held.\n"
            f"To scan it again (basic scanning): {start}.\n"
            "An image ECR cannot scan (UNSUPPORTED_IMAGE) never passes. " + _NO_GATE
        )
    return (
        f"{repository} is in registry {registry}, whose scanning configuration this account "
        f"cannot read: if that registry does not scan {repository} on push, no scan result "
        "will come and this push stays held.\n" + _NO_GATE
    )


def resume_notification(entry: LedgerEntry, label: str) -> Notification | None:
    if entry.outcome is Outcome.NOTIFIED:
        image = f"{entry.repository}:{entry.tag} ({short_digest(entry.digest)})"
        return Notification(
            f"[autopilot] held push to {label} expired: {entry.repository}:{entry.tag}",
            f"{image} was held back from {label}: {entry.reason}.\n"
            f"It is not deployed now that the alarm is back to OK; {label} still runs "
            f"{_revision(entry.from_task_definition)}.\n"
            "The next push the service follows deploys as usual; to ship this image, push it "
            "again under a tag the service follows.",
            "warning",
        )
    return None


# How a rollback was made (the entry's `via`), for on-call.
_ROLLBACK_CALLS = {
    "update-service": "UpdateService to {target}",
    "codedeploy": "CodeDeploy deployment {deployment} of {target}",
    "codedeploy-stop": "CodeDeploy deployment {deployment} stopped with rollback",
    "stop-service-deployment": "service deployment {deployment} stopped with rollback",
    "already-rolling-back": "ECS was already rolling back service deployment {deployment}; "
    "nothing sent",
}


def _rollback_how(entry: LedgerEntry) -> str:
    """The strategy, the call that rolled back, and how soon after the trigger it was accepted:
    `BLUE_GREEN: service deployment 4Zq...pT stopped with rollback, accepted 2.1 s after the
    alarm.`"""
    call = _ROLLBACK_CALLS.get(entry.via)
    if call is None:
        return ""
    how = call.format(
        target=_revision(entry.to_task_definition),
        deployment=entry.deployment_id.rsplit("/", 1)[-1] or "?",
    )
    if entry.via == "update-service" and entry.strategy in TRAFFIC_SHIFTING:
        how += f" (ECS runs it as a new {entry.strategy} deployment)"
    if entry.seconds_to_rollback:
        since = "the alarm" if entry.trigger == "alarm" else "the request"
        how += f", accepted {entry.seconds_to_rollback} s after {since}"
    return f"{entry.strategy or 'Deployment strategy unknown'}: {how}.\n"


def rollback_notification(entry: LedgerEntry, label: str) -> Notification | None:
    source, target = _revision(entry.from_task_definition), _revision(entry.to_task_definition)
    if entry.outcome is Outcome.ROLLED_BACK:
        return Notification(
            f"[autopilot] ROLLED BACK {label} to {target}",
            f"Rolled back {label}: {source} -> {target} ({entry.reason}).\n"
            f"{_rollback_how(entry)}"
            f"Trigger: {entry.trigger} {entry.trigger_id}.",
            "critical",
        )
    if entry.outcome is Outcome.NOTIFIED:
        return Notification(
            f"[autopilot] {label} needs a look: not rolling back",
            f"{entry.trigger} {entry.trigger_id} concerns {label}, which runs {source}.\n"
            f"Not rolling back on its own: {entry.reason}.\n"
            f"To act: autopilot rollback {label} [--to REVISION].",
            "warning",
        )
    if entry.outcome is Outcome.FAILED:
        return Notification(
            f"[autopilot] FAILED to roll back {label}",
            f"Could not roll back {label} from {source}: {entry.reason}.",
            "critical",
        )
    return None


def track_notification(entry: LedgerEntry, label: str) -> Notification | None:
    target = _revision(entry.to_task_definition)
    if entry.outcome is Outcome.COMPLETED and entry.seconds_to_traffic_back:
        return Notification(
            f"[autopilot] {label} is back on {target}",
            f"The rollback of {label} is over: {entry.reason}.",
            "info",
        )
    if entry.outcome is Outcome.COMPLETED:
        return Notification(
            f"[autopilot] {label} is on {target}",
            f"The deployment of {target} to {label} completed; it is now the last known good.",
            "info",
        )
    if entry.outcome is Outcome.FAILED:
        return Notification(
            f"[autopilot] deployment FAILED on {label}",
            f"The deployment of {target} to {label} failed: {entry.reason}.",
            "critical",
        )
    return None


def capacity_notification(entry: LedgerEntry, label: str) -> Notification | None:
    """Nightly parking is routine: in the ledger and the weekly report, not in on-call's inbox."""
    if entry.outcome is Outcome.FAILED:
        return Notification(
            f"[autopilot] FAILED to {entry.kind} {label}",
            f"Could not {entry.kind} {label}: {entry.reason}.",
            "critical",
        )
    return None


def operator_notification(entry: LedgerEntry, label: str) -> Notification | None:
    if entry.outcome is Outcome.APPLIED:
        return Notification(
            f"[autopilot] {entry.kind} {label}",
            f"{entry.kind.title()} {label}: {entry.reason}. By {entry.trigger_id}.",
            "info",
        )
    return None


def approval_notification(entry: LedgerEntry, label: str) -> Notification | None:
    """A deployment waits at the service's PAUSE hook (`approval-waiting`), or a person answered
    it (`approve`, `reject`)."""
    revision = _revision(
        entry.to_task_definition if entry.kind != "reject" else entry.from_task_definition
    )
    image = f" ({short_digest(entry.digest)})" if entry.digest else ""
    deployment = entry.deployment_id.rsplit("/", 1)[-1] or "?"
    if entry.kind == "approval-waiting" and entry.outcome is Outcome.NOTIFIED:
        return Notification(
            f"[autopilot] APPROVAL NEEDED: {label} {revision}{image}",
            f"{label}: the deployment of {revision}{image} (from "
            f"{_revision(entry.from_task_definition)}) is {entry.reason}.\n"
            f"Service deployment {deployment}, hook {entry.hook_id}.\n"
            f"To ship it:      autopilot approve {label}\n"
            f"To roll it back: autopilot reject {label} (quarantines its new digests)",
            "warning",
        )
    if entry.kind == "approve" and entry.outcome is Outcome.APPLIED:
        return Notification(
            f"[autopilot] approved {label} {revision}",
            f"{label}: {entry.reason}.\nService deployment {deployment}.",
            "info",
        )
    if entry.kind == "reject" and entry.outcome is Outcome.ROLLED_BACK:
        return Notification(
            f"[autopilot] REJECTED {label} {revision}{image}",
            f"{label}: {entry.reason}.\nService deployment {deployment}.",
            "warning",
        )
    if entry.kind in {"approve", "reject"} and entry.outcome is Outcome.REFUSED:
        return Notification(
            f"[autopilot] FAILED to {entry.kind} {label}",
            f"Could not {entry.kind} {label}: {entry.reason}.",
            "critical",
        )
    return None
