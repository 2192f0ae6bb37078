"""The report as an email: a subject that says the total and the trend, a CSV that matches the
report, a plain-text and an HTML body that show every service and saving (names escaped in
HTML), and one multipart message carrying all three."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from markupsafe import escape

from autopilot.domain.report import (
    CLUSTER_TAG,
    SERVICE_TAG,
    UNTAGGED,
    CostLine,
    ParkedTime,
    Report,
    ServiceFacts,
    Utilization,
    Week,
    build_report,
    money,
)
from autopilot.reporting import render

WEEK = Week(2026, 46)  # Monday 2026-11-09 to Sunday 2026-11-15
MONDAY = date(2026, 11, 9)
LAST_MONDAY = date(2026, 11, 2)
SETTLED = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # days after the week: no notes
MONDAY_AFTER = datetime(2026, 11, 16, 7, 0, tzinfo=UTC)  # within 48 hours: incomplete
CSV_HEADER = [
    "week",
    "cluster",
    "service",
    "this_week",
    "last_week",
    "change",
    "change_percent",
    *[f"day_{i}" for i in range(1, 8)],
    "currency",
]


def cost(
    cluster: str, service: str, amount: str, *, weekday: int = 0, last: bool = False
) -> CostLine:
    """A cost on day `weekday` (0 is Monday) of the report's week, or of the week before."""
    day = (LAST_MONDAY if last else MONDAY) + timedelta(days=weekday)
    keys = (f"{CLUSTER_TAG}${cluster}", f"{SERVICE_TAG}${service}")
    return CostLine(day, keys, Decimal(amount), "USD", estimated=False)


def sample(
    *, requests: int = 3, now: datetime = SETTLED, extra: tuple[CostLine, ...] = ()
) -> Report:
    """$1,073.00 this week against $1,000.00 (+7.3%): prod/web, prod/api and dev/worker, the last
    a big mover (+$23, +46%) that could be rightsized, moved to Spot, and was parked."""
    return build_report(
        week=WEEK,
        by_service=[
            cost("prod", "web", "400", weekday=0),
            cost("prod", "web", "300", weekday=6),
            cost("prod", "api", "300", weekday=2),
            cost("dev", "worker", "73", weekday=1),
            cost("prod", "web", "650", last=True),
            cost("prod", "api", "300", last=True),
            cost("dev", "worker", "50", last=True),
            *extra,
        ],
        requests=requests,
        now=now,
        utilization={("dev", "worker"): Utilization(0.1, 0.15, 0.1, 0.15)},
        facts={("dev", "worker"): ServiceFacts("dev", "worker", 1024, 2048, spot=False)},
        parked=(ParkedTime("dev", "worker", Decimal("10"), Decimal("12.34")),),
    )


def with_notes() -> Report:
    """A report built the Monday after its week, mostly untagged: it carries both notes."""
    built = sample(now=MONDAY_AFTER, extra=(cost("", "", "5000", weekday=3),))
    assert len(built.notes) == 2
    return built


def section(page: str, start: str) -> str:
    """The HTML from `start` to the end of the table it opens."""
    return page.split(start, 1)[1].split("</table>", 1)[0]


# -- subject -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        pytest.param(
            (cost("prod", "web", "1073"), cost("prod", "web", "1000", last=True)),
            "ECS cost 2026-W46: $1,073.00 (+7.3% week over week)",
            id="rise",
        ),
        pytest.param(
            (cost("prod", "web", "75"), cost("prod", "web", "100", last=True)),
            "ECS cost 2026-W46: $75.00 (-25.0% week over week)",
            id="fall",
        ),
        pytest.param(
            (cost("prod", "web", "250000"),),
            "ECS cost 2026-W46: $250,000 (new week over week)",
            id="nothing last week",
        ),
    ],
)
def test_the_subject_states_the_week_the_total_and_the_change(
    lines: tuple[CostLine, ...], expected: str
) -> None:
    # Given a report of week 46
    built = build_report(week=WEEK, by_service=lines, requests=1, now=SETTLED)

    # When / Then its subject says the week, the total and the change in percent
    assert render.subject(built) == expected


# -- CSV ---------------------------------------------------------------------------------------


def test_the_csv_has_a_header_and_one_row_per_service_in_report_order() -> None:
    # Given the sample report
    built = sample()

    # When its CSV is parsed
    rows = list(csv.reader(io.StringIO(render.csv_table(built))))

    # Then it has the header, then one row per service, in the report's order
    assert rows[0] == CSV_HEADER
    assert [(r[1], r[2]) for r in rows[1:]] == [(s.cluster, s.service) for s in built.services]


