"""After `sam build`: import every built handler the way Lambda does, with the runtime's Python.

Run by `make build`, with the built layer on PYTHONPATH:
    python3.13 tests/build_smoke.py .aws-sam/build
It catches a dependency missing from the layer or a handler that fails at import.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "ecs-autopilot")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ECSAutopilot")


def main(build: Path) -> int:
    failures = 0
    for function in sorted(p for p in build.iterdir() if (p / "app.py").is_file()):
        started = time.perf_counter()
        spec = importlib.util.spec_from_file_location(f"built_{function.name}", function / "app.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.path.insert(0, str(function))
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # noqa: BLE001 - report every broken handler, then fail
            print(f"FAIL {function.name}: {type(exc).__name__}: {exc}")
            failures += 1
            continue
        finally:
            sys.path.remove(str(function))
        elapsed = (time.perf_counter() - started) * 1000
        ok = callable(getattr(module, "handler", None))
        failures += 0 if ok else 1
        print(f"{'ok' if ok else 'FAIL'}   {function.name}: handler imported in {elapsed:.0f} ms")
    print(f"python {sys.version.split()[0]}: {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
