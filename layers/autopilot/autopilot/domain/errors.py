"""The domain's own errors. Adapters translate AWS error codes into these (never by message).

Two families matter to the executor: a `PermanentFailureError` finishes the action with a
ledger entry and is never retried (retrying would fail the same way); anything else is
transient and the action is retried, then dead-lettered.
"""

from __future__ import annotations


class AutopilotError(Exception):
    """Base of every error the automation raises on purpose."""


class NotFoundError(AutopilotError):
    """The resource named in an action no longer exists; retrying will not bring it back."""


class ConflictError(AutopilotError):
    """Someone else changed the resource first; the action is re-planned on retry."""


class PermanentFailureError(AutopilotError):
    """The action cannot succeed as asked (invalid revision, unknown service, invalid tags...).

    `code` is the machine-readable reason recorded in the ledger."""

    def __init__(self, message: str, code: str = "invalid-request") -> None:
        super().__init__(message)
        self.code = code
