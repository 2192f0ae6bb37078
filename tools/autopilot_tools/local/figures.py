"""The dashboard's figures, computed on a laptop: from the EMF records the functions logged
(CloudWatch's embedded metric format, as Powertools prints it), with the dashboard's own chart
definitions (autopilot_tools/dashboard.py), so a new user sees the numbers the stack would show."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable

from autopilot_tools.dashboard import CHARTS, NAMESPACE, Chart, Series


def collect(lines: Iterable[str]) -> dict[str, list[float]]:
    """Every value of every metric in the namespace, from EMF records among other log lines."""
    values: dict[str, list[float]] = defaultdict(list)
    for line in lines:
        if '"_aws"' not in line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        for directive in record.get("_aws", {}).get("CloudWatchMetrics", []):
            if directive.get("Namespace") != NAMESPACE:
                continue
            for metric in directive.get("Metrics", []):
                found = record.get(metric["Name"])
                found = found if isinstance(found, list) else [found]
                values[metric["Name"]].extend(float(v) for v in found if v is not None)
    return values


def statistic(stat: str, values: list[float]) -> float | None:
    """CloudWatch's statistics over the raw values (percentiles by nearest rank)."""
    if not values:
        return None
    if stat == "Sum":
        return sum(values)
    if stat == "Maximum":
        return max(values)
    if stat.startswith("p"):
        ordered = sorted(values)
        rank = max(math.ceil(float(stat[1:]) / 100 * len(ordered)), 1)
        return ordered[rank - 1]
    raise ValueError(f"unknown statistic {stat}")


def _shown(series: Series, value: float | None, unit: str) -> str:
    if value is None:
        return f"{series.label} -"
    if unit:
        return f"{series.label} {value:.0f} {unit}"
    return f"{series.label} {value:g}"


def figures(values: dict[str, list[float]], charts: tuple[Chart, ...] = CHARTS) -> list[str]:
    """One line per chart: its title and each series' figure over the whole run."""
    lines = []
    for chart in charts:
        shown = [
            _shown(s, statistic(s.stat, values.get(s.metric, [])), chart.unit) for s in chart.series
        ]
        lines.append(f"{chart.title}: {', '.join(shown)}")
    return lines
