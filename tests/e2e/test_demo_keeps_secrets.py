"""SLOW (about a minute): the whole local demo, logging at DEBUG, with a chat webhook secret
configured, never shows that secret anywhere.

The demo runs as `autopilot local demo` does (`run_demo` in a fresh process), with one addition:
once its embedded moto server is up, a Secrets Manager secret holding a canary webhook URL is
created there and its ARN handed to the functions as the ChatWebhookSecretArn parameter (the
local runner reads AUTOPILOT_PARAMETER_<Name> when it resolves `!Ref`). The canary's host is
under `.invalid`, a top-level domain that never resolves: every post fails, as it may (it is
best effort), and no test ever reaches a real chat service.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.e2e.harness import ROOT

pytestmark = pytest.mark.e2e

# Runs the demo in a fresh process; argv: project root, secret value.
_DEMO_WITH_SECRET = """
import os, sys
from pathlib import Path

import boto3

from autopilot_tools.local import demo
from autopilot_tools.local.runner import ACCOUNT, REGION

start = demo.start_moto_server


def start_with_secret(port=0):
    server, endpoint = start(port)
    created = boto3.client(
        "secretsmanager",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_secret(Name="autopilot/chat-webhook", SecretString=sys.argv[2])
    assert created["ARN"].startswith(f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:")
    os.environ["AUTOPILOT_PARAMETER_ChatWebhookSecretArn"] = created["ARN"]
    return server, endpoint


demo.start_moto_server = start_with_secret
sys.exit(demo.run_demo(Path(sys.argv[1])))
"""


def project_copy(folder: Path) -> Path:
    """The demo reads template.yaml and functions/ under its root and writes demo-output/
    there: a root of links keeps this run's output away from the developer's."""
    for name in ("template.yaml", "functions"):
        (folder / name).symlink_to(ROOT / name)
    return folder


def test_slow_the_whole_demo_at_debug_never_shows_the_webhook_secret(tmp_path: Path) -> None:
    # Given a chat webhook secret whose URL carries a recognisable canary, and DEBUG logging
    canary = f"canary-SECRET-{uuid.uuid4().hex}"
    host = "hooks.autopilot-canary.invalid"
    secret = json.dumps({"url": f"https://{host}/services/T000/B000/{canary}"})
    root = project_copy(tmp_path)
    layer = str(ROOT / "layers" / "autopilot")
    tools = str(ROOT / "tools")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            filter(None, [layer, tools, str(ROOT), os.environ.get("PYTHONPATH")])
        ),
        "LOG_LEVEL": "DEBUG",
        "POWERTOOLS_LOG_LEVEL": "DEBUG",
        "AUTOPILOT_PARAMETER_LogLevel": "DEBUG",
    }

    # When the whole demo is played
    demo = subprocess.run(
        [sys.executable, "-c", _DEMO_WITH_SECRET, str(root), secret],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    # Then it went as expected: a failing webhook never fails an action
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    logs = (root / "demo-output" / "functions.log").read_text(encoding="utf-8")
    # And it ran at DEBUG, and every chat post was tried, refused by the DNS, and said so
    assert '"level":"DEBUG"' in logs
    failures = [
        json.loads(line) for line in logs.splitlines() if "chat webhook post failed" in line
    ]
    assert failures
    assert {(f["error_type"], f["reason"]) for f in failures} == {
        ("WebhookPostError", "host name does not resolve")
    }
    # And neither the secret nor its URL's host appears in anything the demo printed or wrote
    written = {
        "stdout": demo.stdout,
        "stderr": demo.stderr,
        **{
            str(path.relative_to(root)): path.read_text(encoding="utf-8", errors="replace")
            for path in (root / "demo-output").rglob("*")
            if path.is_file()
        },
    }
    assert "demo-output/functions.log" in written
    assert "demo-output/metrics.log" in written  # the EMF records, checked for secrets too
    for where, text in written.items():
        assert canary not in text, f"the webhook secret leaked into {where}"
        assert host not in text, f"the webhook URL leaked into {where}"
    # And the demo ends with the dashboard's figures, computed from those EMF records
    figures = demo.stdout[demo.stdout.index("The dashboard's figures") :]
    assert "Deploys, rollbacks and holds per day: deploys " in figures
    assert "rollbacks 1" in figures
    assert "Push -> deploy started" in figures
