"""Sending the report: SES (raw MIME, so it can carry an attachment) and a copy in S3."""

from __future__ import annotations

from email.message import EmailMessage
from typing import TYPE_CHECKING, cast

from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    ProxyConnectionError,
)
from botocore.exceptions import (
    ConnectionError as BotocoreConnectionError,
)

from autopilot.adapters import clients
from autopilot.adapters.aws_errors import error_code
from autopilot.domain.report_delivery import DeliveryRejectedError, DeliveryUncertainError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_ses import SESClient

IAM_ACTIONS = ("s3:PutObject", "ses:SendRawEmail")
# The connection was never made: the request cannot have reached SES.
_NEVER_SENT = (EndpointConnectionError, ConnectTimeoutError, ProxyConnectionError)
# Read timeouts, dropped connections, TLS errors: the request may have gone out.
_ANSWER_LOST = (HTTPClientError, BotocoreConnectionError)


def single_attempt_ses() -> SESClient:
    """SendRawEmail is not idempotent, and botocore retries a read timeout or a dropped
    connection by sending the request again: a second email. So one attempt, and the caller's
    claim on the week settles what a failure means. Timeouts bound the call to 25 s."""
    import boto3  # noqa: PLC0415 - deferred like the shared factory's

    config = Config(
        retries={"mode": "standard", "total_max_attempts": 1},
        user_agent_extra="ecs-autopilot",
        connect_timeout=5,
        read_timeout=20,
    )
    return cast("SESClient", boto3.session.Session().client("ses", config=config))


class Mailer:
    def __init__(
        self,
        sender: str,
        recipients: list[str],
        bucket: str,
        ses: SESClient | None = None,
        s3: S3Client | None = None,
    ) -> None:
        self._sender = sender
        self._recipients = recipients
        self._bucket = bucket
        self._ses = ses or single_attempt_ses()
        self._s3 = s3 or clients.s3()

    def send(self, message: EmailMessage) -> str:
        """SES's message id. DeliveryRejectedError: SES answered with an error, nothing was
        sent. DeliveryUncertainError: the request may have reached SES, the answer was lost."""
        message["From"] = self._sender
        message["To"] = ", ".join(self._recipients)
        try:
            response = self._ses.send_raw_email(
                Source=self._sender,
                Destinations=self._recipients,
                RawMessage={"Data": message.as_bytes()},
            )
        except ClientError as exc:
            raise DeliveryRejectedError(f"SES refused the email ({error_code(exc)})") from exc
        except _NEVER_SENT as exc:
            raise DeliveryRejectedError(f"SES could not be reached ({type(exc).__name__})") from exc
        except _ANSWER_LOST as exc:
            raise DeliveryUncertainError(
                f"the request may have reached SES, but its answer was lost ({type(exc).__name__})"
            ) from exc
        return response["MessageId"]

    def store(self, key: str, body: str, content_type: str) -> str:
        self._s3.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=body.encode("utf-8"),
            ContentType=content_type,
            ServerSideEncryption="AES256",
        )
        return f"s3://{self._bucket}/{key}"
