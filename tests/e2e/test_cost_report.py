"""The cost report end to end: `autopilot local send` with the schedule's document sends the
email through the local SES; `autopilot report` writes the HTML; headless Chromium renders it."""

from __future__ import annotations

import email
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from autopilot.domain.report import CLUSTER_TAG, SERVICE_TAG, Week
from autopilot_tools.local import costs
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
    # Given two weeks of cost in Cost Explorer, two services having moved by more than $5 and
    # 20% (one new this week, one gone), and a week of Container Insights metrics
    load_with_movers(moto.endpoint)
    with moto.app.aws_environment():
        costs.load_utilization(WEEK)
    document = tmp_path / "cost-report.json"
    document.write_text(json.dumps({"action": "cost-report", "week": str(WEEK)}))

    # When the weekly schedule's document is sent
    sent = moto.send(document)

    # Then the report was emailed through SES with the week and total in its subject
    [result] = sent.of_type("result")
    total = costs.weekly_total(WEEK) + 7 * Decimal("3.00")
    assert Decimal(result["total"]) == total
    with urllib.request.urlopen(f"{moto.endpoint}/moto-api/data.json", timeout=10) as response:
        raw = json.loads(response.read())["ses"]["RawMessage"]
    assert f"Subject: ECS cost {WEEK}: ${total:,.2f}" in raw[-1]["raw_data"]

    # When `autopilot report` renders the same week locally (Cost Explorer answers the same)
    out = tmp_path / "report.html"
    rendered = moto.autopilot("report", "--week", str(WEEK), "--out", str(out))
    assert rendered.code == 0, rendered.stderr
    assert f"wrote {out}" in rendered.raw_stdout

    # Then in a real browser engine the bar chart and the services table are visible
    image = screenshot(out, tmp_path / "report.png")
    assert pixels_like(image, BAR) > 7 * 100 * 10  # seven bars, each wide and tall
    assert pixels_like(image, MOVER) > 2 * 400 * 20  # the big movers' rows


def load_with_movers(endpoint: str) -> None:
    """The demo's costs, plus prod/search at $3 a day from this week on and prod/batch at $2 a
    day until last week: two big movers."""
    by_service = costs.cost_and_usage_results(WEEK)
    for result in by_service["ResultsByTime"]:
        this_week = result["TimePeriod"]["Start"] >= WEEK.start.isoformat()
        name, amount = ("search", "3.00") if this_week else ("batch", "2.00")
        result["Groups"].append(
            {
                "Keys": [f"{CLUSTER_TAG}$prod", f"{SERVICE_TAG}${name}"],
                "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}},
            }
        )
    body = json.dumps({"results": [by_service, costs.usage_type_results(WEEK)]}).encode()
    request = urllib.request.Request(
        f"{endpoint}/moto-api/static/ce/cost-and-usage-results", data=body, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


# -- a cluster deleted mid-week; each week mailed once -------------------------------------------


def sent_mail(endpoint: str) -> list[str]:
    """The raw emails moto's SES has taken, oldest first."""
    with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=10) as response:
        return [m["raw_data"] for m in json.loads(response.read())["ses"]["RawMessage"]]


def load_costs_with_a_cluster_deleted_on_wednesday(endpoint: str) -> Decimal:
    """The demo's costs, plus legacy/batch at $3 a day until its cluster was deleted on
    Wednesday (ECS no longer knows the cluster: ClusterNotFoundException). Returns the total."""
    by_service = costs.cost_and_usage_results(WEEK)
    deleted_on = WEEK.start + timedelta(days=2)
    for result in by_service["ResultsByTime"]:
        if result["TimePeriod"]["Start"] <= deleted_on.isoformat():
            result["Groups"].append(
                {
                    "Keys": [f"{CLUSTER_TAG}$legacy", f"{SERVICE_TAG}$batch"],
                    "Metrics": {"UnblendedCost": {"Amount": "3.00", "Unit": "USD"}},
                }
            )
    body = json.dumps({"results": [by_service, costs.usage_type_results(WEEK)]}).encode()
    request = urllib.request.Request(
        f"{endpoint}/moto-api/static/ce/cost-and-usage-results", data=body, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10):
        pass
    return costs.weekly_total(WEEK) + 3 * Decimal("3.00")


