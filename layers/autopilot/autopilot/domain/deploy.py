"""Should this push be rolled out to this service, and to which containers?

The same decision runs twice: in the planner, to queue only useful work, and in the
executor, serialized per service, against fresh state (the authoritative run).
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from autopilot.domain.config import InvalidConfigError, ServiceConfig, read_config
from autopilot.domain.decisions import Skip
from autopilot.domain.fleet import ImageFacts, ImagePush, Service, short_digest
from autopilot.domain.images import InvalidImageReferenceError, parse_image, same_ecr_repository
from autopilot.domain.state import ServiceState
from autopilot.domain.tracking import PolicyKind, TrackingPolicy, highest_version, parse_version


class Rollout(msgspec.Struct, frozen=True):
    """Pin these containers to the pushed digest."""

    images: Mapping[str, str]


DeployDecision = Rollout | Skip


def containers_from_repository(service: Service, push: ImagePush) -> dict[str, str]:
    """Container name to current image, for the containers whose image is this repository."""
    found: dict[str, str] = {}
    for container in service.containers:
        try:
            image = parse_image(container.image)
        except InvalidImageReferenceError:
            continue
        if same_ecr_repository(image, push.account, push.region, push.repository):
            found[container.name] = container.image
    return found


def managed_config(service: Service) -> tuple[ServiceConfig, TrackingPolicy] | Skip:
    """The service's configuration if the automation may change it at all, else why not."""
    try:
        config = read_config(service.tags)
    except InvalidConfigError as exc:
        return Skip(f"invalid configuration: {exc}", "invalid-config")
    if config.track is None:
        return Skip("not opted in (no autopilot:track tag)", "not-opted-in")
    if config.track.kind is PolicyKind.OFF:
        return Skip("autopilot:track is off", "tracking-off")
    if service.status != "ACTIVE":
        return Skip(f"service is {service.status}", "inactive")
    if service.deployment_controller not in {"ECS", "CODE_DEPLOY"}:
        return Skip(
            f"{service.deployment_controller} deployment controller is managed elsewhere",
            "external-controller",
        )
    return config, config.track


def decide_deploy(
    push: ImagePush,
    service: Service,
    pushed_image: ImageFacts | None = None,
    running_images: Mapping[str, ImageFacts] | None = None,
) -> DeployDecision:
    """`pushed_image` and `running_images` (by digest) are ECR's view; the planner may omit them."""
    managed = managed_config(service)
    if isinstance(managed, Skip):
        return managed
    config, track = managed

    targets = containers_from_repository(service, push)
    if config.containers is not None:
        targets = {name: image for name, image in targets.items() if name in config.containers}
    if not targets:
        return Skip(f"no container uses repository {push.repository}", "not-using-repository")
    if not track.accepts(push.tag):
        return Skip(f"tag {push.tag} does not match {track}", "tag-not-tracked")
    if all(push.digest in image for image in targets.values()):
        return Skip(f"already runs {short_digest(push.digest)}", "already-running")

    if track.kind is PolicyKind.SEMVER:
        downgrade = _downgrade(push, targets, running_images or {})
        if downgrade is not None:
            return downgrade
    if pushed_image is not None and running_images is not None:
        older = _older_push(pushed_image, targets, running_images)
        if older is not None:
            return older

    # Pinned on the registry endpoint the container already pulls from (dual-stack, FIPS...).
    return Rollout(
        {name: str(parse_image(targets[name]).pinned(push.digest)) for name in sorted(targets)}
    )


def _downgrade(
    push: ImagePush, targets: Mapping[str, str], running_images: Mapping[str, ImageFacts]
) -> Skip | None:
    """Semver never goes down: the running version is read from ECR's tags of the running
    digest, or from the image's own tag when it is not pinned yet."""
    candidate = parse_version(push.tag)
    for image in targets.values():
        reference = parse_image(image)
        facts = running_images.get(reference.digest) if reference.digest else None
        tags = [*(facts.tags if facts else ()), *([reference.tag] if reference.tag else [])]
        current = highest_version(tags)
        if current is not None and candidate is not None and candidate < current:
            return Skip(f"would downgrade {current} to {candidate}", "downgrade")
    return None


def _older_push(
    pushed: ImageFacts, targets: Mapping[str, str], running_images: Mapping[str, ImageFacts]
) -> Skip | None:
    for image in targets.values():
        digest = parse_image(image).digest
        running = running_images.get(digest) if digest else None
        if running is not None and running.pushed_at > pushed.pushed_at:
            return Skip(
                f"older push: running image was pushed {running.pushed_at.isoformat()}, "
                f"this one {pushed.pushed_at.isoformat()}",
                "older-push",
            )
    return None


def deploy_hold(
    state: ServiceState, quarantined_digest: bool, alarms_firing: tuple[str, ...]
) -> Skip | None:
    """Reasons to keep a push away from a service even though its policy accepts it."""
    if quarantined_digest:
        return Skip(
            "digest is quarantined after a rollback: autopilot release DIGEST lets it deploy",
            "quarantined",
        )
    lift = f"autopilot resume {_label(state.service_arn)} lifts it"
    if state.paused:
        return Skip(f"service is paused: {lift}", "paused")
    if state.frozen:
        return Skip(f"service is frozen ({state.frozen_reason}): {lift}", "frozen")
    if alarms_firing:
        # ECS ignores deployment alarms already in ALARM, and a rollback would have no target.
        return Skip(f"held: alarm {', '.join(alarms_firing)} is in ALARM", "alarm-firing")
    return None


def _label(service_arn: str) -> str:
    """cluster/service, as the CLI takes it."""
    return "/".join(service_arn.rsplit("/", 2)[-2:])
