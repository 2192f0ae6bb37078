"""Notifications: an SNS topic, and optionally a chat webhook whose URL is a secret.

The webhook URL is a credential (anyone holding it can post), so it lives in Secrets
Manager, is read once per cold start, and is never logged. Whoever can write that secret
chooses where the executor connects: `adapters/webhook.py` checks the URL and every address
it resolves to before each post.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from autopilot.adapters import clients, webhook
from autopilot.adapters.aws_errors import error_code
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
        *,
        allow_loopback_webhook: bool = False,
        resolve: webhook.Resolve = webhook.system_resolve,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """`allow_loopback_webhook` accepts a webhook on a loopback IP literal, plain http
        included: for the local runner and tests only, never set in a deployed function."""
        self._topic_arn = topic_arn
        self._webhook_secret_arn = webhook_secret_arn
        self._sns = sns or clients.sns()
        self._secrets = secrets
        self._allow_loopback = allow_loopback_webhook
        self._resolve = resolve
        self._tls = tls
        self._target: webhook.WebhookTarget | None = None

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
        # Only the rule or step that failed and the error's type are logged: never the URL,
        # the secret, or an exception's text or traceback (either may quote them).
        try:
            webhook.post_json(
                self._webhook(),
                {"text": f"*{notification.subject}*\n{notification.text}"},
                resolve=self._resolve,
                tls=self._tls_context(),
                timeout=_WEBHOOK_TIMEOUT_SECONDS,
            )
        except webhook.WebhookError as exc:
            self._failed(type(exc).__name__, exc.reason)
        except ClientError as exc:
            self._failed(type(exc).__name__, f"secret could not be read ({error_code(exc)})")
        except BotoCoreError as exc:
            self._failed(type(exc).__name__, "secret could not be read")

    @staticmethod
    def _failed(error_type: str, reason: str) -> None:
        logger.error("chat webhook post failed", extra={"error_type": error_type, "reason": reason})
        count("NotificationFailed")

    def _webhook(self) -> webhook.WebhookTarget:
        """The checked target, read from the secret once; a refused secret is read again
        next time, so fixing it needs no cold start."""
        if self._target is None:
            secrets = self._secrets or clients.secretsmanager()
            secret = secrets.get_secret_value(SecretId=str(self._webhook_secret_arn))
            url = webhook.url_from_secret(secret)
            self._target = webhook.parse_url(url, allow_loopback=self._allow_loopback)
        return self._target

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = webhook.tls_context()
        return self._tls