def test_the_csv_numbers_match_the_report() -> None:
    # Given the sample report
    built = sample()

    # When its CSV is parsed
    rows = list(csv.DictReader(io.StringIO(render.csv_table(built))))

    # Then every number in every row is the report's, to the cent
    for row, service in zip(rows, built.services, strict=True):
        assert row["week"] == "2026-W46"
        assert Decimal(row["this_week"]) == service.this_week
        assert Decimal(row["last_week"]) == service.last_week
        assert Decimal(row["change"]) == service.change
        assert tuple(Decimal(row[f"day_{i}"]) for i in range(1, 8)) == service.daily
        assert row["currency"] == "USD"
    worker = next(r for r in rows if r["service"] == "worker")
    assert (worker["this_week"], worker["change"], worker["change_percent"]) == (
        "73.00",
        "23.00",
        "46.0",
    )
    assert worker["day_2"] == "73.00"


def test_the_csv_leaves_the_percent_empty_for_a_new_service() -> None:
    # Given a service with no cost last week
    built = build_report(
        week=WEEK, by_service=[cost("dev", "new", "12.5")], requests=1, now=SETTLED
    )

    # When its CSV is parsed
    [row] = list(csv.DictReader(io.StringIO(render.csv_table(built))))

    # Then its change percent is empty, not a division by zero or "new"
    assert (row["this_week"], row["last_week"], row["change_percent"]) == ("12.50", "0.00", "")


# -- plain text --------------------------------------------------------------------------------


def test_the_text_shows_every_service_and_every_saving() -> None:
    # Given the sample report, with an untagged bucket too
    built = sample(extra=(cost("", "", "10"),))
    assert any(s.label == UNTAGGED for s in built.services)
    assert len(built.savings) == 3

    # When it is rendered as plain text
    body = render.text(built)

    # Then every service's label and every saving's target, detail and amount are in it
    for service in built.services:
        assert service.label in body
    for saving in built.savings:
        assert f"{saving.kind}: {saving.cluster}/{saving.service}: {saving.detail}" in body
        assert money(saving.amount) in body


def test_the_text_marks_big_movers() -> None:
    # Given the sample report, where only dev/worker moved by $5 and 20% or more
    built = sample()

    # When it is rendered as plain text
    lines = render.text(built).splitlines()

    # Then only dev/worker's line carries the mark
    marked = [line for line in lines if line.startswith("  * ")]
    assert len(marked) == 1
    assert "dev/worker" in marked[0]


@pytest.mark.parametrize("which", [0, 1], ids=["incomplete data", "split cost allocation"])
def test_the_text_shows_the_notes_verbatim(which: int) -> None:
    # Given a report with both notes (one says "Cost Explorer's", one "preferences > ...")
    built = with_notes()

    # When it is rendered as plain text
    body = render.text(built)

    # Then each note reads as written, not HTML-escaped
    assert built.notes[which] in body


def test_the_text_puts_each_saving_on_its_own_line() -> None:
    # Given the sample report with three savings
    built = sample()
    assert len(built.savings) == 3

    # When it is rendered as plain text
    lines = render.text(built).splitlines()

    # Then each saving has a line of its own
    for saving in built.savings:
        [line] = [line for line in lines if saving.detail in line]
        assert line.strip().startswith(f"{saving.kind}: ")
        assert line.count(money(saving.amount)) == 1
    assert sum(1 for line in lines if "/worker: " in line) == 3


@pytest.mark.parametrize(
    ("requests", "footer"),
    [
        pytest.param(1, "This report used 1 Cost Explorer request ($0.01)", id="one"),
        pytest.param(3, "This report used 3 Cost Explorer requests ($0.03)", id="three"),
        pytest.param(10, "This report used 10 Cost Explorer requests ($0.10)", id="ten"),
    ],
)
def test_the_text_footer_states_the_requests_and_their_cost(requests: int, footer: str) -> None:
    # Given a report that took `requests` Cost Explorer requests ($0.01 each)
    built = sample(requests=requests)

    # When it is rendered as plain text
    # Then the footer counts them and prices them to the cent
    assert footer in render.text(built)


# -- HTML --------------------------------------------------------------------------------------


