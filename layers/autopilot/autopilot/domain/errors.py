"""The domain's own errors. Adapters translate AWS error codes into these (never by message)."""

from __future__ import annotations


class AutopilotError(Exception):
    """Base of every error the automation raises on purpose."""


class NotFoundError(AutopilotError):
    """The resource named in an action no longer exists; retrying will not bring it back."""


class ConflictError(AutopilotError):
    """Someone else changed the resource first; the action is re-planned on retry."""
