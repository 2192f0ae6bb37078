"""Logs and metrics carry the service and namespace whatever imported them first."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_metrics_have_a_namespace_when_imported_before_the_functions_environment() -> None:
    # Given a process without Powertools' variables (the local runner sets them per function,
    # after its own imports)
    env = {k: v for k, v in os.environ.items() if not k.startswith("POWERTOOLS_")}
    env["PYTHONPATH"] = f"{ROOT / 'layers' / 'autopilot'}{os.pathsep}{ROOT}"

    # When the observability module is imported there
    probe = (
        "import json; from autopilot.observability import logger, metrics; "
        "print(json.dumps([metrics.namespace, logger.service]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    ).stdout

    # Then metrics still have the template's namespace and logs its service name
    assert json.loads(out) == ["ECSAutopilot", "ecs-autopilot"]
