"""EventBridge events, typed at the edge with Powertools parser models.

Field names follow the AWS documentation of each event; unknown fields are kept out of the
way (pydantic ignores them), so an AWS addition never breaks parsing.
"""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from autopilot.domain.fleet import ImagePush

Digest = Annotated[str, StringConstraints(pattern=r"^sha256:[0-9a-f]{64}$")]


class EcrImageActionDetail(BaseModel):
    model_config = ConfigDict(populate_by_name=True, frozen=True)

    result: str
    repository_name: str = Field(alias="repository-name", min_length=1)
    image_digest: Digest | None = Field(default=None, alias="image-digest")
    action_type: str = Field(alias="action-type")
    image_tag: str | None = Field(default=None, alias="image-tag")
    manifest_media_type: str | None = Field(default=None, alias="manifest-media-type")


class EcrImageActionEvent(EventBridgeModel):
    detail_type: Literal["ECR Image Action"] = Field(alias="detail-type")
    source: Literal["aws.ecr"]
    detail: EcrImageActionDetail


class IgnoredEvent(Exception):  # noqa: N818 - a verdict, not a fault
    """A well-formed event the automation does not act on; the message says why."""


def image_push(event: EcrImageActionEvent) -> ImagePush:
    """The push this event reports, or IgnoredEvent saying why there is nothing to deploy."""
    detail = event.detail
    if detail.action_type != "PUSH":
        raise IgnoredEvent(f"ECR action {detail.action_type} is not a push")
    if detail.result != "SUCCESS":
        raise IgnoredEvent(f"push result is {detail.result}")
    if not detail.image_tag:
        raise IgnoredEvent("push has no tag: nothing can follow it")
    if detail.image_digest is None:
        raise IgnoredEvent("push event carries no image digest")
    return ImagePush(
        event_id=event.id,
        time=event.time,
        account=event.account,
        region=event.region,
        repository=detail.repository_name,
        digest=detail.image_digest,
        tag=detail.image_tag,
    )