def test_html_escapes_names_and_never_shows_them_raw() -> None:
    # Given a service and a cluster whose names are markup, with a saving for the service
    hostile = "<script>alert(1)</script>"
    built = build_report(
        week=WEEK,
        by_service=[cost("dev", hostile, "100"), cost("<b>dev</b>", "web", "50")],
        requests=1,
        now=SETTLED,
        facts={("dev", hostile): ServiceFacts("dev", hostile, 1024, 2048, spot=False)},
    )
    assert built.savings  # the name appears in the savings table too

    # When it is rendered as HTML
    page = render.html(built)

    # Then the names appear escaped, and never as markup
    assert "<script>" not in page
    assert "<b>dev</b>" not in page
    assert page.count(str(escape(f"dev/{hostile}"))) == 2  # services table and savings
    assert str(escape("<b>dev</b>")) in page


def test_html_has_one_chart_row_per_day() -> None:
    # Given the sample report
    # When it is rendered as HTML
    page = render.html(sample())

    # Then the chart has seven bars, Monday to Sunday
    assert page.count('class="bar"') == 7
    days = re.findall(r">(Mon|Tue|Wed|Thu|Fri|Sat|Sun)<", page)
    assert days == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def test_html_bars_are_proportional_to_the_days_cost() -> None:
    # Given the sample report: $400 Monday, $73 Tuesday, $300 Wednesday and Sunday, else 0
    built = sample()
    assert built.daily_totals[:3] == (Decimal(400), Decimal(73), Decimal(300))

    # When it is rendered as HTML
    page = render.html(built)

    # Then the busiest day is 360px wide, the others in proportion, and an empty day still 1px
    widths = [int(w) for w in re.findall(r'class="bar"[^>]*?width:(\d+)px', page)]
    assert widths == [360, 65, 270, 1, 1, 1, 270]


def test_html_services_table_lists_every_service_in_order_and_marks_big_movers() -> None:
    # Given the sample report
    built = sample()

    # When it is rendered as HTML
    page = render.html(built)

    # Then the services table lists each label, most expensive first, and only the mover marked
    assert 'id="services"' in page
    table = section(page, 'id="services"')
    positions = [table.index(f"<td>{s.label}") for s in built.services]
    assert positions == sorted(positions)
    assert table.count("big mover") == 1
    assert "<td>dev/worker <span" in table


def test_html_shows_every_saving() -> None:
    # Given the sample report
    built = sample()

    # When it is rendered as HTML
    page = render.html(built)

    # Then each saving's target, detail and amount are in the page
    for saving in built.savings:
        assert f"{saving.cluster}/{saving.service}: {saving.detail}" in page
        assert money(saving.amount) in page


def test_html_shows_every_note_escaped() -> None:
    # Given a report with both notes
    built = with_notes()

    # When it is rendered as HTML
    page = render.html(built)

    # Then each note is there, as escaped text
    assert page.count('class="note"') == 2
    for note in built.notes:
        assert str(escape(note)) in page


@pytest.mark.parametrize(
    ("requests", "footer"),
    [
        pytest.param(1, "This report used 1 Cost Explorer request ($0.01)", id="one"),
        pytest.param(3, "This report used 3 Cost Explorer requests ($0.03)", id="three"),
        pytest.param(10, "This report used 10 Cost Explorer requests ($0.10)", id="ten"),
    ],
)
def test_the_html_footer_states_the_requests_and_their_cost(requests: int, footer: str) -> None:
    # Given a report that took `requests` Cost Explorer requests ($0.01 each)
    built = sample(requests=requests)

    # When it is rendered as HTML
    # Then the footer counts them and prices them
    assert footer in render.html(built)


# -- email -------------------------------------------------------------------------------------


def test_the_email_is_text_and_html_alternatives_with_the_csv_attached() -> None:
    # Given the sample report
    built = sample()

    # When it is made into an email
    message = render.email(built)

    # Then it is multipart/mixed: a text/html alternative, then the CSV as an attachment
    assert message["Subject"] == render.subject(built)
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    plain, rich = alternative.iter_parts()
    assert plain.get_content_type() == "text/plain"
    assert rich.get_content_type() == "text/html"
    assert plain.get_content().rstrip("\n") == render.text(built).rstrip("\n")
    assert rich.get_content().rstrip("\n") == render.html(built).rstrip("\n")
    assert attachment.get_content_type() == "text/csv"
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == "ecs-cost-2026-W46.csv"
    assert attachment.get_payload(decode=True) == render.csv_table(built).encode("utf-8")
