"""Canary analysis on recorded metric series: green judged against blue over the same minutes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autopilot.domain.canary import (
    REGRESSIONS,
    CanaryConfig,
    Side,
    Verdict,
    judge,
    read_canary_config,
    wilson_bounds,
)
from autopilot.domain.config import InvalidConfigError

# Per-minute (RequestCount, HTTPCode_Target_5XX_Count) of one target group over ten minutes, as
# GetMetricData returns them with a 60 s period; blue takes 90% of the traffic, green 10%.
BLUE_MINUTES = [(905, 2), (880, 1), (912, 3), (870, 0), (899, 2), (930, 1), (915, 2), (890, 1)]
GREEN_HEALTHY = [(101, 0), (97, 1), (99, 0), (104, 0), (98, 0), (102, 1), (100, 0), (96, 0)]
GREEN_BROKEN = [(99, 9), (103, 14), (97, 11), (101, 12), (100, 10), (98, 13), (102, 9), (99, 12)]
GREEN_NOISY = [(100, 1), (98, 0), (103, 2), (97, 0), (101, 1), (99, 0), (102, 1), (100, 0)]


def side(minutes: list[tuple[int, int]], p99: float | None = 0.180) -> Side:
    return Side(sum(r for r, _ in minutes), sum(e for _, e in minutes), p99)


def test_a_healthy_canary_passes() -> None:
    # Given blue at ~0.2% errors and green at ~0.25% over the same eight minutes
    blue, green = side(BLUE_MINUTES), side(GREEN_HEALTHY, 0.190)

    # When green is judged
    judgement = judge(blue, green, CanaryConfig(), minutes_elapsed=8)

    # Then it is promoted, and the numbers of both sides are in the figures
    assert judgement.verdict is Verdict.SUCCEEDED
    assert judgement.figures() == (
        "blue 12/7201 errors (0.17%), p99 180 ms; green 2/797 errors (0.25%), p99 190 ms"
    )


def test_a_canary_with_ten_percent_errors_fails() -> None:
    # Given green failing one request in ten while blue fails two in a thousand
    blue, green = side(BLUE_MINUTES), side(GREEN_BROKEN)

    # When green is judged
    judgement = judge(blue, green, CanaryConfig(), minutes_elapsed=8)

    # Then it fails, saying by how much and with what confidence
    assert judgement.verdict is Verdict.FAILED
    assert judgement.reason.startswith("error rate 11.26% against blue's 0.17%: at least")
    assert "(95% confidence), above 2 x blue's" in judgement.reason


def test_too_few_requests_waits_then_fails_unjudged() -> None:
    # Given green has served only 150 requests (min-requests is 200)
    blue, green = side(BLUE_MINUTES), Side(150, 0, 0.18)

    # When judged early, then after max-minutes
    early = judge(blue, green, CanaryConfig(), minutes_elapsed=5)
    late = judge(blue, green, CanaryConfig(), minutes_elapsed=30)

    # Then it waits, and a canary that could not be judged is not promoted
    assert early.verdict is Verdict.IN_PROGRESS
    assert late.verdict is Verdict.FAILED
    assert "not enough traffic to judge in 30 min" in late.reason


def test_noisy_but_fine_passes() -> None:
    # Given green with 6 errors in 800 (0.75%): higher than blue, within what 800 requests explain
    blue, green = side(BLUE_MINUTES), side(GREEN_NOISY)

    # When green is judged
    judgement = judge(blue, green, CanaryConfig(), minutes_elapsed=8)

    # Then it passes: the low end of its interval is below 2 x blue's high end
    low, _ = green.error_bounds()
    _, blue_high = blue.error_bounds()
    assert low < 2 * blue_high
    assert judgement.verdict is Verdict.SUCCEEDED


def test_a_slow_canary_fails_on_p99() -> None:
    # Given green's errors are fine but its p99 is 420 ms against blue's 180 ms
    blue, green = side(BLUE_MINUTES, 0.180), side(GREEN_HEALTHY, 0.420)

    # When green is judged
    judgement = judge(blue, green, CanaryConfig(), minutes_elapsed=8)

    # Then it fails on latency
    assert judgement.verdict is Verdict.FAILED
    assert judgement.reason == "p99 latency 420 ms against blue's 180 ms: more than 1.5 x"


def test_milliseconds_on_a_fast_service_are_not_a_regression() -> None:
    # Given blue's p99 is 8 ms and green's 14 ms (1.75 x, but 6 ms)
    blue, green = side(BLUE_MINUTES, 0.008), side(GREEN_HEALTHY, 0.014)

    # When green is judged
    judgement = judge(blue, green, CanaryConfig(), minutes_elapsed=8)

    # Then it passes
    assert judgement.verdict is Verdict.SUCCEEDED


@given(
    requests=st.integers(min_value=200, max_value=100_000),
    rate=st.floats(min_value=0, max_value=0.5),
)
def test_green_behaving_exactly_like_blue_is_never_failed(requests: int, rate: float) -> None:
    # Given green and blue with the same requests, errors and latency
    errors = int(requests * rate)
    same = Side(requests, errors, 0.2)

    # When green is judged
    judgement = judge(same, same, CanaryConfig(), minutes_elapsed=10)

    # Then it is promoted
    assert judgement.verdict is Verdict.SUCCEEDED


def test_wilson_bounds_hold_the_observed_rate() -> None:
    # Given 12 errors in 7201 requests
    low, high = wilson_bounds(12, 7201)

    # Then the interval is around 0.17%, and one with no trials says nothing
    assert low < 12 / 7201 < high
    assert (round(low, 4), round(high, 4)) == (0.0010, 0.0027)  # by hand: 0.00104, 0.00267
    assert wilson_bounds(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        (None, None),
        ("off", None),
        ("on", CanaryConfig()),
        (
            "error-ratio=3 p99-ratio=1.2 min-requests=500 max-minutes=15",
            CanaryConfig(3.0, 1.2, 500, 15),
        ),
        ("min-requests=50", CanaryConfig(min_requests=50)),
    ],
)
def test_the_canary_tag_reads_on_off_and_settings(
    tag: str | None, expected: CanaryConfig | None
) -> None:
    assert read_canary_config(tag) == expected


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        ("yes", "'yes' is not one of on, off or error-ratio"),
        ("error-ratio=lots", "error-ratio must be a number; got 'lots'"),
        ("error-ratio=0.5", "error-ratio must be from 1 to 100"),
        ("min-requests=10.5", "min-requests must be from 10 to 1e+06"),
    ],
)
def test_a_bad_canary_tag_says_what_is_wrong(tag: str, message: str) -> None:
    with pytest.raises(InvalidConfigError, match=message.replace("+", r"\+")):
        read_canary_config(tag)


def test_only_a_regression_says_the_new_image_is_bad() -> None:
    # Given each way green can be judged
    blue = side(BLUE_MINUTES)
    judged = {
        "broken": judge(blue, side(GREEN_BROKEN), CanaryConfig(), minutes_elapsed=8),
        "slow": judge(blue, side(GREEN_HEALTHY, 0.420), CanaryConfig(), minutes_elapsed=8),
        "healthy": judge(blue, side(GREEN_HEALTHY), CanaryConfig(), minutes_elapsed=8),
        "early": judge(blue, Side(150, 0, 0.18), CanaryConfig(), minutes_elapsed=5),
        "starved": judge(blue, Side(150, 0, 0.18), CanaryConfig(), minutes_elapsed=30),
    }

    # Then each carries its code, and only the first two are regressions (a canary that could
    # not be judged proves nothing about its image)
    assert {name: (j.code, j.code in REGRESSIONS) for name, j in judged.items()} == {
        "broken": ("error-regression", True),
        "slow": ("latency-regression", True),
        "healthy": ("no-worse", False),
        "early": ("waiting", False),
        "starved": ("not-enough-traffic", False),
    }
