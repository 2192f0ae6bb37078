"""The weekly cost report: ISO weeks, money as people read it, and a report whose sums, movers,
notes and savings follow the rules (in dollars and cents, not floats)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from autopilot.domain.report import (
    CLUSTER_TAG,
    SERVICE_TAG,
    UNTAGGED,
    CostLine,
    ParkedTime,
    Report,
    Saving,
    ServiceCost,
    ServiceFacts,
    Utilization,
    Week,
    build_report,
    money,
    parked_within,
    percent,
    signed_money,
    smallest_size,
    tag_value,
)
from autopilot.models.base import Invalid
from autopilot.models.events import CostReportDocument

WEEK = Week(2026, 46)  # Monday 2026-11-09 to Sunday 2026-11-15
MONDAY = date(2026, 11, 9)
SUNDAY = date(2026, 11, 15)
LAST_MONDAY = date(2026, 11, 2)
WEEK_END = datetime(2026, 11, 16, 0, 0, tzinfo=UTC)  # the Monday after, midnight UTC
SETTLED = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # 4 days after the week: no estimates left
CENT = Decimal("0.01")
# Fargate list prices the report weighs sizes by (us-east-1, Linux/x86, per hour).
VCPU_HOUR = Decimal("0.04048")
GB_HOUR = Decimal("0.004445")


def cost(
    cluster: str,
    service: str,
    amount: str,
    *,
    day: date = MONDAY,
    estimated: bool = False,
    unit: str = "USD",
) -> CostLine:
    """One Cost Explorer group of one day, keyed by the split-cost-allocation tags."""
    return CostLine(
        day=day,
        keys=(f"{CLUSTER_TAG}${cluster}", f"{SERVICE_TAG}${service}"),
        amount=Decimal(amount),
        unit=unit,
        estimated=estimated,
    )


def report(
    *lines: CostLine,
    now: datetime = SETTLED,
    utilization: Mapping[tuple[str, str], Utilization] | None = None,
    facts: Mapping[tuple[str, str], ServiceFacts] | None = None,
    parked: tuple[ParkedTime, ...] = (),
    requests: int = 1,
) -> Report:
    return build_report(
        week=WEEK,
        by_service=lines,
        requests=requests,
        now=now,
        utilization=utilization,
        facts=facts,
        parked=parked,
    )


def fact(
    cluster: str,
    service: str,
    *,
    cpu: int = 1024,
    memory: int = 2048,
    spot: bool = False,
    environment: str = "",
) -> dict[tuple[str, str], ServiceFacts]:
    return {
        (cluster, service): ServiceFacts(cluster, service, cpu, memory, spot, environment),
    }


def peaks(
    cluster: str, service: str, *, cpu: float, memory: float
) -> dict[tuple[str, str], Utilization]:
    """Container Insights saw at most `cpu` and `memory` (fractions of the reservation)."""
    return {(cluster, service): Utilization(cpu / 2, cpu, memory / 2, memory)}


def service_named(built: Report, label: str) -> ServiceCost:
    found = [s for s in built.services if s.label == label]
    assert len(found) == 1, f"expected one service {label}, got {built.services}"
    return found[0]


def of_kind(built: Report, kind: str) -> list[Saving]:
    return [s for s in built.savings if s.kind == kind]


def price(cpu_units: int, memory_mib: int) -> Decimal:
    return Decimal(cpu_units) / 1024 * VCPU_HOUR + Decimal(memory_mib) / 1024 * GB_HOUR


def rightsized(this_week: str, current: tuple[int, int], suggested: tuple[int, int]) -> Decimal:
    """What moving from `current` to `suggested` saves a week, at list prices."""
    ratio = price(*suggested) / price(*current)
    return (Decimal(this_week) * (1 - ratio)).quantize(CENT)


INCOMPLETE = "Incomplete data"
SPLIT_COST = "split cost allocation"


def has_note(built: Report, words: str) -> bool:
    return any(words in note for note in built.notes)


# -- weeks -------------------------------------------------------------------------------------


def test_a_week_parses_to_its_monday_its_sunday_and_the_next_monday() -> None:
    # Given the text of an ISO week
    # When it is parsed
    week = Week.parse("2026-W46")

    # Then it starts on Monday, ends (exclusive) on the next Monday, and its last day is Sunday
    assert week == Week(2026, 46)
    assert week.start == date(2026, 11, 9)
    assert week.end == date(2026, 11, 16)
    assert week.last_day == date(2026, 11, 15)
    assert (week.start.isoweekday(), week.last_day.isoweekday()) == (1, 7)
    assert str(week) == "2026-W46"


def test_week_53_parses_in_a_year_that_has_one() -> None:
    # Given 2026, which starts on a Thursday and so has 53 ISO weeks
    # When its week 53 is parsed
    week = Week.parse("2026-W53")

    # Then it is the week from Monday 2026-12-28 to Sunday 2027-01-03
    assert (week.start, week.last_day) == (date(2026, 12, 28), date(2027, 1, 3))


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("2026-46", id="no W"),
        pytest.param("W46", id="no year"),
        pytest.param("2026-W", id="no number"),
        pytest.param("2026-Wxx", id="not a number"),
        pytest.param("abcd-W01", id="year not a number"),
        pytest.param("2026-W46-1", id="a day too"),
        pytest.param("2026-W00", id="week 0"),
        pytest.param("2026-W54", id="week 54"),
        pytest.param("2025-W53", id="week 53 of a 52-week year"),
    ],
)
def test_text_that_is_not_an_existing_iso_week_is_refused(text: str) -> None:
    # Given text that does not name an ISO week that exists
    # When / Then parsing it fails with a ValueError
    with pytest.raises(ValueError):
        Week.parse(text)


@pytest.mark.parametrize(
    ("week", "previous"),
    [
        pytest.param(Week(2026, 46), Week(2026, 45), id="within a year"),
        pytest.param(Week(2026, 1), Week(2025, 52), id="into a 52-week year"),
        pytest.param(Week(2027, 1), Week(2026, 53), id="into a 53-week year"),
    ],
)
def test_the_previous_week_follows_iso_across_year_boundaries(week: Week, previous: Week) -> None:
    # Given a week
    # When its previous week is asked for
    # Then it is the ISO week that ends the day before it starts
    assert week.previous == previous
    assert week.previous.end == week.start


@pytest.mark.parametrize(
    ("today", "last_full"),
    [
        pytest.param(date(2026, 11, 22), Week(2026, 46), id="Sunday: this week is not over"),
        pytest.param(date(2026, 11, 23), Week(2026, 47), id="Monday: the week just ended"),
        pytest.param(date(2026, 11, 18), Week(2026, 46), id="Wednesday"),
        pytest.param(date(2027, 1, 4), Week(2026, 53), id="Monday after week 53"),
        pytest.param(date(2027, 1, 3), Week(2026, 52), id="Sunday of week 53"),
    ],
)
def test_the_last_full_week_is_the_latest_week_that_has_ended(today: date, last_full: Week) -> None:
    # Given today
    # When the last full week is asked for
    week = Week.last_full(today)

    # Then it is the latest week whose Sunday is before today
    assert week == last_full
    assert week.last_day < today <= week.last_day + timedelta(days=7)


# -- money, signs, percent, tags ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        pytest.param("1234.56", "USD", "$1,234.56", id="cents and thousands"),
        pytest.param("0", "USD", "$0.00", id="zero"),
        pytest.param("-5", "USD", "-$5.00", id="negative: sign before symbol"),
        pytest.param("-0.004", "USD", "$0.00", id="no negative zero"),
        pytest.param("1234.565", "USD", "$1,234.57", id="half a cent rounds up"),
        pytest.param("99999.99", "USD", "$99,999.99", id="cents below 100,000"),
        pytest.param("100000", "USD", "$100,000", id="whole units from 100,000"),
        pytest.param("123456.78", "USD", "$123,457", id="whole units, rounded"),
        pytest.param("-123456.5", "USD", "-$123,457", id="negative whole units"),
        pytest.param("1234.56", "EUR", "€1,234.56", id="euro"),
        pytest.param("1234.56", "GBP", "£1,234.56", id="pound"),
        pytest.param("1234.56", "JPY", "JPY 1,234.56", id="unknown currency: code first"),
    ],
)
def test_money_is_shown_as_people_read_it(amount: str, currency: str, shown: str) -> None:
    # Given an amount in a currency
    # When it is formatted
    # Then it reads as expected
    assert money(Decimal(amount), currency) == shown


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        pytest.param("5", "+$5.00", id="positive: plus"),
        pytest.param("0", "$0.00", id="zero: no sign"),
        pytest.param("-5", "-$5.00", id="negative: minus"),
    ],
)
def test_signed_money_marks_a_rise_with_a_plus(amount: str, shown: str) -> None:
    # Given a change in cost
    # When it is formatted with its sign
    # Then only a positive change carries a plus
    assert signed_money(Decimal(amount)) == shown


@pytest.mark.parametrize(
    ("share", "shown"),
    [
        pytest.param(None, "new", id="nothing last week: new"),
        pytest.param(Decimal("0.073"), "+7.3%", id="rise"),
        pytest.param(Decimal("-0.25"), "-25.0%", id="fall"),
        pytest.param(Decimal("1.5"), "+150.0%", id="more than double"),
    ],
)
def test_percent_shows_a_signed_share_or_new(share: Decimal | None, shown: str) -> None:
    # Given a share of last week's cost (or none, when there was no cost last week)
    # When it is formatted
    # Then it is a signed percentage with one decimal, or "new"
    assert percent(share) == shown


@pytest.mark.parametrize(
    ("key", "value"),
    [
        pytest.param("aws:ecs:clusterName$prod", "prod", id="tagged"),
        pytest.param("aws:ecs:clusterName$", "", id="untagged: empty"),
        pytest.param("aws:ecs:serviceName$web$blue", "web$blue", id="split at the first $"),
    ],
)
def test_tag_value_is_what_follows_the_key(key: str, value: str) -> None:
    # Given a Cost Explorer group key "tag$value"
    # When its value is taken
    # Then it is the part after the first $
    assert tag_value(key) == value


# -- sums --------------------------------------------------------------------------------------


def test_totals_are_the_sums_of_this_week_and_of_last_week() -> None:
    # Given costs on several days of both weeks
    built = report(
        cost("prod", "web", "10.10", day=MONDAY),
        cost("prod", "web", "20.20", day=SUNDAY),
        cost("dev", "api", "5.05", day=MONDAY + timedelta(days=3)),
        cost("prod", "web", "7.00", day=LAST_MONDAY),
        cost("dev", "api", "3.03", day=LAST_MONDAY + timedelta(days=6)),
    )

    # Then the totals are exact sums in Decimal, and the change is their difference
    assert built.total == Decimal("35.35")
    assert built.last_total == Decimal("10.03")
    assert built.change == Decimal("25.32")


def test_lines_outside_the_two_weeks_are_ignored() -> None:
    # Given costs of this week, and costs the day before last week and the day after this week
    built = report(
        cost("prod", "web", "10"),
        cost("prod", "web", "4", day=LAST_MONDAY),
        cost("prod", "web", "1000", day=LAST_MONDAY - timedelta(days=1)),
        cost("prod", "web", "2000", day=SUNDAY + timedelta(days=1)),
    )

    # Then neither week counts them
    assert (built.total, built.last_total) == (Decimal("10"), Decimal("4"))
    assert service_named(built, "prod/web").this_week == Decimal("10")


def test_each_service_sums_its_own_days_of_each_week() -> None:
    # Given two services with costs on several days of both weeks
    built = report(
        cost("prod", "web", "1.50", day=MONDAY),
        cost("prod", "web", "2.50", day=MONDAY + timedelta(days=1)),
        cost("prod", "api", "9.00", day=MONDAY),
        cost("prod", "web", "3.00", day=LAST_MONDAY),
        cost("prod", "web", "1.00", day=LAST_MONDAY + timedelta(days=2)),
    )

    # Then each service has its own sums
    web, api = service_named(built, "prod/web"), service_named(built, "prod/api")
    assert (web.this_week, web.last_week) == (Decimal("4.00"), Decimal("4.00"))
    assert (api.this_week, api.last_week) == (Decimal("9.00"), Decimal("0"))


def test_a_service_that_only_ran_last_week_still_counts_in_last_weeks_total() -> None:
    # Given a service that cost money last week and nothing this week
    built = report(cost("prod", "web", "10"), cost("dev", "old", "6", day=LAST_MONDAY))

    # Then it is listed with 0 this week, and last week's total includes it
    old = service_named(built, "dev/old")
    assert (old.this_week, old.last_week) == (Decimal("0"), Decimal("6"))
    assert built.last_total == Decimal("6")


def test_a_cluster_costs_the_sum_of_its_services() -> None:
    # Given two services in prod and one in dev, in both weeks
    built = report(
        cost("prod", "web", "10"),
        cost("prod", "api", "15"),
        cost("dev", "web", "40"),
        cost("prod", "web", "5", day=LAST_MONDAY),
        cost("dev", "web", "1", day=LAST_MONDAY),
    )

    # Then each cluster sums its services, the most expensive cluster first
    clusters = [(c.name, c.this_week, c.last_week) for c in built.clusters]
    assert clusters == [
        ("dev", Decimal("40"), Decimal("1")),
        ("prod", Decimal("25"), Decimal("5")),
    ]
    assert built.clusters[1].change == Decimal("20")


def test_daily_totals_and_daily_costs_are_monday_first() -> None:
    # Given costs on Monday, Wednesday and Sunday of the week
    built = report(
        cost("prod", "web", "1", day=MONDAY),
        cost("prod", "api", "2", day=MONDAY),
        cost("prod", "web", "3", day=MONDAY + timedelta(days=2)),
        cost("prod", "web", "7", day=SUNDAY),
    )

    # Then the week's days come Monday first, with 0 for days without cost
    zero = Decimal(0)
    assert built.daily_totals == (Decimal(3), zero, Decimal(3), zero, zero, zero, Decimal(7))
    web = service_named(built, "prod/web")
    assert web.daily == (Decimal(1), zero, Decimal(3), zero, zero, zero, Decimal(7))


def test_services_come_most_expensive_first() -> None:
    # Given services of different cost, given cheapest first
    built = report(
        cost("dev", "cheap", "1"),
        cost("prod", "dear", "300"),
        cost("prod", "middle", "20"),
    )

    # Then they are listed by this week's cost, highest first
    assert [s.label for s in built.services] == ["prod/dear", "prod/middle", "dev/cheap"]


def test_lines_without_tag_values_go_to_one_untagged_bucket() -> None:
    # Given costs whose tags have no value (split cost allocation off), and no keys at all
    untagged = cost("", "", "30")
    keyless = CostLine(MONDAY, (), Decimal("12"), "USD", estimated=False)
    built = report(untagged, keyless, cost("prod", "web", "8"))

    # Then they are summed in one bucket labelled as untagged, apart from the tagged service
    bucket = service_named(built, UNTAGGED)
    assert bucket.this_week == Decimal("42")
    assert bucket.cluster == UNTAGGED
    assert [c.name for c in built.clusters] == [UNTAGGED, "prod"]


def test_a_line_with_only_a_cluster_tag_counts_in_its_cluster() -> None:
    # Given a cost tagged with its cluster but no service
    built = report(cost("prod", "", "9"), cost("prod", "web", "1"))

    # Then it is the cluster's, not the untagged bucket's
    assert [(c.name, c.this_week) for c in built.clusters] == [("prod", Decimal("10"))]
    assert all(s.cluster != UNTAGGED for s in built.services)


def test_the_currency_is_the_one_cost_explorer_reports() -> None:
    # Given costs in euros
    built = report(cost("prod", "web", "10", unit="EUR"))

    # Then the report is in euros
    assert built.currency == "EUR"


# -- big movers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last_week", "this_week", "big"),
    [
        pytest.param("100", "120", True, id="+$20 and +20%"),
        pytest.param("100", "119", False, id="+$19 but +19%"),
        pytest.param("100", "80", True, id="a fall counts too: -$20 and -20%"),
        pytest.param("25", "30", True, id="exactly $5 and exactly 20%"),
        pytest.param("10", "14.99", False, id="+49.9% but under $5"),
        pytest.param("0", "5", True, id="new and $5"),
        pytest.param("0", "4.99", False, id="new but under $5"),
        pytest.param("1000", "1100", False, id="+$100 but only +10%"),
    ],
)
def test_a_big_mover_changed_by_at_least_5_dollars_and_20_percent_or_is_new(
    last_week: str, this_week: str, big: bool
) -> None:
    # Given a service that cost `last_week` then `this_week`
    built = report(
        cost("prod", "web", this_week),
        cost("prod", "web", last_week, day=LAST_MONDAY),
    )

    # When / Then it is a big mover only if it moved by $5 or more and by 20% or more (or is new)
    assert service_named(built, "prod/web").big_mover is big


# -- notes -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "estimated", "incomplete"),
    [
        pytest.param(SETTLED, True, True, id="an estimated line, days later"),
        pytest.param(WEEK_END + timedelta(hours=47), False, True, id="47h after the week"),
        pytest.param(WEEK_END - timedelta(hours=1), False, True, id="before the week ends"),
        pytest.param(WEEK_END + timedelta(hours=48), False, False, id="48h after the week"),
        pytest.param(SETTLED, False, False, id="days later, all final"),
    ],
)
def test_the_data_is_incomplete_when_estimated_or_within_48_hours_of_the_weeks_end(
    now: datetime, estimated: bool, incomplete: bool
) -> None:
    # Given this week's costs, estimated or final, reported at `now`
    lines = (cost("prod", "web", "10"), cost("prod", "web", "10", day=SUNDAY, estimated=estimated))

    # When the report is built
    built = report(*lines, now=now)

    # Then it warns of incomplete data exactly when Cost Explorer may still change its figures
    assert has_note(built, INCOMPLETE) is incomplete


def test_the_48_hours_are_counted_in_utc_whatever_the_zone_of_now() -> None:
    # Given the same instant as 47 hours after the week, written in UTC+1
    now = (WEEK_END + timedelta(hours=47)).astimezone(timezone(timedelta(hours=1)))

    # When the report is built
    built = report(cost("prod", "web", "10"), now=now)

    # Then it is still within 48 hours
    assert has_note(built, INCOMPLETE)


def test_an_estimate_in_last_week_does_not_make_this_week_incomplete() -> None:
    # Given final figures this week and an estimated line last week, days after the week
    built = report(
        cost("prod", "web", "10"),
        cost("prod", "web", "10", day=LAST_MONDAY, estimated=True),
    )

    # Then there is no incomplete-data note
    assert not has_note(built, INCOMPLETE)


@pytest.mark.parametrize(
    ("untagged", "tagged", "noted"),
    [
        pytest.param("51", "49", True, id="more than half untagged"),
        pytest.param("100", "0", True, id="all untagged"),
        pytest.param("50", "50", False, id="exactly half"),
        pytest.param("10", "90", False, id="mostly tagged"),
    ],
)
def test_mostly_untagged_cost_points_to_split_cost_allocation(
    untagged: str, tagged: str, noted: bool
) -> None:
    # Given this week's cost, part of it without ECS tags
    built = report(cost("", "", untagged), cost("prod", "web", tagged))

    # When / Then the report says to turn on split cost allocation only if most cost is untagged
    assert has_note(built, SPLIT_COST) is noted


def test_a_week_without_cost_has_no_split_cost_note() -> None:
    # Given no cost at all (nothing to divide)
    # When the report is built
    built = report()

    # Then it neither fails nor asks for split cost allocation
    assert built.total == 0
    assert not has_note(built, SPLIT_COST)


# -- smallest size -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cpu", "memory", "size"),
    [
        pytest.param(100, 400, (256, 512), id="small: the smallest size"),
        pytest.param(0, 0, (256, 512), id="nothing: the smallest size"),
        pytest.param(256, 512, (256, 512), id="exactly a size"),
        pytest.param(256, 2049, (512, 3072), id="memory beyond 0.25 vCPU: next vCPU"),
        pytest.param(600, 1000, (1024, 2048), id="cpu decides, then the least memory"),
        pytest.param(1024, 2500, (1024, 3072), id="memory in 1 GB steps"),
        pytest.param(4096, 30721, (8192, 32768), id="memory beyond 4 vCPU: 8 vCPU"),
        pytest.param(16384, 122880, (16384, 122880), id="the largest size"),
        pytest.param(16385, 1, None, id="too much cpu"),
        pytest.param(1, 122881, None, id="too much memory"),
    ],
)
def test_smallest_size_is_the_first_fargate_size_that_fits(
    cpu: float, memory: float, size: tuple[int, int] | None
) -> None:
    # Given a need in vCPU units and MiB
    # When the smallest Fargate size is looked up
    # Then it is the smallest vCPU that offers enough memory, with the least such memory
    assert smallest_size(cpu, memory) == size


# -- rightsizing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cpu_peak", "memory_peak", "suggested"),
    [
        pytest.param(0.15, 0.15, (256, 512), id="15% of 1 vCPU / 2 GB: a quarter"),
        pytest.param(0.30, 0.30, (512, 1024), id="30% of 1 vCPU / 2 GB: a half"),
        pytest.param(0.30, 0.60, (512, 2048), id="memory keeps 2 GB"),
    ],
)
def test_rightsizing_suggests_the_smallest_size_fitting_the_peak_plus_30_percent(
    cpu_peak: float, memory_peak: float, suggested: tuple[int, int]
) -> None:
    # Given a 1 vCPU / 2 GB service that cost $100 and peaked at these fractions
    built = report(
        cost("prod", "web", "100"),
        facts=fact("prod", "web", cpu=1024, memory=2048, spot=True),
        utilization=peaks("prod", "web", cpu=cpu_peak, memory=memory_peak),
    )

    # When / Then one rightsizing saving names the suggested size and what it would save a week
    [saving] = of_kind(built, "rightsizing")
    assert (saving.cluster, saving.service) == ("prod", "web")
    cpu, memory = suggested
    assert f"{cpu / 1024:g} vCPU / {memory / 1024:g} GB is enough" in saving.detail
    assert saving.amount == rightsized("100", (1024, 2048), suggested)


def test_rightsizing_to_a_quarter_of_the_size_saves_three_quarters() -> None:
    # Given a 1 vCPU / 2 GB service that cost $100 and used at most 15% of it
    built = report(
        cost("prod", "web", "100"),
        facts=fact("prod", "web", cpu=1024, memory=2048, spot=True),
        utilization=peaks("prod", "web", cpu=0.15, memory=0.15),
    )

    # When / Then 0.25 vCPU / 0.5 GB (a quarter of the price) saves $75.00 of the $100
    [saving] = of_kind(built, "rightsizing")
    assert saving.amount == Decimal("75.00")


def test_rightsizing_prices_vcpu_and_memory_separately() -> None:
    # Given a 1 vCPU / 8 GB service that cost $200 and peaked at 30% CPU and 10% memory
    built = report(
        cost("prod", "web", "200"),
        facts=fact("prod", "web", cpu=1024, memory=8192, spot=True),
        utilization=peaks("prod", "web", cpu=0.30, memory=0.10),
    )

    # When / Then 0.5 vCPU / 2 GB is suggested, and the saving uses the ratio of list prices
    [saving] = of_kind(built, "rightsizing")
    assert "0.5 vCPU / 2 GB is enough" in saving.detail
    assert saving.amount == rightsized("200", (1024, 8192), (512, 2048))
    assert saving.amount == Decimal("123.38")


def test_rightsizing_may_trade_vcpu_for_memory_when_that_is_cheaper() -> None:
    # Given a 0.5 vCPU / 1 GB service that cost $100, at most 20% CPU but 95% memory
    built = report(
        cost("prod", "web", "100"),
        facts=fact("prod", "web", cpu=512, memory=1024, spot=True),
        utilization=peaks("prod", "web", cpu=0.20, memory=0.95),
    )

    # When / Then 0.25 vCPU / 2 GB fits both peaks plus 30%, and costs less
    [saving] = of_kind(built, "rightsizing")
    assert "0.25 vCPU / 2 GB is enough" in saving.detail
    assert saving.amount == rightsized("100", (512, 1024), (256, 2048))
    assert saving.amount > 0


@pytest.mark.parametrize(
    ("cpu", "memory", "cpu_peak", "memory_peak"),
    [
        pytest.param(256, 512, 0.10, 0.10, id="already the smallest size"),
        pytest.param(1024, 2048, 0.70, 0.70, id="peak plus 30% needs what it has"),
        pytest.param(1024, 2048, 0.95, 0.20, id="cpu peak needs more"),
        pytest.param(256, 512, 0.20, 0.95, id="memory peak needs more"),
    ],
)
def test_no_rightsizing_when_the_current_size_is_already_the_smallest_that_fits(
    cpu: int, memory: int, cpu_peak: float, memory_peak: float
) -> None:
    # Given a service whose peak plus 30% needs all of its size (or more)
    built = report(
        cost("prod", "web", "100"),
        facts=fact("prod", "web", cpu=cpu, memory=memory, spot=True),
        utilization=peaks("prod", "web", cpu=cpu_peak, memory=memory_peak),
    )

    # When / Then nothing is suggested
    assert of_kind(built, "rightsizing") == []


@pytest.mark.parametrize(
    ("utilization", "facts", "amount"),
    [
        pytest.param(None, fact("prod", "web", spot=True), "100", id="no utilization"),
        pytest.param(peaks("prod", "web", cpu=0.1, memory=0.1), None, "100", id="no facts"),
        pytest.param(
            peaks("prod", "web", cpu=0.1, memory=0.1),
            fact("prod", "web", spot=True),
            "0",
            id="no cost this week",
        ),
    ],
)
def test_no_rightsizing_without_utilization_facts_or_cost(
    utilization: dict[tuple[str, str], Utilization] | None,
    facts: dict[tuple[str, str], ServiceFacts] | None,
    amount: str,
) -> None:
    # Given an idle-looking service missing one of: its utilization, its size, a cost
    built = report(cost("prod", "web", amount), utilization=utilization, facts=facts)

    # When / Then nothing is suggested
    assert of_kind(built, "rightsizing") == []


# -- spot --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cluster", "environment"),
    [
        pytest.param("dev", "", id="dev cluster"),
        pytest.param("apps", "staging", id="staging environment"),
    ],
)
def test_a_non_production_service_not_on_spot_is_a_spot_candidate_saving_70_percent(
    cluster: str, environment: str
) -> None:
    # Given a non-production service on regular Fargate that cost $123.45 this week
    built = report(
        cost(cluster, "web", "123.45"),
        facts=fact(cluster, "web", environment=environment),
    )

    # When / Then Fargate Spot would save 70% of it
    [saving] = of_kind(built, "spot")
    assert (saving.cluster, saving.service) == (cluster, "web")
    assert saving.amount == Decimal("86.42")  # 123.45 * 0.70 = 86.415, to the cent


@pytest.mark.parametrize(
    ("cluster", "environment"),
    [
        pytest.param("prod", "", id="prod cluster"),
        pytest.param("production", "", id="production cluster"),
        pytest.param("prd", "", id="prd cluster"),
        pytest.param("live", "", id="live cluster"),
        pytest.param("Prod", "", id="any case"),
        pytest.param("apps", "production", id="production environment"),
        pytest.param("apps", "LIVE", id="live environment, any case"),
    ],
)
def test_a_production_service_is_never_a_spot_candidate(cluster: str, environment: str) -> None:
    # Given a production service on regular Fargate
    built = report(
        cost(cluster, "web", "100"),
        facts=fact(cluster, "web", environment=environment),
    )

    # When / Then Spot is not suggested
    assert of_kind(built, "spot") == []


def test_a_service_already_on_spot_is_not_a_spot_candidate() -> None:
    # Given a dev service already on Fargate Spot
    built = report(cost("dev", "web", "100"), facts=fact("dev", "web", spot=True))

    # When / Then Spot is not suggested again
    assert of_kind(built, "spot") == []


def test_a_service_without_cost_this_week_is_not_a_spot_candidate() -> None:
    # Given a dev service that only cost money last week
    built = report(cost("dev", "web", "100", day=LAST_MONDAY), facts=fact("dev", "web"))

    # When / Then there is nothing to save this week
    assert of_kind(built, "spot") == []


# -- parked and order --------------------------------------------------------------------------


def test_parked_savings_are_passed_through() -> None:
    # Given the ledger says a service was parked 62.5 hours, saving $18.20
    built = report(
        cost("dev", "web", "10"),
        parked=(ParkedTime("dev", "web", Decimal("62.5"), Decimal("18.20")),),
    )

    # When / Then that saving is in the report as it was recorded
    [saving] = of_kind(built, "parked")
    assert (saving.cluster, saving.service, saving.amount) == ("dev", "web", Decimal("18.20"))
    assert "62.5 h" in saving.detail
    assert built.parked == (saving,)


def test_savings_come_largest_first() -> None:
    # Given a dev service (1 vCPU / 2 GB, $100 this week) that could be rightsized and moved
    # to Spot, and was parked, saving $72.50
    built = report(
        cost("dev", "web", "100"),
        facts=fact("dev", "web"),
        utilization=peaks("dev", "web", cpu=0.15, memory=0.15),
        parked=(ParkedTime("dev", "web", Decimal("40"), Decimal("72.50")),),
    )

    # When / Then they are ordered by amount: rightsizing $75, parked $72.50, spot $70
    assert [(s.kind, s.amount) for s in built.savings] == [
        ("rightsizing", Decimal("75.00")),
        ("parked", Decimal("72.50")),
        ("spot", Decimal("70.00")),
    ]


def test_the_report_keeps_the_number_of_cost_explorer_requests() -> None:
    # Given a report that took 3 Cost Explorer requests
    # When it is built
    built = report(cost("prod", "web", "1"), requests=3)

    # Then it says so (each costs $0.01)
    assert built.requests == 3


# -- the schedule's document -------------------------------------------------------------------


def test_the_weekly_schedules_document_parses_with_defaults() -> None:
    # Given the document the weekly schedule delivers, at its simplest
    # When it is parsed
    parsed = CostReportDocument.parse({"action": "cost-report"})

    # Then it asks for the last full week, in UTC
    assert (parsed.action, parsed.week, parsed.timezone) == ("cost-report", None, "UTC")


def test_a_re_run_document_names_its_week_and_keeps_what_scheduler_adds() -> None:
    # Given a document for a re-run of week 46, with Scheduler's context attributes
    body = {
        "action": "cost-report",
        "week": "2026-W46",
        "timezone": "Europe/Berlin",
        "execution_id": "b6e4f8a0-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
        "scheduled_time": "2026-11-23T07:00:00Z",
    }

    # When it is parsed
    parsed = CostReportDocument.parse(body)

    # Then every field is kept, and the week is the one Week.parse reads
    assert parsed.to_dict() == {**body, "scheduled_time": "2026-11-23T07:00:00Z"}
    assert parsed.week is not None
    assert Week.parse(parsed.week) == WEEK


@pytest.mark.parametrize(
    "week",
    [
        pytest.param("2026-46", id="no W"),
        pytest.param("2026-W4", id="one digit"),
        pytest.param("2026-W046", id="three digits"),
        pytest.param("26-W46", id="two-digit year"),
        pytest.param("2026-w46", id="lower-case w"),
        pytest.param("2026-W46\n", id="trailing newline"),
        pytest.param(" 2026-W46", id="leading space"),
        pytest.param("", id="empty"),
    ],
)
def test_a_week_not_written_like_2026_w46_is_refused(week: str) -> None:
    # Given a document whose week is not written YYYY-Www
    # When / Then it is refused at the edge
    with pytest.raises(Invalid):
        CostReportDocument.parse({"action": "cost-report", "week": week})


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"action": "cost-report", "recipients": ["a@example.com"]}, id="extra"),
        pytest.param({"action": "park", "group": "nightly"}, id="another action"),
        pytest.param({}, id="no action"),
        pytest.param(
            {"action": "cost-report", "scheduled_time": "2026-11-23T07:00:00"},
            id="naive scheduled time",
        ),
    ],
)
def test_a_document_with_unknown_fields_or_another_action_is_refused(body: dict[str, Any]) -> None:
    # Given a document that is not the cost report's, or carries fields it does not know
    # When / Then it is refused
    with pytest.raises(Invalid):
        CostReportDocument.parse(body)


@pytest.mark.parametrize("week", ["2026-W00", "2026-W60", "2025-W53"])
def test_a_week_that_does_not_exist_is_refused_at_the_edge(week: str) -> None:
    # Given a re-run document naming a week no calendar has
    # When / Then it is refused when parsed, like any malformed event
    with pytest.raises(Invalid):
        CostReportDocument.parse({"action": "cost-report", "week": week})


def test_an_unknown_time_zone_is_refused_at_the_edge() -> None:
    # Given a document whose time zone does not exist
    # When / Then it is refused when parsed, as a schedule document's would be
    with pytest.raises(Invalid):
        CostReportDocument.parse({"action": "cost-report", "timezone": "Mars/Olympus"})


# -- parked hours, split between weeks ----------------------------------------------------------


def test_a_weekend_park_counts_in_the_week_its_hours_were_parked() -> None:
    # Given a park from Friday 19:00 UTC to Monday 06:00 UTC (59 h) that saved $2.33
    unparked = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    week_start = datetime(2026, 11, 16, tzinfo=UTC)
    week_end = datetime(2026, 11, 23, tzinfo=UTC)

    # When the week before the Monday, and the Monday's week, take their parts
    before = parked_within(unparked, Decimal("59"), Decimal("2.33"), week_start, week_end)
    after = parked_within(
        unparked, Decimal("59"), Decimal("2.33"), week_end, week_end + timedelta(days=7)
    )

    # Then 53 h (and their share of the saving) fall in the first, 6 h in the second
    assert before == (Decimal("53.00"), Decimal("2.09"))
    assert after == (Decimal("6.00"), Decimal("0.24"))


def test_a_park_outside_the_week_does_not_count() -> None:
    # Given a park that ended before the week began
    unparked = datetime(2026, 11, 9, 6, 0, tzinfo=UTC)

    # When the week takes its part
    part = parked_within(
        unparked,
        Decimal("11"),
        Decimal("0.43"),
        datetime(2026, 11, 16, tzinfo=UTC),
        datetime(2026, 11, 23, tzinfo=UTC),
    )

    # Then there is none
    assert part is None