def test_a_cluster_deleted_mid_week_is_reported_and_a_retried_delivery_mails_once(
    moto: Moto, services: dict[str, str], tmp_path: Path
) -> None:
    # Given legacy/batch cost money until its cluster was deleted on Wednesday
    total = load_costs_with_a_cluster_deleted_on_wednesday(moto.endpoint)
    document = tmp_path / "cost-report.json"
    document.write_text(json.dumps({"action": "cost-report", "week": str(WEEK)}))

    # When the schedule's document is sent, and then delivered again (a retried delivery)
    first = moto.send(document)
    again = moto.send(document)

    # Then the report went out once, with the deleted cluster's cost, marked deleted
    assert first.code == 0, first.stderr
    [result] = first.of_type("result")
    assert (result["delivery"], result["total"]) == ("sent", str(total))
    [mail] = sent_mail(moto.endpoint)
    assert f"Subject: ECS cost {WEEK}: ${total:,.2f}" in mail
    text = email.message_from_string(mail)
    plain = next(p for p in text.walk() if p.get_content_type() == "text/plain")
    body = plain.get_payload(decode=True)
    assert isinstance(body, bytes)
    assert "legacy/batch (cluster deleted)" in body.decode()
    # And the retried delivery sent nothing and said so
    [repeated] = again.of_type("result")
    assert repeated == {**result, "delivery": "already-sent"}


class _DropsFirstSesAnswer(http.server.BaseHTTPRequestHandler):
    """A loopback proxy to the moto server that passes every request on, but closes the
    connection instead of returning SES's answer to the first SendRawEmail: SES took the
    email, the caller never hears so."""

    upstream = ""
    dropped = 0

    def do_POST(self) -> None:
        self._forward()

    def do_GET(self) -> None:
        self._forward()

    def do_PUT(self) -> None:
        self._forward()

    def do_DELETE(self) -> None:
        self._forward()

    def do_HEAD(self) -> None:
        self._forward()

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        request = urllib.request.Request(
            self.upstream + self.path, data=body or None, headers=headers, method=self.command
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, answer, reply_headers = response.status, response.read(), response.headers
        except urllib.error.HTTPError as failed:
            status, answer, reply_headers = failed.code, failed.read(), failed.headers
        if b"Action=SendRawEmail" in body and not type(self).dropped:
            type(self).dropped += 1
            self.close_connection = True
            return
        self.send_response(status)
        for name, value in reply_headers.items():
            if name.lower() not in {"transfer-encoding", "connection", "content-length"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        """Quiet: pytest shows failures, not every request."""


@pytest.fixture
def lossy_proxy(moto: Moto) -> Iterator[str]:
    _DropsFirstSesAnswer.upstream = moto.endpoint
    _DropsFirstSesAnswer.dropped = 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _DropsFirstSesAnswer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_email_whose_answer_was_lost_is_not_sent_again_until_a_person_resends_it(
    moto: Moto, services: dict[str, str], tmp_path: Path, lossy_proxy: str
) -> None:
    # Given SES will take the report's email but its answer will not come back
    costs.load_costs(moto.endpoint, WEEK)
    document = tmp_path / "cost-report.json"
    document.write_text(json.dumps({"action": "cost-report", "week": str(WEEK)}))
    through_proxy = {"AWS_ENDPOINT_URL": lossy_proxy}

    # When the schedule's document is sent, and delivered again
    first = moto.send(document, env=through_proxy)
    again = moto.send(document, env=through_proxy)

    # Then one email only; both runs say it may have been sent and how to resend it
    assert first.code == 0, first.stderr
    assert [r["delivery"] for r in first.of_type("result") + again.of_type("result")] == [
        "may-have-been-sent",
        "may-have-been-sent",
    ]
    resend = first.of_type("result")[0]["resend"]
    assert resend == f"autopilot report --week {WEEK} --resend"
    assert len(sent_mail(moto.endpoint)) == 1
    # And the team was told once, with the command
    [note] = first.of_type("notification")
    assert resend in note["text"]
    assert again.of_type("notification") == []

    # When a person resends it, as the notification says
    costs.load_costs(moto.endpoint, WEEK)
    resent = moto.autopilot("--json", *resend.split()[1:])

    # Then exactly one more email went out, and the week is recorded as sent with its id
    assert resent.code == 0, resent.stderr
    [line] = resent.lines
    assert line["delivery"] == "resent"
    assert len(sent_mail(moto.endpoint)) == 2
    replayed = moto.send(document)
    assert replayed.of_type("result")[0]["delivery"] == "already-sent"
    assert replayed.of_type("result")[0]["message_id"] == line["message_id"]
