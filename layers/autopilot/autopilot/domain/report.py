"""The weekly cost report: what each cluster and service cost, week over week, and where money
can be saved. Pure: Cost Explorer rows, utilization and ledger facts in, a report out."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

import msgspec

from autopilot.domain.errors import AutopilotError

CLUSTER_TAG = "aws:ecs:clusterName"
SERVICE_TAG = "aws:ecs:serviceName"
UNTAGGED = "(no ECS tags)"
BIG_MOVER_SHARE = Decimal("0.20")  # a change of 20% or more...
BIG_MOVER_FLOOR = Decimal("5")  # ...and of at least $5 makes a service a big mover
SPOT_DISCOUNT = Decimal("0.70")
PRODUCTION = {"prod", "production", "prd", "live"}
# Fargate task sizes: vCPU units -> memory (MiB) choices.
FARGATE_SIZES: tuple[tuple[int, tuple[int, ...]], ...] = (
    (256, (512, 1024, 2048)),
    (512, tuple(range(1024, 4097, 1024))),
    (1024, tuple(range(2048, 8193, 1024))),
    (2048, tuple(range(4096, 16385, 1024))),
    (4096, tuple(range(8192, 30721, 1024))),
    (8192, tuple(range(16384, 61441, 4096))),
    (16384, tuple(range(32768, 122881, 8192))),
)
HEADROOM = 1.3
SERVICE_DELETED = "deleted"
CLUSTER_DELETED = "cluster deleted"


class CostsUnavailableError(AutopilotError):
    """Cost Explorer answered neither grouping: there is no report to send (a retry may)."""


class Source(StrEnum):
    """What the report is made of. Cost Explorer is essential (one grouping at least); the
    others only add detail, and the report says plainly what is missing without them."""

    COST_BY_SERVICE = "cost by cluster and service"
    COST_BY_USAGE_TYPE = "cost by usage type"
    SERVICES = "ECS services"
    UTILIZATION = "Container Insights"
    PARKED = "parked hours"


# What a reader loses when a source is missing.
_LOST = {
    Source.COST_BY_SERVICE: "the cost of each service, and the Spot and rightsizing savings "
    "computed from it (the total and the clusters come from the usage-type grouping)",
    Source.COST_BY_USAGE_TYPE: "what the money was spent on (usage types); the totals are complete",
    Source.SERVICES: "the Spot and rightsizing suggestions, and which services were deleted",
    Source.UTILIZATION: "the rightsizing suggestions",
    Source.PARKED: "the hours parked by schedule and what they saved",
}


class Gap(msgspec.Struct, frozen=True):
    """A source the report could not use, and why, in words a reader understands."""

    source: Source
    reason: str
    failed: bool = True  # False for a setting (Container Insights off), not a failed call

    @property
    def note(self) -> str:
        return f"Missing from this report: {_LOST[self.source]}. Why: {self.reason}."


class Week(msgspec.Struct, frozen=True):
    """An ISO week, Monday to Sunday."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Week:
        year, _, number = text.upper().partition("-W")
        if not year.isdigit() or not number.isdigit():
            raise ValueError(f"not an ISO week like 2026-W46: {text!r}")
        week = cls(int(year), int(number))
        week.start  # noqa: B018 - validates the week number
        return week

    @classmethod
    def last_full(cls, today: date) -> Week:
        iso = (today - timedelta(days=7)).isocalendar()
        return cls(iso.year, iso.week)

    @property
    def start(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def end(self) -> date:
        """The day after Sunday (Cost Explorer's end is exclusive)."""
        return self.start + timedelta(days=7)

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def previous(self) -> Week:
        iso = (self.start - timedelta(days=7)).isocalendar()
        return Week(iso.year, iso.week)

    def __str__(self) -> str:
        return f"{self.year}-W{self.number:02d}"


class CostLine(msgspec.Struct, frozen=True):
    """One day's cost of one group, as Cost Explorer reported it."""

    day: date
    keys: tuple[str, ...]
    amount: Decimal
    unit: str
    estimated: bool


class Utilization(msgspec.Struct, frozen=True):
    """Container Insights over the week: averages and peaks, as fractions of what is reserved."""

    cpu_average: float
    cpu_peak: float
    memory_average: float
    memory_peak: float


class ServiceFacts(msgspec.Struct, frozen=True):
    """What ECS says of a service: its task size and how it runs."""

    cluster: str
    service: str
    cpu_units: int
    memory_mib: int
    spot: bool
    environment: str = ""


class ParkedTime(msgspec.Struct, frozen=True):
    cluster: str
    service: str
    hours: Decimal
    saved: Decimal


# How long after a week an unpark may still end a park that began in it (a weekend park ends on
# Monday, in the next week): the report reads unparks this far past the week's end.
UNPARK_LOOKAHEAD = timedelta(days=7)


def parked_within(
    unparked_at: datetime, hours: Decimal, saved: Decimal, start: datetime, end: datetime
) -> tuple[Decimal, Decimal] | None:
    """The part of one park (`hours` up to `unparked_at`, which saved `saved`) that fell in
    [start, end), and its share of the saving; None when none of it did. A weekend park counts
    in the week its hours were parked, as Cost Explorer's daily costs do."""
    if hours <= 0:
        return None
    parked_at = unparked_at - timedelta(hours=float(hours))
    overlap = (min(end, unparked_at) - max(start, parked_at)).total_seconds() / 3600
    if overlap <= 0:
        return None
    share = min(Decimal(str(overlap)) / hours, Decimal(1))
    cents = Decimal("0.01")
    return (hours * share).quantize(cents, ROUND_HALF_UP), (saved * share).quantize(
        cents, ROUND_HALF_UP
    )


class ServiceCost(msgspec.Struct, frozen=True):
    cluster: str
    service: str
    this_week: Decimal
    last_week: Decimal
    daily: tuple[Decimal, ...]  # this week, Monday first
    gone: str = ""  # SERVICE_DELETED or CLUSTER_DELETED: ECS no longer has it

    @property
    def label(self) -> str:
        return UNTAGGED if self.cluster == UNTAGGED else f"{self.cluster}/{self.service}"

    @property
    def change(self) -> Decimal:
        return self.this_week - self.last_week

    @property
    def change_share(self) -> Decimal | None:
        return None if self.last_week == 0 else self.change / self.last_week

    @property
    def big_mover(self) -> bool:
        share = self.change_share
        moved = abs(self.change) >= BIG_MOVER_FLOOR
        return moved and (share is None or abs(share) >= BIG_MOVER_SHARE)


class WeekCost(msgspec.Struct, frozen=True):
    """A cluster's, or a usage type's, cost this week and last."""

    name: str
    this_week: Decimal
    last_week: Decimal
    gone: str = ""  # CLUSTER_DELETED for a cluster ECS no longer has

    @property
    def change(self) -> Decimal:
        return self.this_week - self.last_week


class Saving(msgspec.Struct, frozen=True):
    kind: str  # rightsizing | spot | parked
    cluster: str
    service: str
    detail: str
    amount: Decimal  # per week


class Report(msgspec.Struct, frozen=True):
    week: Week
    currency: str
    total: Decimal
    last_total: Decimal
    clusters: tuple[WeekCost, ...]
    services: tuple[ServiceCost, ...]
    savings: tuple[Saving, ...]
    notes: tuple[str, ...]
    requests: int  # Cost Explorer requests this report made ($0.01 each)
    daily_totals: tuple[Decimal, ...] = msgspec.field(default_factory=tuple)
    usage_types: tuple[WeekCost, ...] = msgspec.field(default_factory=tuple)
    gaps: tuple[Gap, ...] = msgspec.field(default_factory=tuple)

    @property
    def change(self) -> Decimal:
        return self.total - self.last_total

    @property
    def change_share(self) -> Decimal | None:
        return None if self.last_total == 0 else self.change / self.last_total

    @property
    def parked(self) -> tuple[Saving, ...]:
        return tuple(s for s in self.savings if s.kind == "parked")


def money(amount: Decimal, currency: str = "USD") -> str:
    """$1,234.56 (cents under $1,000, whole units above $100,000)."""
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency, f"{currency} ")
    cents = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    places = Decimal("1") if abs(cents) >= 100_000 else Decimal("0.01")
    rounded = cents.quantize(places, rounding=ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""
    text = f"{abs(rounded):,.0f}" if places == 1 else f"{abs(rounded):,.2f}"
    return f"{sign}{symbol}{text}"


def signed_money(amount: Decimal, currency: str = "USD") -> str:
    return ("+" if amount > 0 else "") + money(amount, currency)


def percent(share: Decimal | None) -> str:
    if share is None:
        return "new"
    return f"{share * 100:+.1f}%"


def tag_value(key: str) -> str:
    """`aws:ecs:clusterName$prod` -> `prod`; an empty value -> ''."""
    return key.split("$", 1)[1] if "$" in key else key


def build_report(
    *,
    week: Week,
    by_service: Iterable[CostLine] | None,
    requests: int,
    now: datetime,
    utilization: Mapping[tuple[str, str], Utilization] | None = None,
    facts: Mapping[tuple[str, str], ServiceFacts] | None = None,
    parked: Iterable[ParkedTime] = (),
    by_usage_type: Iterable[CostLine] = (),
    gone: Mapping[tuple[str, str], str] | None = None,
    gaps: Iterable[Gap] = (),
) -> Report:
    """`by_service` is None when Cost Explorer's cluster-and-service grouping failed: the total
    and the clusters then come from `by_usage_type`. `gone` marks (cluster, service) pairs ECS
    no longer has (SERVICE_DELETED or CLUSTER_DELETED); `gaps` are the sources that failed."""
    usage_lines = list(by_usage_type)
    lines = list(by_service) if by_service is not None else []
    currency = next((line.unit for line in (lines or usage_lines)), "USD")
    days = [week.start + timedelta(days=i) for i in range(7)]
    deleted = gone or {}

    this, last, daily, estimated = _weekly(week, lines, _service_key)
    services = tuple(
        sorted(
            (
                ServiceCost(
                    cluster=k[0],
                    service=k[1],
                    this_week=this.get(k, Decimal(0)),
                    last_week=last.get(k, Decimal(0)),
                    daily=tuple(daily[k][d] for d in days),
                    gone=deleted.get(k, ""),
                )
                for k in set(this) | set(last)
            ),
            key=lambda s: (-s.this_week, s.cluster, s.service),
        )
    )
    dropped_clusters = {k[0] for k, why in deleted.items() if why == CLUSTER_DELETED}
    if by_service is None:
        # Only the usage-type grouping answered: it still has the cluster of every cost.
        this_c, last_c, daily_c, estimated = _weekly(week, usage_lines, _cluster_key)
        cluster_costs = _ranked_clusters(
            {
                k[0]: (this_c.get(k, Decimal(0)), last_c.get(k, Decimal(0)))
                for k in {*this_c, *last_c}
            },
            dropped_clusters,
        )
        daily_totals = tuple(sum((d[day] for d in daily_c.values()), Decimal(0)) for day in days)
    else:
        clusters: dict[str, list[ServiceCost]] = defaultdict(list)
        for cost in services:
            clusters[cost.cluster].append(cost)
        cluster_costs = _ranked_clusters(
            {
                name: (
                    sum((s.this_week for s in members), Decimal(0)),
                    sum((s.last_week for s in members), Decimal(0)),
                )
                for name, members in clusters.items()
            },
            dropped_clusters,
        )
        daily_totals = tuple(sum((s.daily[i] for s in services), Decimal(0)) for i in range(7))
    # A service ECS no longer has gets no advice: there is nothing left to resize or move.
    live_facts = {k: f for k, f in (facts or {}).items() if k not in deleted}
    savings = [
        *_rightsizing(services, utilization or {}, live_facts),
        *_spot(services, live_facts),
        *(
            Saving("parked", p.cluster, p.service, f"parked {p.hours:.1f} h by schedule", p.saved)
            for p in parked
        ),
    ]
    all_gaps = [*gaps]
    if all(g.source is not Source.UTILIZATION for g in all_gaps):
        dark = _clusters_without_metrics(services, utilization or {}, live_facts)
        if dark:
            all_gaps.append(_insights_off(dark))
    notes = _notes(
        week=week, now=now, estimated=estimated, services=services, requests=requests
    ) + _deleted_note(services, cluster_costs)
    return Report(
        week=week,
        currency=currency,
        total=sum((c.this_week for c in cluster_costs), Decimal(0)),
        last_total=sum((c.last_week for c in cluster_costs), Decimal(0)),
        clusters=cluster_costs,
        services=services,
        savings=tuple(sorted(savings, key=lambda s: -s.amount)),
        notes=notes + tuple(g.note for g in all_gaps),
        requests=requests,
        daily_totals=daily_totals,
        usage_types=usage_costs(week, usage_lines),
        gaps=tuple(all_gaps),
    )


Key = tuple[str, str]


def _service_key(line: CostLine) -> Key:
    cluster = tag_value(line.keys[0]) if line.keys else ""
    service = tag_value(line.keys[1]) if len(line.keys) > 1 else ""
    return cluster or UNTAGGED, service or (UNTAGGED if not cluster else "(cluster only)")


def _cluster_key(line: CostLine) -> Key:
    cluster = tag_value(line.keys[0]) if line.keys else ""
    return cluster or UNTAGGED, ""


def _weekly(
    week: Week, lines: Iterable[CostLine], key_of: Callable[[CostLine], Key]
) -> tuple[dict[Key, Decimal], dict[Key, Decimal], dict[Key, dict[date, Decimal]], bool]:
    """This week's and last week's sums per key, this week's per day, and whether any of this
    week's figures is an estimate."""
    this_days = {week.start + timedelta(days=i) for i in range(7)}
    last_days = {week.previous.start + timedelta(days=i) for i in range(7)}
    this: dict[Key, Decimal] = defaultdict(Decimal)
    last: dict[Key, Decimal] = defaultdict(Decimal)
    daily: dict[Key, dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    estimated = False
    for line in lines:
        key = key_of(line)
        if line.day in this_days:
            this[key] += line.amount
            daily[key][line.day] += line.amount
            estimated = estimated or line.estimated
        elif line.day in last_days:
            last[key] += line.amount
    return this, last, daily, estimated


def _ranked_clusters(
    sums: Mapping[str, tuple[Decimal, Decimal]], deleted: set[str]
) -> tuple[WeekCost, ...]:
    return tuple(
        sorted(
            (
                WeekCost(name, now, before, CLUSTER_DELETED if name in deleted else "")
                for name, (now, before) in sums.items()
            ),
            key=lambda c: -c.this_week,
        )
    )


def _clusters_without_metrics(
    services: tuple[ServiceCost, ...],
    utilization: Mapping[Key, Utilization],
    facts: Mapping[Key, ServiceFacts],
) -> list[str]:
    """Clusters with running services that cost money this week, none of which has metrics."""
    running: dict[str, list[Key]] = defaultdict(list)
    for cost in services:
        key = (cost.cluster, cost.service)
        if key in facts and not cost.gone and cost.this_week > 0:
            running[cost.cluster].append(key)
    return sorted(c for c, keys in running.items() if not any(k in utilization for k in keys))


def _insights_off(clusters: list[str]) -> Gap:
    names = ", ".join(clusters)
    example = clusters[0]
    return Gap(
        Source.UTILIZATION,
        f"Container Insights sent no CPU or memory metrics this week for the services of "
        f"{'cluster' if len(clusters) == 1 else 'clusters'} {names}, so it is probably off "
        f"there. Turn it on (it is billed as CloudWatch custom metrics): aws ecs "
        f"update-cluster-settings --cluster {example} "
        f"--settings name=containerInsights,value=enabled",
        failed=False,
    )


def _deleted_note(
    services: tuple[ServiceCost, ...], clusters: tuple[WeekCost, ...]
) -> tuple[str, ...]:
    dropped = [c.name for c in clusters if c.gone]
    gone = [s.label for s in services if s.gone == SERVICE_DELETED]
    if not dropped and not gone:
        return ()
    parts = [*(f"cluster {name} (deleted with its services)" for name in dropped), *gone]
    return (
        f"No longer in ECS: {', '.join(parts)}. They are shown, marked deleted, with the cost "
        "Cost Explorer recorded for them until they were deleted.",
    )


def usage_costs(week: Week, lines: Iterable[CostLine], top: int = 8) -> tuple[WeekCost, ...]:
    """What the money went on, across clusters: the `top` usage types, the rest as 'other'."""
    this: dict[str, Decimal] = defaultdict(Decimal)
    last: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        usage = line.keys[-1] if line.keys else "(unknown)"
        if week.start <= line.day < week.end:
            this[usage] += line.amount
        elif week.previous.start <= line.day < week.previous.end:
            last[usage] += line.amount
    ranked = sorted(set(this) | set(last), key=lambda u: (-this[u], u))
    kept = [WeekCost(u, this[u], last[u]) for u in ranked[:top]]
    rest = ranked[top:]
    if rest:
        kept.append(
            WeekCost(
                "other",
                sum((this[u] for u in rest), Decimal(0)),
                sum((last[u] for u in rest), Decimal(0)),
            )
        )
    return tuple(kept)


def _notes(
    *, week: Week, now: datetime, estimated: bool, services: tuple[ServiceCost, ...], requests: int
) -> tuple[str, ...]:
    notes = []
    week_end = datetime.combine(week.end, datetime.min.time(), tzinfo=UTC)
    if estimated or now - week_end < timedelta(hours=48):
        notes.append(
            "Incomplete data: Cost Explorer's last 24 to 48 hours are estimates and may still "
            "change. Figures for the last days of the week can grow."
        )
    total = sum((s.this_week for s in services), Decimal(0))
    untagged = sum((s.this_week for s in services if s.cluster == UNTAGGED), Decimal(0))
    if total > 0 and untagged / total > Decimal("0.5"):
        notes.append(
            "Most of the cost carries no ECS cluster or service: split cost allocation data is "
            "probably not enabled. Turn it on in the Billing console (Cost Management "
            "preferences > Split cost allocation data > Amazon ECS) and activate the cost "
            "allocation tags aws:ecs:clusterName and aws:ecs:serviceName; it applies from then on."
        )
    return tuple(notes)


def _rightsizing(
    services: tuple[ServiceCost, ...],
    utilization: Mapping[tuple[str, str], Utilization],
    facts: Mapping[tuple[str, str], ServiceFacts],
) -> list[Saving]:
    found = []
    for cost in services:
        key = (cost.cluster, cost.service)
        use, fact = utilization.get(key), facts.get(key)
        if use is None or fact is None or cost.this_week <= 0:
            continue
        need_cpu = fact.cpu_units * use.cpu_peak * HEADROOM
        need_memory = fact.memory_mib * use.memory_peak * HEADROOM
        size = smallest_size(need_cpu, need_memory)
        if size is None or (size[0] >= fact.cpu_units and size[1] >= fact.memory_mib):
            continue
        ratio = Decimal(str(_size_weight(*size) / _size_weight(fact.cpu_units, fact.memory_mib)))
        saving = (cost.this_week * (1 - ratio)).quantize(Decimal("0.01"))
        if saving <= 0:
            continue
        found.append(
            Saving(
                "rightsizing",
                cost.cluster,
                cost.service,
                f"uses at most {use.cpu_peak:.0%} CPU and {use.memory_peak:.0%} memory of "
                f"{_size(fact.cpu_units, fact.memory_mib)}: {_size(*size)} is enough",
                saving,
            )
        )
    return found


def _spot(
    services: tuple[ServiceCost, ...], facts: Mapping[tuple[str, str], ServiceFacts]
) -> list[Saving]:
    found = []
    for cost in services:
        fact = facts.get((cost.cluster, cost.service))
        if fact is None or fact.spot or cost.this_week <= 0:
            continue
        if is_production(fact):
            continue
        found.append(
            Saving(
                "spot",
                cost.cluster,
                cost.service,
                "not production: Fargate Spot costs about 70% less (tasks can be interrupted)",
                (cost.this_week * SPOT_DISCOUNT).quantize(Decimal("0.01")),
            )
        )
    return found


def is_production(fact: ServiceFacts) -> bool:
    """By the service's `environment` tag, else by its cluster's name (prod, prod-eu, live...)."""
    name = (fact.environment or fact.cluster).lower()
    return any(token in PRODUCTION for token in re.split(r"[-_.\s]+", name))


def smallest_size(cpu_units: float, memory_mib: float) -> tuple[int, int] | None:
    for cpu, memories in FARGATE_SIZES:
        if cpu < cpu_units:
            continue
        for memory in memories:
            if memory >= memory_mib:
                return cpu, memory
    return None


def _size_weight(cpu_units: int, memory_mib: int) -> float:
    """Relative Fargate price of a size (vCPU-hour and GB-hour list prices)."""
    return cpu_units / 1024 * 0.04048 + memory_mib / 1024 * 0.004445


def _size(cpu_units: int, memory_mib: int) -> str:
    return f"{cpu_units / 1024:g} vCPU / {memory_mib / 1024:g} GB"
