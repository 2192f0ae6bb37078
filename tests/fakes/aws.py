"""What every fake shares: the account, and errors shaped the way botocore raises them."""

from __future__ import annotations

from botocore.exceptions import ClientError

ACCOUNT = "123456789012"
REGION = "us-east-1"


def client_error(code: str, message: str, operation: str) -> ClientError:
    """A service error as botocore raises it: the adapters match on its code, never its text."""
    return ClientError(
        {"Error": {"Code": code, "Message": message}},
        operation,
    )
