"""The cost report end to end: `autopilot local send` with the schedule's document sends the
email through the local SES; `autopilot report` writes the HTML; headless Chromium renders it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

from autopilot.domain.report import Week
from autopilot.local import costs
from tests.e2e.harness import Moto

WEEK = Week.parse("2026-W46")
BAR = (0x2E, 0x6B, 0xD8)  # the chart's bars
MOVER = (0xFE, 0xF3, 0xF2)  # the background of a big mover's row in the services table


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "headless Chromium is needed: apt-get install chromium (Debian's package)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def screenshot(html: Path, png: Path) -> Image.Image:
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                chromium(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--window-size=800,1600",
                f"--screenshot={png}",
                html.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    return Image.open(png).convert("RGB")


def pixels_like(image: Image.Image, color: tuple[int, int, int]) -> int:
    """How many pixels are (within a little anti-aliasing) of this color."""
    found = 0
    for count, pixel in image.getcolors(maxcolors=1 << 20) or []:
        assert isinstance(pixel, tuple)
        if all(abs(int(a) - b) <= 6 for a, b in zip(pixel, color, strict=True)):
            found += count
    return found


def test_the_report_is_mailed_and_renders_with_its_chart_and_table(
    moto: Moto, services: dict[str, str], tmp_path: Path
) -> None:
    # Given two weeks of cost in Cost Explorer and a week of Container Insights metrics
    costs.load_costs(moto.endpoint, WEEK)
    with moto.app.aws_environment():
        costs.load_utilization(WEEK)
    document = tmp_path / "cost-report.json"
    document.write_text(json.dumps({"action": "cost-report", "week": str(WEEK)}))

    # When the weekly schedule's document is sent
    sent = moto.send(document)

    # Then the report was emailed through SES with the week and total in its subject
    [result] = sent.of_type("result")
    total = costs.weekly_total(WEEK)
    assert result["total"] == str(total)
    with urllib.request.urlopen(f"{moto.endpoint}/moto-api/data.json", timeout=10) as response:
        raw = json.loads(response.read())["ses"]["RawMessage"]
    assert f"Subject: ECS cost {WEEK}: ${total:,.2f}" in raw[-1]["raw_data"]

    # When `autopilot report` renders the same week locally
    costs.load_costs(moto.endpoint, WEEK)
    out = tmp_path / "report.html"
    rendered = moto.autopilot("report", "--week", str(WEEK), "--out", str(out))
    assert rendered.code == 0, rendered.stderr
    assert f"wrote {out}" in rendered.raw_stdout

    # Then in a real browser engine the bar chart and the services table are visible
    image = screenshot(out, tmp_path / "report.png")
    assert pixels_like(image, BAR) > 7 * 100 * 10  # seven bars, each wide and tall
    assert pixels_like(image, MOVER) > 2 * 400 * 20  # the big movers' rows
