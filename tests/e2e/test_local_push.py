"""`autopilot local push`: a new build in the local ECR, and the event ECR sends for it."""

from __future__ import annotations

import socket
import subprocess

from autopilot_tools.local.fleet import digest_of
from tests.e2e.harness import AUTOPILOT, ROOT, Moto


def test_push_puts_a_new_build_and_sends_the_ecr_event(
    moto: Moto, services: dict[str, str]
) -> None:
    # Given the seeded fleet (web build 1 runs on prod/web)
    # When a new build of web is pushed under main
    result = moto.autopilot("local", "push", "web", "main")

    # Then it is build 2, its full digest is printed, and the push deploys it
    assert result.code == 0, result.stderr
    [pushed] = result.of_type("pushed")
    assert pushed == {
        "type": "pushed",
        "repository": "web",
        "tag": "main",
        "build": 2,
        "digest": digest_of("web", 2),
    }
    assert result.outcome("prod/web") == "deployed"
    assert "Traceback" not in result.stderr


def test_push_without_the_event_only_pushes(moto: Moto, services: dict[str, str]) -> None:
    # When a build is pushed with --no-event, twice
    first = moto.autopilot("local", "push", "web", "main", "--no-event")
    second = moto.autopilot("--json", "local", "push", "web", "main", "--no-event")

    # Then each is a new build, and nothing was deployed
    assert [line["type"] for line in first.lines + second.lines] == ["pushed", "pushed"]
    assert second.lines[0]["build"] == first.lines[0]["build"] + 1 == 3


def test_a_push_to_a_missing_repository_is_one_line(moto: Moto, services: dict[str, str]) -> None:
    result = moto.autopilot("local", "push", "nope", "main")
    assert result.code == 2
    assert result.stderr.splitlines() == [
        "autopilot: no repository nope in the local ECR: "
        "push to one of api, log-router, web, worker"
    ]


def test_a_server_on_a_taken_port_says_so_and_exits() -> None:
    # Given something already listens on a port
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        # When a local server is started on it
        completed = subprocess.run(
            [*AUTOPILOT, "local", "server", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    # Then it exits at once with one line naming the port and what to do
    assert completed.returncode == 2
    assert completed.stderr.startswith(f"autopilot: port {port} is taken")
    assert "Traceback" not in completed.stderr
