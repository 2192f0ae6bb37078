"""The CLI's error contract: any failure becomes one line (what is wrong, what to do) and an
exit code: 1 refused or failed, 2 usage or setup."""

from __future__ import annotations

import os

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)

from autopilot.domain.errors import NotFoundError
from autopilot_tools.cli.operator import OperatorError
from autopilot_tools.local.runner import BadInputError, LocalRunnerError

EXIT_FAILED = 1
EXIT_USAGE = 2

_LOCAL = ("http://127.", "http://localhost")


def explain(exc: BaseException) -> tuple[str, int]:
    """One line for the operator, and the exit code."""
    if isinstance(exc, BadInputError):
        return str(exc), EXIT_FAILED
    if isinstance(exc, LocalRunnerError):
        return str(exc), EXIT_USAGE
    if isinstance(exc, OperatorError | NotFoundError):
        return str(exc), EXIT_FAILED
    if isinstance(exc, NoRegionError):
        return (
            "no AWS region configured: export AWS_DEFAULT_REGION=us-east-1 (your region), or run "
            "`aws configure set region REGION`",
            EXIT_USAGE,
        )
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return (
            "no AWS credentials found: run `aws configure` or `aws sso login`, or set "
            "AWS_PROFILE; to work locally, export AWS_ENDPOINT_URL=http://127.0.0.1:5000",
            EXIT_USAGE,
        )
    if isinstance(exc, EndpointConnectionError):
        return _unreachable(str(exc.kwargs.get("endpoint_url", ""))), EXIT_USAGE
    if isinstance(exc, ClientError):
        return _refused(exc), EXIT_FAILED
    if isinstance(exc, BotoCoreError):
        return f"the AWS call failed: {exc}; check the network and AWS_ENDPOINT_URL", EXIT_USAGE
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or exc}", EXIT_FAILED
    return (
        f"unexpected error ({type(exc).__name__}: {exc}); run again with --debug for the traceback",
        EXIT_FAILED,
    )


def _unreachable(url: str) -> str:
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "").strip()
    if endpoint.startswith(_LOCAL):
        return (
            f"no moto server answers at {endpoint}: start one (autopilot local server) "
            "or fix AWS_ENDPOINT_URL"
        )
    return (
        f"cannot reach AWS at {url or endpoint}: check the network, AWS_DEFAULT_REGION and "
        "AWS_ENDPOINT_URL"
    )


def _refused(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    code = error.get("Code", "")
    operation = exc.operation_name
    if code in {"ExpiredToken", "ExpiredTokenException", "RequestExpired"}:
        return f"your AWS session has expired ({operation}): log in again (aws sso login)"
    if code in {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}:
        return (
            f"AWS refused {operation} ({code}): attach the stack's operator policy "
            "(output OperatorPolicyArn) or assume its role (output OperatorRoleArn)"
        )
    return f"AWS refused {operation} ({code}: {error.get('Message', '')})"
