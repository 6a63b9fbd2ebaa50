"""Tests for pikaplot_widget.core.ticks: nice numeric ticks, calendar-aware time ticks and their labels.

The random tests compare against independent checks: labels are parsed back as exact decimals
(``Decimal``) or as datetimes (``strptime``), and tick counts for competing steps are recomputed with
exact ``Decimal`` arithmetic or by walking the calendar month by month.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext

import numpy as np
import pytest

from pikaplot_widget.core.ticks import Ticks, max_ticks_for, numeric_ticks, time_ticks

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SEED = 20240305
NICE = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5))
US = 1_000_000
DAY_US = 86400 * US
FIXED_LADDER_US = [
    *(m * 10**k for k in range(6) for m in (1, 2, 5)),
    *(s * US for s in (1, 2, 5, 10, 15, 30)),
    *(m * 60 * US for m in (1, 2, 5, 10, 15, 30)),
    *(h * 3600 * US for h in (1, 2, 3, 6, 12)),
    *(d * DAY_US for d in (1, 2, 7)),
]
MONDAY_US = 4 * DAY_US  # 1970-01-05, the first Monday after the epoch
MONTH_STEPS = (1, 3, 6)
YEAR_STEPS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
CALENDAR_LADDER = [*MONTH_STEPS, *(12 * y for y in YEAR_STEPS)]
LABEL_FORMATS = (
    "%Y",
    "%b %Y",
    "%Y %b %d",
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M",
    "%Y %b %d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y %b %d %H:%M:%S",
    "%Y-%m-%d %H:%M %S.%f",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y %b %d %H:%M:%S.%f",
)


# ------------------------------------------------------------------------------------------ helpers


def exact(x: float) -> Decimal:
    return Decimal(x)


def count_multiples(lo: float, hi: float, step: Decimal, offset: Decimal = Decimal(0)) -> int:
    """Number of ``offset + i * step`` whose float (nearest double) lies in ``[lo, hi]``, via ``Decimal``."""
    with localcontext() as ctx:
        ctx.prec = 1500

        def value(i: int) -> float:
            return float(offset + i * step)

        first = int(((exact(lo) - offset) / step).to_integral_value(ROUND_CEILING))
        last = int(((exact(hi) - offset) / step).to_integral_value(ROUND_FLOOR))
        # A multiple just outside the range can round onto its edge (and vice versa).
        while value(first - 1) >= lo:
            first -= 1
        while value(first) < lo:
            first += 1
        while value(last + 1) <= hi:
            last += 1
        while value(last) > hi:
            last -= 1
        return max(0, last - first + 1)


def finer_nice(step: Decimal) -> Decimal:
    """The nice step just below ``step`` in the 1, 2, 2.5, 5 sequence."""
    exponent = step.adjusted()
    mantissa = step.scaleb(-exponent).normalize()
    i = NICE.index(mantissa)
    if i == 0:
        return Decimal(5).scaleb(exponent - 1)
    return NICE[i - 1].scaleb(exponent)


def mantissa(step: Decimal) -> Decimal:
    return step.scaleb(-step.adjusted()).normalize()


def label_decimals(label: str) -> int:
    body = label.split("e", maxsplit=1)[0]
    return len(body.split(".")[1]) if "." in body else 0


def check_numeric(ticks: Ticks, lo: float, hi: float, max_ticks: int, *, check_range: bool = True) -> Decimal:
    """Independent checks of a numeric tick set; returns the exact step."""
    lo, hi = min(lo, hi), max(lo, hi)
    values, labels = ticks.values, ticks.labels
    assert ticks.offset_label == ""
    assert len(values) == len(labels)
    assert 2 <= len(values) <= max(2, max_ticks)
    assert all(isinstance(v, float) and math.isfinite(v) for v in values)
    assert list(values) == sorted(set(values))
    if check_range:
        assert lo <= values[0]
        assert values[-1] <= hi
    assert len(set(labels)) == len(labels)

    # Labels are exact decimal renderings of the ticks.
    decs = [Decimal(label) for label in labels]
    steps = {b - a for a, b in itertools.pairwise(decs)}
    assert len(steps) == 1, labels
    step = steps.pop()
    assert step > 0
    for label, d, v in zip(labels, decs, values, strict=True):
        assert float(d) == v, (label, v)
        assert abs(float(label) - v) <= float(step) / 1000
        assert not re.fullmatch(r"-0(\.0*)?(e.*)?", label), label

    # Consistent formatting: one style, one number of decimals (zero may be a bare "0" in e-notation).
    sci = [label for label in labels if "e" in label]
    if sci:
        assert all("e" in label or label == "0" for label in labels), labels
        assert len({label_decimals(label) for label in sci}) == 1, labels
    else:
        assert len({label_decimals(label) for label in labels}) == 1, labels
        # Minimal decimals: dropping the last one would lose information.
        dec = label_decimals(labels[0])
        if dec:
            assert any(label[-1] != "0" for label in labels), labels
    biggest = max(abs(d) for d in decs)
    if biggest < Decimal(10) ** 6 and step >= Decimal("1e-4"):
        assert not sci, labels
    return step


def us_of(t: float) -> int:
    """Exact microseconds of a tick (ticks are correctly rounded ``us / 1e6``)."""
    us = int((exact(t) * US).to_integral_value())
    assert us / US == t
    return us


def dt_of_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def parse_label(label: str, offset: str) -> datetime:
    text = f"{offset} {label}".strip()
    for fmt in LABEL_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise AssertionError(f"unparseable time label {text!r}")


def month_index(dt: datetime) -> int:
    return dt.year * 12 + dt.month - 1


def count_month_ticks(lo: float, hi: float, months: int) -> int:
    """Brute force: month starts in ``[lo, hi]`` whose month index is a multiple of ``months``."""
    dt = datetime.fromtimestamp(lo, UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    n = 0
    while dt.timestamp() <= hi:
        if dt.timestamp() >= lo and month_index(dt) % months == 0:
            n += 1
        dt = dt.replace(year=dt.year + dt.month // 12, month=dt.month % 12 + 1)
    return n


def check_time(ticks: Ticks, lo: float, hi: float, max_ticks: int, *, check_range: bool = True) -> None:
    """Independent checks of a time tick set: range, count, labels and calendar alignment."""
    lo, hi = min(lo, hi), max(lo, hi)
    values, labels = ticks.values, ticks.labels
    assert len(values) == len(labels)
    assert 2 <= len(values) <= max(2, max_ticks), (lo, hi, labels)
    assert list(values) == sorted(set(values))
    if check_range:
        assert lo <= values[0]
        assert values[-1] <= hi
    assert len(set(labels)) == len(labels), labels

    us = [us_of(v) for v in values]
    dts = [dt_of_us(u) for u in us]
    # Labels plus the offset label name the tick exactly.
    for label, dt in zip(labels, dts, strict=True):
        assert parse_label(label, ticks.offset_label) == dt, (label, ticks.offset_label, dt)

    diffs = {b - a for a, b in itertools.pairwise(us)}
    if all(dt.day == 1 and dt.time() == datetime.min.time() for dt in dts) and min(diffs) >= 28 * DAY_US:
        check_calendar_steps(ticks, dts, lo, hi, max_ticks)
        return

    assert len(diffs) == 1, labels
    step = diffs.pop()
    if step in FIXED_LADDER_US and all((u - week_offset(step)) % step == 0 for u in us):
        base = step
        i = FIXED_LADDER_US.index(step)
        if check_range:
            # Every aligned multiple in range is a tick, and the finer ladder step would not have fitted.
            assert count_multiples(lo, hi, Decimal(step) / US, Decimal(week_offset(step)) / US) == len(values)
            if i:
                finer = FIXED_LADDER_US[i - 1]
                offset = Decimal(week_offset(finer)) / US
                assert count_multiples(lo, hi, Decimal(finer) / US, offset) > max_ticks
    else:
        # Every k-th tick of a finer step: only when the next coarser ladder step (ratio r) left fewer
        # than two ticks, which needs max_ticks < 2 r (a month is at most 31 days).
        bases = [
            s for s in FIXED_LADDER_US if step % s == 0 and all((u - week_offset(s)) % s == 0 for u in us)
        ]
        assert bases, labels
        base = max(bases)
        i = FIXED_LADDER_US.index(base)
        coarser = FIXED_LADDER_US[i + 1] if i + 1 < len(FIXED_LADDER_US) else 31 * DAY_US
        assert max_ticks < 2 * coarser / base, (step, max_ticks, labels)
        assert step // base < 2 * coarser / base
    for dt in dts:
        if base >= 1 * US:
            assert dt.microsecond == 0
        if base >= 60 * US:
            assert dt.second == 0
        if base >= 3600 * US:
            assert dt.minute == 0
        if base >= DAY_US:
            assert dt.hour == 0
        if base == 7 * DAY_US:
            assert dt.weekday() == 0
    if step < US:
        assert re.fullmatch(r"\d\d\.\d{1,6}", labels[0]) or re.search(r"\d\d:\d\d:\d\d\.\d+$", labels[0])


def week_offset(step_us: int) -> int:
    return MONDAY_US if step_us == 7 * DAY_US else 0


def check_calendar_steps(ticks: Ticks, dts: list[datetime], lo: float, hi: float, max_ticks: int) -> None:
    """Month and year ticks: constant step in months, aligned to a ladder step, right labels."""
    labels = ticks.labels
    assert not ticks.offset_label
    months = {month_index(b) - month_index(a) for a, b in itertools.pairwise(dts)}
    assert len(months) == 1
    step = months.pop()
    aligned = [
        n
        for n in (*MONTH_STEPS, *(12 * y for y in YEAR_STEPS))
        if all(month_index(dt) % n == 0 for dt in dts)
    ]
    if step in aligned:
        # Every aligned month start in range is a tick, and the next finer step would not have fitted.
        assert count_month_ticks(lo, hi, step) == len(dts)
        i = CALENDAR_LADDER.index(step)
        if i:
            assert count_month_ticks(lo, hi, CALENDAR_LADDER[i - 1]) > max_ticks
        elif max_ticks >= 4:
            assert count_multiples(lo, hi, Decimal(7 * 86400), Decimal(4 * 86400)) > max_ticks
    else:
        # Every k-th tick of a finer step: needs max_ticks < 2 r, r the ratio to the next coarser step.
        base = max(n for n in aligned if step % n == 0)
        i = CALENDAR_LADDER.index(base)
        ratio = CALENDAR_LADDER[i + 1] / base
        assert max_ticks < 2 * ratio, labels
        assert step / base < 2 * ratio, labels
    if step >= 12 and step % 12 == 0 and all(dt.month == 1 for dt in dts):
        assert all(label == str(dt.year) for label, dt in zip(labels, dts, strict=True))
    else:
        assert all(re.fullmatch(r"[A-Z][a-z]{2} \d{4}", label) for label in labels)


# ------------------------------------------------------------------------------------ numeric_ticks


def random_numeric_cases(n: int, seed: int) -> list[tuple[float, float, int]]:
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        kind = rng.integers(4)
        exponent = rng.uniform(-290, 290) if kind == 0 else rng.uniform(-8, 12)
        centre = float(rng.choice([-1.0, 1.0]) * 10**exponent * rng.uniform(0.1, 1))
        if kind == 2:
            centre = 0.0 if rng.random() < 0.5 else centre
            span = float(10 ** rng.uniform(-8, 12))
        else:
            span = abs(centre) * float(10 ** rng.uniform(-10, 2))
        lo = centre - span * float(rng.uniform(0, 1))
        hi = lo + span
        if kind == 3:
            lo, hi = hi, lo
        max_ticks = int(rng.integers(2, 16))
        cases.append((lo, hi, max_ticks))
    return cases


@pytest.mark.parametrize("chunk", range(4))
def test_numeric_random_ranges(chunk):
    for lo, hi, max_ticks in random_numeric_cases(500, SEED + chunk):
        ticks = numeric_ticks(lo, hi, max_ticks)
        lo_, hi_ = min(lo, hi), max(lo, hi)
        # Spans under 1e-12 of the magnitude are widened about their centre (documented).
        min_span = 1e-12 * max(abs(lo), abs(hi))
        if lo == hi:  # the random span vanished in rounding: padded by 1 %
            check_numeric(ticks, lo, hi, max_ticks, check_range=False)
            assert ticks.values[0] <= lo <= ticks.values[-1]
            continue
        if hi_ - lo_ < min_span:
            step = check_numeric(ticks, lo, hi, max_ticks, check_range=False)
            centre = lo_ / 2 + hi_ / 2
            lo_, hi_ = centre - min_span / 2, centre + min_span / 2
            assert lo_ - min_span * 1e-6 <= ticks.values[0]
            assert ticks.values[-1] <= hi_ + min_span * 1e-6
            continue
        step = check_numeric(ticks, lo, hi, max_ticks)
        aligned = all(Decimal(label) % step == 0 for label in ticks.labels)
        if mantissa(step) in NICE and aligned:
            # Every multiple of the step in range is a tick, and the next finer nice step has too many.
            assert count_multiples(lo_, hi_, step) == len(ticks.values)
            assert count_multiples(lo_, hi_, finer_nice(step)) > max_ticks
        else:
            # Every k-th tick of a finer nice step: only needed when very few ticks are allowed.
            assert max_ticks < 4, (lo, hi, max_ticks, ticks)
            assert any(mantissa(step / k) in NICE for k in range(2, 6)), ticks.labels
        if max_ticks >= 4:
            assert mantissa(step) in NICE, ticks.labels
            assert aligned, ticks.labels


@pytest.mark.parametrize("max_ticks", [2, 3, 4, 5, 8, 10, 20])
def test_numeric_count_bounds_for_each_budget(max_ticks):
    rng = np.random.default_rng(SEED + max_ticks)
    for _ in range(300):
        lo = float(rng.uniform(-1000, 1000))
        hi = lo + float(10 ** rng.uniform(-3, 4))
        ticks = numeric_ticks(lo, hi, max_ticks)
        check_numeric(ticks, lo, hi, max_ticks)


def test_numeric_simple_examples():
    assert numeric_ticks(0, 1) == Ticks(
        (0.0, 0.2, 0.4, 0.6, 0.8, 1.0), ("0.0", "0.2", "0.4", "0.6", "0.8", "1.0")
    )
    assert numeric_ticks(0, 10).labels == ("0", "2", "4", "6", "8", "10")
    assert numeric_ticks(0, 10, 5).labels == ("0.0", "2.5", "5.0", "7.5", "10.0")
    assert numeric_ticks(-5, -1).labels == ("-5", "-4", "-3", "-2", "-1")
    assert numeric_ticks(0.1, 1.6, 2).values == (0.5, 1.5)


def test_numeric_swapped_range_is_same():
    assert numeric_ticks(10, -3) == numeric_ticks(-3, 10)
    assert numeric_ticks(7.5, 2.25, 4) == numeric_ticks(2.25, 7.5, 4)


@pytest.mark.parametrize(
    "x", [0.0, -0.0, 5.0, -3.0, 1e-300, -1e300, 1e300, 5e-324, sys.float_info.max, 123456.789]
)
def test_numeric_degenerate_range_is_padded(x):
    ticks = numeric_ticks(x, x)
    check_numeric(ticks, x, x, 8, check_range=False)
    assert ticks.values[0] <= x <= ticks.values[-1] or x == sys.float_info.max


@pytest.mark.parametrize(
    ("lo", "hi"),
    [(math.nan, 1.0), (0.0, math.inf), (-math.inf, 0.0), (math.nan, math.nan), (math.inf, math.inf)],
)
def test_non_finite_raises(lo, hi):
    with pytest.raises(ValueError, match="finite"):
        numeric_ticks(lo, hi)
    with pytest.raises(ValueError, match="finite"):
        time_ticks(lo, hi)


def test_numeric_scientific_labels():
    assert numeric_ticks(1e6, 2e6, 3).labels == ("1.0e6", "1.5e6", "2.0e6")
    assert "2e-5" in numeric_ticks(0, 1e-4).labels
    assert numeric_ticks(1e-300, 5e-300).labels == ("1e-300", "2e-300", "3e-300", "4e-300", "5e-300")
    assert numeric_ticks(1e300, 5e300).labels == ("1e300", "2e300", "3e300", "4e300", "5e300")
    assert numeric_ticks(-2e7, 0, 3).labels == ("-2e7", "-1e7", "0")


def test_numeric_tiny_span_at_large_magnitude_uses_plain_digits():
    ticks = numeric_ticks(1e9, 1e9 + 10)
    check_numeric(ticks, 1e9, 1e9 + 10, 8)
    assert "1000000002" in ticks.labels
    assert all("e" not in label for label in ticks.labels)
    ticks = numeric_ticks(1.5, 1.5 + 1e-9)
    check_numeric(ticks, 1.5, 1.5 + 1e-9, 8)
    assert all(label.startswith("1.50000000") for label in ticks.labels)


def test_numeric_span_below_float_resolution_is_widened():
    ticks = numeric_ticks(1.0, math.nextafter(1.0, 2.0))
    check_numeric(ticks, 1.0, 1.0, 8, check_range=False)
    assert ticks.values[0] <= 1.0 <= ticks.values[-1]


@pytest.mark.parametrize(
    ("lo", "hi"),
    [(-1, 1), (-1e-5, 1e-5), (-1e7, 1e7), (-0.3, 0.1), (-1e-300, 1e-300), (-2.5e-7, 0.0), (-0.0, 1.0)],
)
def test_numeric_no_negative_zero(lo, hi):
    ticks = numeric_ticks(lo, hi)
    check_numeric(ticks, lo, hi, 8)
    assert any(v == 0 for v in ticks.values)
    assert all(not label.startswith("-0") or label.startswith("-0.") for label in ticks.labels)
    zero = ticks.labels[ticks.values.index(0.0)]
    assert not zero.startswith("-")


def test_numeric_extreme_magnitudes():
    big = sys.float_info.max
    ticks = numeric_ticks(-big, big)
    check_numeric(ticks, -big, big, 8)
    for lo, hi in [(-1e-300, -5e-301), (1e-305, 9e-305), (1e307, big), (-big, -1e308), (0, 1e-300)]:
        check_numeric(numeric_ticks(lo, hi), lo, hi, 8)
    # Spans close to the subnormal range are widened.
    ticks = numeric_ticks(2e-308, 9e-308)
    check_numeric(ticks, 2e-308, 9e-308, 8, check_range=False)
    assert ticks.values[0] <= 2e-308
    assert ticks.values[-1] >= 9e-308


def test_numeric_large_and_small_budgets():
    ticks = numeric_ticks(0, 1, 1000)
    check_numeric(ticks, 0, 1, 1000)
    assert len(ticks.values) > 100
    for budget in (0, 1, -5):
        ticks = numeric_ticks(0, 1, budget)
        check_numeric(ticks, 0, 1, 2)
    check_numeric(numeric_ticks(np.float32(1.5), np.float64(4.0), np.int64(5)), 1.5, 4.0, 5)


# --------------------------------------------------------------------------------------- time_ticks


def ts(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


SPANS_S = [1e-3, 5e-3, 0.05, 0.3, 1, 7, 45, 200, 1800, 3 * 3600, 30 * 3600, 4 * 86400, 20 * 86400]
SPANS_S += [75 * 86400, 200 * 86400, 2 * 365 * 86400, 12 * 365 * 86400, 50 * 365.25 * 86400]


@pytest.mark.parametrize("span", SPANS_S)
def test_time_span_ladder(span):
    rng = np.random.default_rng(SEED + int(span * 1000) % 100_000)
    for _ in range(60):
        lo = float(rng.uniform(ts(1950, 1, 1), ts(2090, 1, 1)))
        for max_ticks in (2, 3, 5, 8, 12):
            check_time(time_ticks(lo, lo + span, max_ticks), lo, lo + span, max_ticks)


@pytest.mark.parametrize("chunk", range(4))
def test_time_random_ranges(chunk):
    rng = np.random.default_rng(SEED + 100 + chunk)
    for _ in range(500):
        lo = float(rng.uniform(ts(1900, 1, 1), ts(2100, 1, 1)))
        span = float(10 ** rng.uniform(-3, math.log10(50 * 365.25 * 86400)))
        max_ticks = int(rng.integers(2, 16))
        hi = lo + span
        if rng.random() < 0.2:
            lo, hi = hi, lo
        check_time(time_ticks(lo, hi, max_ticks), lo, hi, max_ticks)


def test_time_ranges_on_exact_boundaries():
    for lo, hi in [
        (ts(2024, 1, 1), ts(2025, 1, 1)),
        (ts(2024, 3, 1), ts(2024, 4, 1)),
        (ts(2000, 1, 1), ts(2050, 1, 1)),
        (ts(2024, 3, 5, 14), ts(2024, 3, 5, 15)),
        (ts(1969, 12, 31, 23, 59, 59), ts(1970, 1, 1, 0, 0, 1)),
        (0.0, 1e-3),
        (-1.0, 0.0),
    ]:
        for max_ticks in (2, 3, 4, 8, 13):
            ticks = time_ticks(lo, hi, max_ticks)
            check_time(ticks, lo, hi, max_ticks)


def test_time_label_styles():
    ticks = time_ticks(ts(2024, 1, 10), ts(2024, 12, 20), 4)
    assert ticks.labels == ("Apr 2024", "Jul 2024", "Oct 2024")
    assert ticks.offset_label == ""

    ticks = time_ticks(ts(2001, 6, 1), ts(2041, 6, 1), 4)
    assert ticks.labels == ("2010", "2020", "2030", "2040")

    ticks = time_ticks(ts(2024, 3, 4), ts(2024, 3, 11, 12))
    assert ticks.labels[0] == "Mar 04"
    assert ticks.labels[-1] == "Mar 11"
    assert ticks.offset_label == "2024"

    ticks = time_ticks(ts(2023, 12, 28), ts(2024, 1, 3))
    assert ticks.labels[:2] == ("2023-12-28", "2023-12-29")
    assert ticks.offset_label == ""

    ticks = time_ticks(ts(2024, 3, 5, 14, 0), ts(2024, 3, 5, 16, 0))
    assert ticks.labels[0] == "14:00"
    assert "14:30" in ticks.labels
    assert ticks.offset_label == "2024-03-05"

    ticks = time_ticks(ts(2024, 3, 5, 20), ts(2024, 3, 6, 4))
    assert ticks.labels[0] == "Mar 05 20:00"
    assert ticks.offset_label == "2024"

    ticks = time_ticks(ts(2024, 3, 5, 14, 30, 0), ts(2024, 3, 5, 14, 30, 40))
    assert ticks.labels[:2] == ("14:30:00", "14:30:10")
    assert ticks.offset_label == "2024-03-05"

    lo = ts(2024, 3, 5, 14, 30, 5)
    ticks = time_ticks(lo, lo + 0.01)
    assert ticks.labels[:2] == ("05.000", "05.002")
    assert ticks.offset_label == "2024-03-05 14:30"

    ticks = time_ticks(lo - 5.5, lo - 4.5)  # crosses a minute
    assert ticks.labels[0].startswith("14:29:59.")
    assert ticks.offset_label == "2024-03-05"


def test_time_week_ticks_start_on_monday():
    ticks = time_ticks(ts(2024, 3, 1), ts(2024, 4, 20))
    dts = [datetime.fromtimestamp(v, UTC) for v in ticks.values]
    assert [dt.day for dt in dts[:3]] == [4, 11, 18]
    assert all(dt.weekday() == 0 for dt in dts)


def test_time_degenerate_and_swapped():
    t = ts(2024, 3, 5, 14, 30)
    ticks = time_ticks(t, t)
    check_time(ticks, t - 1, t + 1, 8)
    assert ticks.values[0] <= t <= ticks.values[-1]
    assert time_ticks(t + 100, t) == time_ticks(t, t + 100)
    # Spans below the float resolution of epoch seconds are widened, not failed.
    ticks = time_ticks(t, math.nextafter(t, math.inf))
    check_time(ticks, t, t, 8, check_range=False)


def test_time_out_of_calendar_range_falls_back_to_numbers():
    ticks = time_ticks(-1e12, 1e12)
    check_numeric(ticks, -1e12, 1e12, 8)
    ticks = time_ticks(1e15, 2e15, 5)
    check_numeric(ticks, 1e15, 2e15, 5)


def test_time_full_calendar_range():
    lo, hi = ts(1, 1, 1), ts(9999, 1, 1)
    for max_ticks in (2, 3, 8):
        check_time(time_ticks(lo, hi, max_ticks), lo, hi, max_ticks)


# ---------------------------------------------------------------------------------------- misc / perf


def test_ticks_is_frozen():
    ticks = numeric_ticks(0, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ticks.values = ()  # type: ignore[misc]
    assert Ticks((1.0,), ("1",)).offset_label == ""


def test_max_ticks_for():
    assert max_ticks_for(800) == 11
    assert max_ticks_for(800, 100) == 9
    assert max_ticks_for(100) == 2
    assert max_ticks_for(0) == 2
    assert max_ticks_for(-5) == 2
    assert max_ticks_for(math.nan) == 2
    assert max_ticks_for(1e12) == 1000
    for bad in (0, -1, math.nan, math.inf):
        with pytest.raises(ValueError, match="min_spacing_px"):
            max_ticks_for(500, bad)


def test_speed_per_call():
    rng = np.random.default_rng(SEED + 7)
    t_cases = []
    for _ in range(300):
        lo = float(rng.uniform(ts(1990, 1, 1), ts(2030, 1, 1)))
        t_cases.append((lo, lo + float(10 ** rng.uniform(-3, 9))))
    n_cases = random_numeric_cases(300, SEED + 8)

    def median_us(fn, cases):
        times = []
        for lo, hi, *_ in cases:
            start = time.perf_counter()
            fn(lo, hi, 8)
            times.append(time.perf_counter() - start)
        return statistics.median(times) * 1e6

    assert median_us(time_ticks, t_cases) < 1000
    assert median_us(numeric_ticks, n_cases) < 1000
