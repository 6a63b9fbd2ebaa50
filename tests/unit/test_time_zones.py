"""Time zones: wall-clock ticks across DST (hand-checked for Europe/Berlin, property-checked for
other zones), TIMESTAMPTZ columns, and x ranges given as datetimes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import pikaplot_widget as pk
from pikaplot_widget.core.zoned_ticks import zoned_time_ticks

BERLIN = ZoneInfo("Europe/Berlin")


def _utc(*args):
    return dt.datetime(*args, tzinfo=dt.timezone.utc).timestamp()


def _wall(values):
    return [dt.datetime.fromtimestamp(v, BERLIN).strftime("%m-%d %H:%M %Z") for v in values]


def test_dst_spring_forward_hour_ticks_skip_the_missing_hour():
    ticks = zoned_time_ticks(_utc(2026, 3, 28, 22), _utc(2026, 3, 29, 4), 10, 0, "Europe/Berlin")
    assert ticks.labels == ("Mar 28 23:00", "Mar 29 00:00", "Mar 29 01:00", "Mar 29 03:00",
                            "Mar 29 04:00", "Mar 29 05:00", "Mar 29 06:00")  # fmt: skip
    # Hand-checked: 01:00 CET is 00:00 UTC and 03:00 CEST is 01:00 UTC, one real hour apart.
    assert ticks.values == tuple(_utc(2026, 3, 28, 22) + 3600 * i for i in range(7))
    assert _wall(ticks.values)[3] == "03-29 03:00 CEST"


def test_dst_fall_back_hour_ticks_show_the_repeated_hour_twice():
    ticks = zoned_time_ticks(_utc(2026, 10, 24, 21), _utc(2026, 10, 25, 3), 10, 0, "Europe/Berlin")
    assert ticks.labels == ("Oct 24 23:00", "Oct 25 00:00", "Oct 25 01:00", "Oct 25 02:00 CEST",
                            "Oct 25 02:00 CET", "Oct 25 03:00", "Oct 25 04:00")  # fmt: skip
    assert ticks.values == tuple(_utc(2026, 10, 24, 21) + 3600 * i for i in range(7))
    assert _wall(ticks.values)[3:5] == ["10-25 02:00 CEST", "10-25 02:00 CET"]
    half_hours = zoned_time_ticks(
        _utc(2026, 10, 24, 23, 45), _utc(2026, 10, 25, 1, 45), 5, 0, "Europe/Berlin"
    )
    assert half_hours.labels == ("02:00 CEST", "02:30 CEST", "02:00 CET", "02:30 CET")
    assert half_hours.offset_label == "2026-10-25"
    assert half_hours.values == tuple(_utc(2026, 10, 25, 0) + 1800 * i for i in range(4))


def test_dst_day_ticks_fall_on_local_midnight():
    march = zoned_time_ticks(_utc(2026, 3, 25), _utc(2026, 4, 2), 10, 0, "Europe/Berlin")
    assert march.labels == ("Mar 26", "Mar 27", "Mar 28", "Mar 29", "Mar 30", "Mar 31", "Apr 01", "Apr 02")
    assert march.offset_label == "2026"
    steps = np.diff(march.values) / 3600
    assert list(steps) == [24, 24, 24, 23, 24, 24, 24]  # 2026-03-29 has 23 hours
    assert all(" 00:00 " in wall for wall in _wall(march.values))
    october = zoned_time_ticks(_utc(2026, 10, 22), _utc(2026, 10, 29), 10, 0, "Europe/Berlin")
    assert october.labels == ("Oct 23", "Oct 24", "Oct 25", "Oct 26", "Oct 27", "Oct 28", "Oct 29")
    assert list(np.diff(october.values) / 3600) == [24, 24, 25, 24, 24, 24]


def test_zoned_ticks_keep_an_origin_and_half_hour_zones():
    origin_us = int(_utc(2026, 1, 1)) * 1_000_000
    ticks = zoned_time_ticks(0.0, 6 * 3600.0, 8, origin_us, "Asia/Kolkata")  # UTC+05:30
    assert ticks.labels[0] == "06:00" and ticks.offset_label == "2026-01-01"
    assert ticks.values[0] == 30 * 60  # 06:00 IST is 00:30 UTC


def _timestamps(n, rng):
    start = np.datetime64("2026-03-27T00:00:00", "us")
    steps = np.sort(rng.integers(0, 4 * 86400 * 10**6, n))
    return start + steps.astype("timedelta64[us]")


def test_timestamptz_column_draws_like_the_same_timestamp(session, rng):
    n = 3_000
    ts = _timestamps(n, rng)
    y = np.cumsum(rng.normal(size=n))
    session.connection.register("frame_in", pa.table({"t": pa.array(ts, pa.timestamp("us")), "y": y}))
    session.connection.execute(
        "CREATE TABLE tz AS SELECT CAST(t AS TIMESTAMP) AS t, timezone('UTC', t) AS tt, y FROM frame_in"
    )
    session.connection.unregister("frame_in")
    assert session.connection.execute("SELECT typeof(tt) FROM tz LIMIT 1").fetchone()[0] == (
        "TIMESTAMP WITH TIME ZONE"
    )
    plain = pk.line("tz", "t", "y", session=session)
    aware = pk.line("tz", "tt", "y", session=session, x_label="t")
    try:
        assert aware.controller.painter.scale.tz == "UTC"  # the session's zone (Etc/UTC here)
        np.testing.assert_array_equal(plain.to_array(), aware.to_array())  # pixel-exact
    finally:
        plain.close()
        aware.close()
    session.connection.execute("SET TimeZone = 'Europe/Berlin'")
    local = pk.line("tz", "tt", "y", session=session, x_label="t")
    naive_berlin = pk.line("tz", "t", "y", session=session, tz="Europe/Berlin")
    try:
        assert local.controller.painter.scale.tz == "Europe/Berlin"
        frame = local.to_array()
        np.testing.assert_array_equal(frame, naive_berlin.to_array())
        layout = local.controller.layout()
        assert layout is not None
        origin = local.x_origin
        for value, label in zip(layout.x_ticks.values, layout.x_ticks.labels, strict=True):
            wall = dt.datetime.fromtimestamp(value + origin, BERLIN)
            assert label in (wall.strftime("%b %d"), wall.strftime("%H:%M"), wall.strftime("%b %d %H:%M"))
            assert (wall.minute, wall.second) == (0, 0)  # on the local wall clock's boundaries
        assert len(layout.x_ticks.values) >= 3
    finally:
        local.close()
        naive_berlin.close()


# --------------------------------------------------------------------------------------- ranges


def test_ranges_as_datetimes_equal_the_float_form(session, rng):
    n = 2_000
    ts = _timestamps(n, rng)
    frame = pd.DataFrame({"t": ts, "y": rng.normal(size=n)})
    lo, hi = _utc(2026, 3, 28, 6), _utc(2026, 3, 29, 18)
    forms = [
        (lo, hi),
        (
            dt.datetime(2026, 3, 28, 6, tzinfo=dt.timezone.utc),
            dt.datetime(2026, 3, 29, 18, tzinfo=dt.timezone.utc),
        ),
        (np.datetime64("2026-03-28T06:00"), np.datetime64("2026-03-29T18:00:00.000000000")),
        (pd.Timestamp("2026-03-28 06:00"), pd.Timestamp("2026-03-29 20:00", tz="Europe/Berlin")),
        (dt.datetime(2026, 3, 28, 6), dt.datetime(2026, 3, 29, 18)),  # naive: the plot's zone (UTC)
    ]
    reference = None
    for form in forms:
        p = pk.line(frame, "t", "y", x_range=form, session=session)
        try:
            drawn = p.to_array()
            assert p.x_range == pytest.approx((lo, hi), abs=1e-6)
            if reference is None:
                reference = drawn
            else:
                np.testing.assert_array_equal(drawn, reference)
        finally:
            p.close()
    berlin = pk.line(frame, "t", "y", tz="Europe/Berlin", session=session)
    try:
        berlin.to_array()
        berlin.x_range = (dt.datetime(2026, 3, 28, 7), dt.datetime(2026, 3, 29, 20))  # CET, then CEST
        assert berlin.x_range == pytest.approx((lo, hi), abs=1e-6)
        assert all(isinstance(v, float) for v in berlin.x_range)
        berlin.x_range = (dt.date(2026, 3, 28), dt.date(2026, 3, 30))  # local midnights
        assert berlin.x_range == pytest.approx((_utc(2026, 3, 27, 23), _utc(2026, 3, 29, 22)))
        berlin.to_array()
        assert berlin.x_range == pytest.approx((_utc(2026, 3, 27, 23), _utc(2026, 3, 29, 22)))
    finally:
        berlin.close()


@pytest.mark.parametrize("seed", range(30))
def test_zoned_ticks_on_random_windows_read_their_own_wall_time(seed):
    rng = np.random.default_rng(seed)
    tz = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"][seed % 5]
    transitions = [_utc(2026, 3, 29, 1), _utc(2026, 10, 25, 1), _utc(2026, 3, 8, 7), _utc(2026, 4, 4, 15)]
    centre = transitions[seed % 4] + rng.uniform(-3, 3) * 3600
    span = 10 ** rng.uniform(2, 7.5)  # minutes to years
    lo, hi = centre - span * rng.uniform(0, 1), centre + span * rng.uniform(0, 1)
    max_ticks = int(rng.integers(3, 14))
    ticks = zoned_time_ticks(lo, hi, max_ticks, 0, tz)
    assert 1 <= len(ticks.values) <= max_ticks
    assert list(ticks.values) == sorted(set(ticks.values))
    assert all(lo <= v <= hi for v in ticks.values)
    for value, label in zip(ticks.values, ticks.labels, strict=True):
        wall = dt.datetime.fromtimestamp(value, ZoneInfo(tz))
        if ":" in label:
            assert wall.strftime("%H:%M") in label
        elif label.isdigit():
            assert (wall.year, wall.month, wall.day, wall.hour) == (int(label), 1, 1, 0)
        else:
            assert (wall.hour, wall.minute) == (0, 0)  # dates and months start at local midnight


# ----------------------------------------------------------------------------------- zone names


def test_zone_names_are_those_browsers_know():
    """Reference: zoneinfo's list minus the system files and copies that Intl.DateTimeFormat
    refuses (checked by hand in node and Chromium: Factory, localtime, posixrules, posix/, right/)."""
    from zoneinfo import available_timezones

    from pikaplot_widget.core.scale import checked_zone

    refused = {"localtime", "posixrules", "Factory"}
    accepted = {
        z for z in available_timezones() if z not in refused and not z.startswith(("posix/", "right/"))
    }
    for name in sorted(accepted):
        assert checked_zone(name) in (name, "UTC")
    for name in ("localtime", "posixrules", "Factory", "posix/Europe/Berlin", "right/Europe/Berlin"):
        with pytest.raises(ValueError, match="tz: unknown time zone") as caught:
            checked_zone(name)
        if "Berlin" in name:
            assert "Europe/Berlin" in str(caught.value)  # the suggestion names the real zone
    frame = pd.DataFrame({"t": pd.date_range("2026-01-01", periods=3, freq="h"), "y": [0.0, 1.0, 2.0]})
    with pytest.raises(ValueError, match="right/Europe/Berlin"):
        pk.line(frame, "t", "y", tz="right/Europe/Berlin")


@pytest.mark.parametrize("kind", ["line", "scatter"])
def test_a_date_x_refuses_a_zone_and_draws_its_days_at_midnight(session, kind):
    make = pk.line if kind == "line" else pk.scatter
    days = pd.date_range("2026-03-01", periods=40, freq="D").date
    frame = pd.DataFrame({"d": days, "y": np.arange(40.0)})
    for zone in ("America/New_York", "Europe/Berlin", "Asia/Kolkata"):
        with pytest.raises(ValueError, match=f"tz='{zone}' does not apply to a DATE x"):
            make(frame, "d", "y", tz=zone, session=session)
    for zone in (None, "UTC", "Etc/UTC"):
        p = make(frame, "d", "y", tz=zone, session=session)
        try:
            p.to_array()
            assert p.controller.painter.scale.tz == "UTC"
            layout = p.controller.layout()
            assert layout is not None
            # numpy reference: each day tick lands on that day's midnight (no shift to the day before)
            midnights = set(np.arange(days[0], days[-1] + dt.timedelta(1), dtype="datetime64[D]"))
            for value, label in zip(layout.x_ticks.values, layout.x_ticks.labels, strict=True):
                instant = np.datetime64(round((value + p.x_origin) * 1e6), "us")
                day = instant.astype("datetime64[D]")
                assert instant == day.astype("datetime64[us]") and day in midnights
                assert label == pd.Timestamp(day).strftime("%b %d")
        finally:
            p.close()


@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"])
def test_naive_range_ends_are_wall_time_in_the_zone_whatever_their_type(tz, rng):
    """datetime, numpy.datetime64 and pandas.Timestamp give the same seconds; reference: pandas'
    tz_localize with the same rules (fold: first occurrence, gap: shifted forward)."""
    from pikaplot_widget.ranges import to_seconds

    fixed = ["2026-03-29 02:30", "2026-03-29 02:00", "2026-10-25 02:30", "2026-10-25 02:59:59.999999"]
    fixed += ["2026-03-08 02:15:00.25", "2026-11-01 01:30", "2026-10-04 02:10", "2026-04-05 01:45"]
    # random wall times, half of them within a day of a transition of 2026 in these zones
    near = pd.to_datetime(
        ["2026-03-29", "2026-10-25", "2026-03-08", "2026-11-01", "2026-10-04", "2026-04-05"]
    )
    offsets_us = rng.integers(0, 86_400 * 10**6, 120)
    random = [near[i % len(near)] + pd.Timedelta(microseconds=int(o)) for i, o in enumerate(offsets_us)]
    random += list(pd.Timestamp("1960-01-01") + pd.to_timedelta(rng.integers(0, 3 * 10**15, 60), "us"))
    random.append(pd.Timestamp(np.datetime64("3000-07-01T12:00:00.5", "us")))  # past nanoseconds' range
    for wall in [pd.Timestamp(w) for w in fixed] + random:
        forms = (wall.to_pydatetime(), np.datetime64(wall.to_datetime64(), "us"), wall)
        seconds = [to_seconds(form, tz, "x_range") for form in forms]
        assert seconds[0] == seconds[1] == seconds[2], (wall, seconds)
        reference = wall.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
        assert seconds[0] == pytest.approx(reference.timestamp(), abs=1e-5), (wall, tz)


def test_a_half_hour_dst_gap_shifts_to_its_end():
    """Lord Howe skips 02:00-02:30 (hand-checked with zoneinfo: 01:59:59 +10:30, then 02:30 +11:00);
    pandas 3.1 shifts such a time to 03:00, so it is no reference here."""
    from pikaplot_widget.ranges import to_seconds

    end = dt.datetime(2026, 10, 3, 15, 30, tzinfo=dt.timezone.utc).timestamp()
    for form in (
        dt.datetime(2026, 10, 4, 2, 10),
        np.datetime64("2026-10-04T02:10"),
        pd.Timestamp("2026-10-04 02:10"),
    ):
        assert to_seconds(form, "Australia/Lord_Howe", "x_range") == end
    fold = to_seconds(dt.datetime(2026, 4, 5, 1, 45), "Australia/Lord_Howe", "x_range")
    assert fold == dt.datetime(2026, 4, 4, 14, 45, tzinfo=dt.timezone.utc).timestamp()  # first: +11:00


def test_plot_ranges_agree_across_types_on_the_dst_gap_and_fold(session, rng):
    n = 2_000
    frame = pd.DataFrame({"t": _timestamps(n, rng), "y": rng.normal(size=n)})
    p = pk.line(frame, "t", "y", tz="Europe/Berlin", session=session)
    try:
        p.to_array()
        for lo, hi in (("2026-03-29 02:30", "2026-10-25 02:30"), ("2026-03-28 23:00", "2026-03-29 02:15")):
            ranges = []
            for convert in (dt.datetime.fromisoformat, np.datetime64, pd.Timestamp):
                p.x_range = (convert(lo), convert(hi))
                ranges.append(p.x_range)
            assert ranges[0] == ranges[1] == ranges[2]
        # 02:15 on 29 March does not exist in Berlin: shifted forward to 03:00 CEST (01:00 UTC)
        assert ranges[0] == pytest.approx((_utc(2026, 3, 28, 22), _utc(2026, 3, 29, 1)), abs=1e-6)
        p.x_range = (np.datetime64("2026-10-25T02:30"), np.datetime64("2026-10-25T03:30"))
        assert p.x_range == pytest.approx((_utc(2026, 10, 25, 0, 30), _utc(2026, 10, 25, 2, 30)), abs=1e-6)
    finally:
        p.close()


@pytest.mark.parametrize("tz", [None, "Europe/Berlin", "America/New_York"])
def test_select_takes_datetimes_as_x_range_does(session, rng, tz):
    n = 5_000
    ts = _timestamps(n, rng)
    frame = pd.DataFrame({"t": ts, "y": rng.normal(size=n)})
    p = pk.scatter(frame, "t", "y", tz=tz, session=session)
    zone = tz or "UTC"
    try:
        p.to_array()
        for lo, hi in (("2026-03-28 06:00", "2026-03-29 02:30"), ("2026-03-27 10:15:30", "2026-03-30 23:59")):
            # numpy/pandas reference: rows whose instant lies within the wall times localized in the zone
            lo_ns, hi_ns = (
                pd.Timestamp(v).tz_localize(zone, nonexistent="shift_forward").tz_convert(None).as_unit("us")
                for v in (lo, hi)
            )
            expected = int(((ts >= lo_ns.to_datetime64()) & (ts <= hi_ns.to_datetime64())).sum())
            for convert in (dt.datetime.fromisoformat, np.datetime64, pd.Timestamp):
                p.select(x=(convert(lo), convert(hi)))
                assert len(p.selection.fetchall()) == expected, (convert, lo, hi)
            p.x_range = (pd.Timestamp(lo), pd.Timestamp(hi))
            assert p.selection_bounds["x"] == pytest.approx(list(p.x_range), abs=1e-6)
        with pytest.raises(ValueError, match="x"):
            p.select(x=(dt.datetime(2026, 3, 28), "tomorrow"))
    finally:
        p.close()
