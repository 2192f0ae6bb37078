"""Canary analysis: is the new revision (green) worse than the running one (blue), measured over
the same minutes, with no alarm to write?

What is compared, per target group, from the load balancer's own metrics (AWS/ApplicationELB,
one GetMetricData call for both sides): requests (`RequestCount`), server errors
(`HTTPCode_Target_5XX_Count`) and the 99th percentile of `TargetResponseTime`.

How it is judged (a reviewer should be able to redo it with a calculator):

- **Enough traffic first.** Until both sides have served `min_requests`, the verdict is
  IN_PROGRESS. If that takes longer than `max_minutes`, the verdict is FAILED: a canary that could
  not be judged is not promoted.
- **Error rate, against blue's own rate.** Each side's error rate gets a 95% Wilson score
  interval (one-sided z = 1.645). Green fails when even the low end of its interval is above
  `error_ratio` times the high end of blue's, and above an absolute floor of 0.1%. So green fails
  only when it is worse than `error_ratio` x blue beyond what the sample sizes can explain; a
  noisy blue widens the margin instead of causing false alarms, and a blue with no errors still
  lets green have the odd one.
- **Latency, against blue's own p99.** Green fails when its p99 is more than `p99_ratio` times
  blue's p99 and at least 25 ms slower (milliseconds of difference on a fast service are noise).

Pure: numbers in, a verdict out.
"""

from __future__ import annotations

import math
import re
from enum import StrEnum

import msgspec

from autopilot.domain.config import InvalidConfigError

CANARY = "autopilot:canary"
_Z_ONE_SIDED_95 = 1.645
ERROR_RATE_FLOOR = 0.001  # below 0.1% errors, nothing is judged a regression
LATENCY_FLOOR_SECONDS = 0.025


class CanaryConfig(msgspec.Struct, frozen=True):
    error_ratio: float = 2.0
    p99_ratio: float = 1.5
    min_requests: int = 200
    max_minutes: int = 30


_LIMITS: dict[str, tuple[float, float]] = {
    "error-ratio": (1.0, 100.0),
    "p99-ratio": (1.0, 100.0),
    "min-requests": (10, 1_000_000),
    "max-minutes": (1, 24 * 60),
}


def read_canary_config(value: str | None) -> CanaryConfig | None:
    """The `autopilot:canary` tag: absent or `off` is no analysis, `on` the defaults, or
    space-separated settings such as `error-ratio=2 p99-ratio=1.5 min-requests=200
    max-minutes=30` (unnamed ones keep their default)."""
    if value is None or value.strip().lower() in {"", "off"}:
        return None
    text = value.strip()
    if text.lower() == "on":
        return CanaryConfig()
    settings: dict[str, float] = {}
    for part in re.split(r"[\s,]+", text):
        name, equals, raw = part.partition("=")
        if not equals or name not in _LIMITS:
            raise InvalidConfigError(
                f"{CANARY}: {part!r} is not one of on, off or {', '.join(_LIMITS)}=NUMBER"
            )
        try:
            number = float(raw)
        except ValueError:
            raise InvalidConfigError(f"{CANARY}: {name} must be a number; got {raw!r}") from None
        low, high = _LIMITS[name]
        if not low <= number <= high or (name in {"min-requests", "max-minutes"} and number % 1):
            raise InvalidConfigError(f"{CANARY}: {name} must be from {low:g} to {high:g}")
        settings[name] = number
    defaults = CanaryConfig()
    return CanaryConfig(
        error_ratio=settings.get("error-ratio", defaults.error_ratio),
        p99_ratio=settings.get("p99-ratio", defaults.p99_ratio),
        min_requests=int(settings.get("min-requests", defaults.min_requests)),
        max_minutes=int(settings.get("max-minutes", defaults.max_minutes)),
    )


class Side(msgspec.Struct, frozen=True):
    """One target group over the analysis window."""

    requests: int
    errors: int
    p99_seconds: float | None  # None: no request, so no percentile
    p95_seconds: float | None = None  # shown with the figures, never judged

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    def error_bounds(self) -> tuple[float, float]:
        return wilson_bounds(self.errors, self.requests)


def wilson_bounds(successes: int, trials: int, z: float = _Z_ONE_SIDED_95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (0..1 when there are no trials)."""
    if trials <= 0:
        return 0.0, 1.0
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    margin = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - margin), min(1.0, centre + margin)


REGRESSIONS = frozenset({"error-regression", "latency-regression"})


class Verdict(StrEnum):
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    IN_PROGRESS = "IN_PROGRESS"


class Judgement(msgspec.Struct, frozen=True):
    verdict: Verdict
    reason: str
    blue: Side
    green: Side
    # Why, for machines: waiting | not-enough-traffic | error-regression | latency-regression |
    # no-worse. Only a regression says the new image is bad (and quarantines its digest).
    code: str = ""

    def figures(self) -> str:
        """Both sides' numbers, for the ledger and the notification."""
        return f"blue {_describe(self.blue)}; green {_describe(self.green)}"


def _describe(side: Side) -> str:
    p99 = "n/a" if side.p99_seconds is None else f"{side.p99_seconds * 1000:.0f} ms"
    return f"{side.errors}/{side.requests} errors ({side.error_rate:.2%}), p99 {p99}"


def judge(blue: Side, green: Side, config: CanaryConfig, minutes_elapsed: float) -> Judgement:
    """The verdict on green, compared with blue over the same minutes."""
    if min(blue.requests, green.requests) < config.min_requests:
        if minutes_elapsed >= config.max_minutes:
            return Judgement(
                Verdict.FAILED,
                f"not enough traffic to judge in {config.max_minutes} min (needs "
                f"{config.min_requests} requests on each side): not promoted",
                blue,
                green,
                "not-enough-traffic",
            )
        return Judgement(
            Verdict.IN_PROGRESS,
            f"waiting for {config.min_requests} requests on each side",
            blue,
            green,
            "waiting",
        )
    green_low, _ = green.error_bounds()
    _, blue_high = blue.error_bounds()
    allowed = max(config.error_ratio * blue_high, ERROR_RATE_FLOOR)
    if green_low > allowed:
        return Judgement(
            Verdict.FAILED,
            f"error rate {green.error_rate:.2%} against blue's {blue.error_rate:.2%}: at least "
            f"{green_low:.2%} (95% confidence), above {config.error_ratio:g} x blue's "
            f"{blue_high:.2%}",
            blue,
            green,
            "error-regression",
        )
    if blue.p99_seconds is not None and green.p99_seconds is not None:
        slower = green.p99_seconds - blue.p99_seconds
        if (
            green.p99_seconds > config.p99_ratio * blue.p99_seconds
            and slower >= LATENCY_FLOOR_SECONDS
        ):
            return Judgement(
                Verdict.FAILED,
                f"p99 latency {green.p99_seconds * 1000:.0f} ms against blue's "
                f"{blue.p99_seconds * 1000:.0f} ms: more than {config.p99_ratio:g} x",
                blue,
                green,
                "latency-regression",
            )
    return Judgement(
        Verdict.SUCCEEDED,
        f"no worse than blue: error rate {green.error_rate:.2%} against {blue.error_rate:.2%}",
        blue,
        green,
        "no-worse",
    )
