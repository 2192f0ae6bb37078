"""After `sam build`: import every built handler the way Lambda does, with the runtime's Python.

Run by `make build`, with the built layer on PYTHONPATH:
    python3.13 tests/build_smoke.py .aws-sam/build
It catches a dependency missing from the layer, a handler that fails at import, a compiled
module built for another architecture than the template's (`Architectures`), and
development-only code (the CLI, the local runner: tools/autopilot_tools) found in the layer.

The layer is built for the functions' architecture (arm64), which need not be this machine's:
its compiled modules are then checked by their ELF header, and the import test loads the same
versions of those distributions built for this machine (pip, into a temporary folder) in front
of the layer's. Everything else imported is the built layer's own code.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "ecs-autopilot")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ECSAutopilot")

ROOT = Path(__file__).resolve().parents[1]
# ELF e_machine values (offset 18, little-endian) and what Lambda and platform.machine() call them.
ELF_MACHINES = {0x3E: "x86_64", 0xB7: "arm64"}
HOST = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}
# What only developers and operators run: never in the layer Lambda loads (the dashboard and
# IAM generators included: they write template.yaml and check it, Lambda never imports them).
DEV_ONLY = (
    "autopilot/local",
    "autopilot/cli",
    "autopilot/dashboard.py",
    "autopilot/permissions.py",
    "autopilot_tools",
    "moto",
)


def template_architecture() -> str:
    found = re.search(r"^\s+Architectures: \[(\w+)\]", (ROOT / "template.yaml").read_text(), re.M)
    assert found, "template.yaml declares no Architectures"
    return found.group(1)


def elf_architecture(path: Path) -> str:
    header = path.read_bytes()[:20]
    return ELF_MACHINES.get(int.from_bytes(header[18:20], "little"), f"machine {header[18]:#x}")


def compiled_distributions(layer: Path) -> list[str]:
    """`name==version` of every distribution in the layer that is not pure Python."""
    found = []
    for wheel in sorted(layer.glob("*.dist-info/WHEEL")):
        if "Root-Is-Purelib: false" in wheel.read_text():
            name, version = wheel.parent.name.removesuffix(".dist-info").rsplit("-", 1)
            found.append(f"{name}=={version}")
    return found


def check_architecture(layer: Path, expected: str) -> int:
    failures = 0
    for module in sorted(layer.rglob("*.so")):
        found = elf_architecture(module)
        if found != expected:
            print(
                f"FAIL {module.relative_to(layer)}: built for {found}, the functions run {expected}"
            )
            failures += 1
    print(f"{'ok' if not failures else 'FAIL'}   compiled modules are {expected}")
    return failures


def native_stand_ins(layer: Path, folder: Path) -> None:
    """The layer's compiled distributions, same versions, for this machine: first on sys.path."""
    wanted = compiled_distributions(layer)
    if wanted:
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"),
                *("--only-binary=:all:", "--target", str(folder), *wanted),
            ],
            check=True,
        )
    sys.path.insert(0, str(folder))
    print(
        f"ok   this machine's builds of {', '.join(wanted) or 'nothing'} stand in for the layer's"
    )


def import_handlers(build: Path) -> int:
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
    return failures


def main(build: Path) -> int:
    layer = build / "AutopilotLayer" / "python"
    expected = template_architecture()
    failures = check_architecture(layer, expected)
    for name in DEV_ONLY:
        if (layer / name).exists():
            print(f"FAIL layer: {name} is development-only and must not be in {layer}")
            failures += 1
    with tempfile.TemporaryDirectory() as folder:
        if HOST.get(platform.machine().lower()) != expected:
            native_stand_ins(layer, Path(folder))
        failures += import_handlers(build)
    print(f"python {sys.version.split()[0]}: {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
