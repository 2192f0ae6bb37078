"""README's "Your first hour", run exactly as a new user pastes it: line by line in one shell,
against a fresh moto server it starts itself (on a free port instead of 5000, which may be in
use on this machine). Every line must exit 0, and nothing may print a traceback."""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
from pathlib import Path

from tests.e2e.harness import ROOT, autopilot_on_path


def walkthrough() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Your first hour\n", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None, "no ```sh block under 'Your first hour'"
    return [line for line in block.group(1).splitlines() if line.strip()]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_first_hour_runs_as_written(tmp_path: Path) -> None:
    # Given the README's lines, on a free port, each followed by a check of its exit code
    port = str(free_port())
    script = ["trap 'kill $(jobs -p) 2>/dev/null' EXIT"]
    for line in walkthrough():
        script.append(line.replace("5000", port))
        script.append(
            f'rc=$?; [ $rc -eq 0 ] || {{ echo "FAILED ($rc): "{shlex.quote(line)} >&2; exit 1; }}'
        )
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    env["PATH"] = f"{autopilot_on_path(tmp_path)}{os.pathsep}{env.get('PATH', '')}"

    # When a shell runs them from the project folder
    completed = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    # Then every line succeeded and nothing printed a traceback
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "Traceback" not in completed.stdout + completed.stderr
    # And the story happened: deployed, rolled back, released, paused twice
    out = completed.stdout
    assert '"outcome": "deployed"' in out
    assert "rolled-back" in out
    assert "RUNNING QUARANTINED" in out
    assert "already paused: autopilot resume prod/web lifts it" in out
