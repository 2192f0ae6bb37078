"""Notifications: an SNS topic, and optionally a chat webhook whose URL is a secret.

The webhook URL is a credential (anyone holding it can post), so it lives in Secrets
Manager, is read once per cold start, and is never logged.
"""

from __future__ import annotations

import json
import urllib.request
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from autopilot.adapters import clients
from autopilot.domain.notifications import Notification
from autopilot.observability import count, logger

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sns import SNSClient

IAM_ACTIONS = ("sns:Publish", "secretsmanager:GetSecretValue")
_WEBHOOK_TIMEOUT_SECONDS = 5


class Notifier:
    def __init__(
        self,
        topic_arn: str,
        webhook_secret_arn: str | None = None,
        sns: SNSClient | None = None,
        secrets: SecretsManagerClient | None = None,
    ) -> None:
        self._topic_arn = topic_arn
        self._webhook_secret_arn = webhook_secret_arn
        self._sns = sns or clients.sns()
        self._secrets = secrets if secrets is not None or not webhook_secret_arn else None
        self._webhook_url: str | None = None

    def send(self, notification: Notification) -> None:
        """Best effort after the fact: the action already happened, so a failed notification
        is logged and counted rather than retried (a retry would re-run the action)."""
        try:
            self._sns.publish(
                TopicArn=self._topic_arn,
                Subject=notification.subject[:100],
                Message=notification.text,
                MessageAttributes={
                    "severity": {"DataType": "String", "StringValue": notification.severity},
                },
            )
        except (ClientError, BotoCoreError):
            logger.exception("notification to SNS failed", extra={"subject": notification.subject})
            count("NotificationFailed")
        if self._webhook_secret_arn:
            self._post_to_webhook(notification)

    def _post_to_webhook(self, notification: Notification) -> None:
        try:
            url = self._webhook()
            body = json.dumps({"text": f"*{notification.subject}*\n{notification.text}"}).encode()
            request = urllib.request.Request(  # noqa: S310 - https URL from our own secret
                url, data=body, headers={"Content-Type": "application/json"}, method="POST"
            )
            with urllib.request.urlopen(request, timeout=_WEBHOOK_TIMEOUT_SECONDS):  # noqa: S310
                pass
        except (ClientError, BotoCoreError, OSError, ValueError) as exc:
            # The exception text may embed the URL: log its type only.
            logger.error("chat webhook post failed", extra={"error_type": type(exc).__name__})
            count("NotificationFailed")

    def _webhook(self) -> str:
        if self._webhook_url is None:
            secrets = self._secrets or clients.secretsmanager()
            secret = secrets.get_secret_value(SecretId=str(self._webhook_secret_arn))
            value = secret["SecretString"].strip()
            if value.startswith("{"):
                value = str(json.loads(value)["url"])
            if not value.startswith("https://") and not value.startswith("http://127.0.0.1"):
                raise ValueError("chat webhook secret must hold an https URL")
            self._webhook_url = value
        return self._webhook_url
