"""Running `autopilot local send` as an operator does, and reading what it prints."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from autopilot_tools.local import fleet
from autopilot_tools.local.runner import LocalApp

ROOT = Path(__file__).resolve().parents[2]
# The `autopilot` command, run from this checkout's code rather than whichever console script
# an install of the project put next to the interpreter.
AUTOPILOT = (sys.executable, "-m", "autopilot_tools.cli")


def clock(at: datetime) -> dict[str, str]:
    """The environment that sets the runner's clock (handlers and the local ECS) to `at`."""
    return {"AUTOPILOT_LOCAL_NOW": at.astimezone(UTC).isoformat().replace("+00:00", "Z")}


def autopilot_on_path(folder: Path) -> Path:
    """A folder holding an `autopilot` executable that runs AUTOPILOT, to put first on PATH."""
    shim = folder / "autopilot"
    shim.write_text(f'#!/bin/sh\nexec {shlex.join(AUTOPILOT)} "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    return folder


@dataclass
class Result:
    code: int
    lines: list[dict[str, Any]]
    stderr: str
    raw_stdout: str = ""

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [line for line in self.lines if line["type"] == kind]

    def action(self, service: str, kind: str) -> dict[str, Any]:
        """The one action of that kind on the service (ECS's events may add others)."""
        [line] = [
            a for a in self.of_type("action") if a["service"] == service and a["kind"] == kind
        ]
        return line

    def outcome(self, service: str) -> str | None:
        for line in self.lines:
            if line.get("service") == service and line["type"] == "action":
                return str(line.get("code") or line["outcome"])
            if line.get("service") == service and line["type"] == "skipped":
                return str(line["code"])
        return None


@dataclass
class Moto:
    endpoint: str
    app: LocalApp
    tmp: Path = Path()  # where a test writes its event files
    now: datetime | None = None  # the runner's clock for the commands run; None: the wall clock

    def send(self, *files: Path | str, env: dict[str, str] | None = None) -> Result:
        """Run `autopilot local send FILE...` in a fresh process, as an operator would."""
        return self.autopilot("local", "send", *[str(f) for f in files], env=env)

    def tick(self, at: datetime) -> Result:
        """The runner's clock moves to `at` (for this and later commands) and the local ECS
        catches up with it (`autopilot local tick`)."""
        self.now = at
        return self.autopilot("local", "tick")

    def autopilot(self, *args: str, env: dict[str, str] | None = None) -> Result:
        """Run `autopilot ARGS...` against the moto server; JSON lines are parsed."""
        completed = subprocess.run(
            [*AUTOPILOT, *args],
            cwd=ROOT,
            env={
                **os.environ,
                "AWS_ENDPOINT_URL": self.endpoint,
                **(clock(self.now) if self.now else {}),
                **(env or {}),
            },
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        lines = [
            json.loads(line)
            for line in completed.stdout.splitlines()
            if line.strip().startswith("{")
        ]
        return Result(completed.returncode, lines, completed.stderr, completed.stdout)


def web_service(moto: Moto, name: str, configuration: dict[str, Any], *tags: str) -> str:
    """prod/NAME: one `web` container on build 1 of web, following web:main, deployed with
    `configuration` (deploymentConfiguration); extra `key=value` tags. Its ARN."""
    with moto.app.aws_environment():
        ecs = boto3.client("ecs")
        definition = ecs.register_task_definition(
            family=name,
            containerDefinitions=[{"name": "web", "image": fleet.image("web", 1), "memory": 512}],
        )["taskDefinition"]["taskDefinitionArn"]
        created = ecs.create_service(
            cluster="prod",
            serviceName=name,
            taskDefinition=definition,
            desiredCount=2,
            deploymentConfiguration=configuration,
            tags=[
                {"key": k, "value": v}
                for k, v in (("autopilot:track", "tag:main"), *(t.split("=", 1) for t in tags))
            ],
        )
    return str(created["service"]["serviceArn"])
