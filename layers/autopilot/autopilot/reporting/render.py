"""The report as an email: Jinja2 templates (HTML with inline styles and an HTML bar chart that
mail clients render, a plain-text alternative), a CSV attachment, and a subject line."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from email.message import EmailMessage
from functools import cache
from typing import TYPE_CHECKING

from autopilot.domain.report import Report, money, percent, signed_money

if TYPE_CHECKING:
    from jinja2 import Environment

_BAR_WIDTH = 360  # pixels for the largest bar


@cache
def _environment() -> Environment:
    # Imported when a report is rendered, after Cost Explorer answered: a run that stops
    # before (Cost Explorer not enabled, the week already delivered) never loads Jinja2.
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape  # noqa: PLC0415

    environment = Environment(
        loader=PackageLoader("autopilot.reporting", "templates"),
        autoescape=select_autoescape(["html", "html.j2"]),  # not the plain-text template
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["money"] = money
    environment.filters["signed_money"] = signed_money
    environment.filters["percent"] = percent
    return environment


def subject(report: Report) -> str:
    change = percent(report.change_share)
    # A failed source is news this week; a setting left off (Container Insights) is in the notes.
    failed = any(gap.failed for gap in report.gaps)
    missing = " - some details missing, see the notes" if failed else ""
    return (
        f"ECS cost {report.week}: {money(report.total, report.currency)} "
        f"({change} week over week){missing}"
    )


def _bars(report: Report) -> list[tuple[str, str, int]]:
    """(label, amount, width in px) per day of the week, for the HTML bar chart."""
    peak = max(report.daily_totals, default=Decimal(0))
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    return [
        (
            day,
            money(amount, report.currency),
            int(amount / peak * _BAR_WIDTH) if peak > 0 else 0,
        )
        for day, amount in zip(days, report.daily_totals, strict=False)
    ]


def html(report: Report) -> str:
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            report=report, subject=subject(report), bars=_bars(report), currency=report.currency
        )
    )


def text(report: Report) -> str:
    return (
        _environment()
        .get_template("report.txt.j2")
        .render(report=report, subject=subject(report), currency=report.currency)
    )


def csv_table(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "week",
            "cluster",
            "service",
            "this_week",
            "last_week",
            "change",
            "change_percent",
            *[f"day_{i + 1}" for i in range(7)],
            "currency",
        ]
    )
    for s in report.services:
        share = s.change_share
        writer.writerow(
            [
                str(report.week),
                s.cluster,
                s.service,
                f"{s.this_week:.2f}",
                f"{s.last_week:.2f}",
                f"{s.change:.2f}",
                "" if share is None else f"{share * 100:.1f}",
                *[f"{d:.2f}" for d in s.daily],
                report.currency,
            ]
        )
    return out.getvalue()


def email(report: Report) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject(report)
    message.set_content(text(report))
    message.add_alternative(html(report), subtype="html")
    message.add_attachment(
        csv_table(report).encode("utf-8"),
        maintype="text",
        subtype="csv",
        filename=f"ecs-cost-{report.week}.csv",
    )
    return message
