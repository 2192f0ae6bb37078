"""The CLI's contract: one line per failure (what is wrong, what to do), never a traceback
without --debug; exit 0 done, 1 refused or failed, 2 usage or setup; --json anywhere."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from autopilot.adapters import clients
from autopilot_tools.cli import main as cli
from autopilot_tools.cli.errors import explain
from autopilot_tools.cli.operator import OperatorError, resolve_digest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_aws_setup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Given a machine with no AWS configuration at all, and no local server."""
    for name in (
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    clients.reset()
    yield
    clients.reset()


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_no_region_is_one_line_saying_how_to_set_it(
    no_aws_setup: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # When an operator runs status with no region configured
    code = cli.main(["status"])

    # Then exit 2 and one line naming the fix
    assert code == 2
    assert "no AWS region configured: export AWS_DEFAULT_REGION" in one_line(capsys)


def test_no_credentials_is_one_line_saying_how_to_log_in(
    no_aws_setup: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a region but no credentials
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    clients.reset()

    # When status runs (the SDK refuses to sign before any connection is made)
    code = cli.main(["status", "--json"])

    # Then exit 2 and one line
    assert code == 2
    assert "no AWS credentials found: run `aws configure`" in one_line(capsys)


def test_debug_shows_the_traceback(no_aws_setup: None) -> None:
    # When the same failure happens with --debug, the exception is not swallowed
    from botocore.exceptions import NoRegionError  # noqa: PLC0415

    with pytest.raises(NoRegionError):
        cli.main(["--debug", "status"])


def test_outside_the_project_folder_against_a_local_server(
    no_aws_setup: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given AWS_ENDPOINT_URL points at a local server, and the operator is elsewhere
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
    monkeypatch.chdir(tmp_path)

    # When status runs
    code = cli.main(["status"])

    # Then one line says to run it from the project folder
    assert code == 2
    assert "run autopilot from the project folder" in one_line(capsys)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["history", "shop/web", "--limit", "0"], "must be 1 or more, not 0"),
        (["history", "shop/web", "--limit", "x"], "not a whole number"),
        (["report", "--out", "/missing/dir/r.html"], "no folder /missing/dir"),
        (["report", "--resend"], "needs the week"),
        (["rollback"], "required: SERVICE"),
        (["approve", "nonsense"], "name a service as cluster/service, not 'nonsense'"),
        (["reject", "prod/web/extra"], "name a service as cluster/service"),
        (["pause", "/web"], "name a service as cluster/service"),
        (["history", "arn:aws:s3:::bucket"], "not an ECS service ARN"),
        (["redrive", "prod"], "name a service as cluster/service"),
    ],
)
def test_bad_arguments_are_usage_errors(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # When a command is given bad arguments, argparse says so with exit 2 before any AWS call
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert says in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["--json", "history", "shop/web"],
        ["history", "--json", "shop/web"],
        ["history", "shop/web", "--json"],
        ["--json", "local", "seed"],
        ["local", "seed", "--json"],
    ],
)
def test_json_is_accepted_before_or_after_the_subcommand(argv: list[str]) -> None:
    args = cli._parser().parse_args(argv)
    assert args.json is True


def test_json_is_off_unless_asked() -> None:
    assert getattr(cli._parser().parse_args(["status"]), "json", False) is False


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("autopilot ")


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["status"],
        ["history"],
        ["rollback"],
        ["pause"],
        ["resume"],
        ["report"],
        ["release"],
        ["approve"],
        ["reject"],
        ["local"],
        ["local", "send"],
        ["local", "demo"],
        ["local", "server"],
        ["local", "seed"],
        ["local", "push"],
    ],
)
def test_every_command_has_help_with_examples_and_exit_codes(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main([*argv, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "examples:\n  autopilot" in out
    assert "2  usage or setup" in out


def test_an_unreachable_local_server_says_how_to_start_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5999")
    message, code = explain(EndpointConnectionError(endpoint_url="http://127.0.0.1:5999/"))
    assert code == 2
    assert message == (
        "no moto server answers at http://127.0.0.1:5999: start one (autopilot local server) "
        "or fix AWS_ENDPOINT_URL"
    )


def test_an_unreachable_aws_endpoint_names_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    url = "https://cloudformation.eu-west-1.amazonaws.com/"
    message, code = explain(EndpointConnectionError(endpoint_url=url))
    assert (code, message) == (
        2,
        f"cannot reach AWS at {url}: check the network, AWS_DEFAULT_REGION and AWS_ENDPOINT_URL",
    )


def test_access_denied_points_at_the_operator_policy() -> None:
    denied = ClientError(
        {"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "DescribeStacks"
    )
    message, code = explain(denied)
    assert code == 1
    assert "OperatorPolicyArn" in message
    assert "OperatorRoleArn" in message


def test_an_unexpected_error_is_one_line_suggesting_debug() -> None:
    message, code = explain(KeyError("LedgerTableName"))
    assert code == 1
    assert message.endswith("run again with --debug for the traceback")


QUARANTINED = {
    "sha256:" + "3f4e2a1b9c0d" + "a" * 52,
    "sha256:" + "3f4e2a1b9c0d" + "b" * 52,
    "sha256:" + "0123456789ab" + "c" * 52,
}


@pytest.mark.parametrize(
    "given",
    ["0123456789ab", "sha256:0123456789ab", "0123456789abccc", "SHA256:0123456789AB"],
)
def test_release_takes_a_unique_prefix_of_12_or_more(given: str) -> None:
    assert resolve_digest(given, QUARANTINED) == "sha256:0123456789ab" + "c" * 52


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("0123456789a", "too short"),
        ("3f4e2a1b9c0d", "matches 2 quarantined digests"),
        ("ffffffffffff", "is not quarantined"),
    ],
)
def test_release_refuses_a_short_ambiguous_or_unknown_digest(given: str, says: str) -> None:
    with pytest.raises(OperatorError, match=says):
        resolve_digest(given, QUARANTINED)
