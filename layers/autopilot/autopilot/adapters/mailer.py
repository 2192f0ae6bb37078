"""Sending the report: SES (raw MIME, so it can carry an attachment) and a copy in S3."""

from __future__ import annotations

from email.message import EmailMessage
from typing import TYPE_CHECKING

from autopilot.adapters import clients

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_ses import SESClient

IAM_ACTIONS = ("s3:PutObject", "ses:SendRawEmail")


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
        self._ses = ses or clients.ses()
        self._s3 = s3 or clients.s3()

    def send(self, message: EmailMessage) -> str:
        message["From"] = self._sender
        message["To"] = ", ".join(self._recipients)
        response = self._ses.send_raw_email(
            Source=self._sender,
            Destinations=self._recipients,
            RawMessage={"Data": message.as_bytes()},
        )
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
