"""`make bench`: cold-start import time and memory of each handler, and the latency of one push
through planner and executor against moto. Targets live here, not in timed tests."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Targets on the 2-core reference machine; a Lambda at 512 MB is in the same range.
COLD_IMPORT_MS = 900
COLD_IMPORT_RSS_MB = 80
PUSH_TO_DEPLOYED_MS = 400  # per service, planner + executor, moto in-process

_IMPORT_PROBE = """
import json, os, resource, sys, time
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ECSAutopilot")
sys.path.insert(0, sys.argv[1])
started = time.perf_counter()
import app
elapsed = (time.perf_counter() - started) * 1000
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"ms": elapsed, "rss_mb": rss}))
"""


def cold_imports() -> dict[str, dict[str, float]]:
    results = {}
    for function in sorted((ROOT / "functions").iterdir()):
        runs = []
        for _ in range(3):
            out = subprocess.run(
                [sys.executable, "-c", _IMPORT_PROBE, str(function)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            runs.append(json.loads(out))
        results[function.name] = {
            "ms": min(r["ms"] for r in runs),
            "rss_mb": max(r["rss_mb"] for r in runs),
        }
    return results


def push_latency(services: int = 2, rounds: int = 5) -> float:
    os.environ.update(
        POWERTOOLS_METRICS_NAMESPACE="ECSAutopilot",
        POWERTOOLS_SERVICE_NAME="ecs-autopilot",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        LOG_LEVEL="WARNING",
    )
    from moto import mock_aws  # noqa: PLC0415

    from autopilot.local import fleet, sample_events  # noqa: PLC0415
    from autopilot.local.runner import LocalApp  # noqa: PLC0415
    from autopilot.local.session import send  # noqa: PLC0415

    timings = []
    with mock_aws():
        app = LocalApp(ROOT, None)
        app.ensure_resources()
        with app.aws_environment():
            fleet.seed_fleet()
        for build in range(2, 2 + rounds):
            with app.aws_environment():
                digest = fleet.push_image("web", "main", build)
            started = time.perf_counter()
            lines = send(app, [sample_events.ecr_push("web", "main", digest)])
            timings.append((time.perf_counter() - started) * 1000 / services)
            deployed = [x for x in lines if x.get("outcome") == "deployed"]
            assert len(deployed) == services, lines
    return statistics.median(timings)


def main() -> int:
    failures = []
    print(f"{'handler':<22}{'cold import':>14}{'peak RSS':>12}")
    for name, result in cold_imports().items():
        print(f"{name:<22}{result['ms']:>11.0f} ms{result['rss_mb']:>9.0f} MB")
        if result["ms"] > COLD_IMPORT_MS:
            failures.append(f"{name}: cold import {result['ms']:.0f} ms > {COLD_IMPORT_MS} ms")
        if result["rss_mb"] > COLD_IMPORT_RSS_MB:
            failures.append(f"{name}: {result['rss_mb']:.0f} MB > {COLD_IMPORT_RSS_MB} MB")
    latency = push_latency()
    print(f"push -> deployed, per service (median of 5, moto in-process): {latency:.0f} ms")
    if latency > PUSH_TO_DEPLOYED_MS:
        failures.append(f"push latency {latency:.0f} ms > {PUSH_TO_DEPLOYED_MS} ms")
    print("\n".join(failures) or "all within targets")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
