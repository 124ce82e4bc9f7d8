"""Maintenance windows (plugins/filter/patching.py), judged at fixed times."""

from __future__ import annotations

import pytest

NIGHTS = [{"days": ["sat", "sun"], "start": "22:00", "end": "06:00"}]


@pytest.fixture
def patching(plugin):
    return plugin("filter", "patching")


@pytest.mark.parametrize(
    ("now", "is_open"),
    [
        ("2026-11-21T22:00:00+08:00", True),  # Saturday, the window opens
        ("2026-11-21T21:59:59+08:00", False),  # Saturday, a second before
        ("2026-11-22T02:30:00+08:00", True),  # Sunday night, Saturday's window crossed midnight
        ("2026-11-22T23:00:00+08:00", True),  # Sunday's own window
        ("2026-11-23T05:59:00+08:00", True),  # Monday morning, Sunday's window still open
        ("2026-11-23T06:00:00+08:00", False),  # Monday 06:00, closed
        ("2026-11-23T23:00:00+08:00", False),  # Monday night: no window opens on Monday
        ("2026-11-21T01:00:00+08:00", False),  # Saturday early morning: Friday has no window
        ("2026-11-25T10:00:00+08:00", False),  # Wednesday office hours
    ],
)
def test_window_crossing_midnight(patching, now, is_open):
    assert patching.patching_window(NIGHTS, "Asia/Shanghai", now)["open"] is is_open


def test_time_zone_of_the_given_time_is_converted(patching):
    # 14:30 UTC on Saturday is 22:30 in Shanghai.
    result = patching.patching_window(NIGHTS, "Asia/Shanghai", "2026-11-21T14:30:00+00:00")
    assert result["open"] is True
    assert result["now"] == "2026-11-21T22:30:00+08:00"
    assert result["weekday"] == "sat"
    assert result["window"] == "sat,sun 22:00-06:00"


def test_naive_time_is_taken_in_the_platform_time_zone(patching):
    assert patching.patching_window(NIGHTS, "Asia/Shanghai", "2026-11-21T23:00:00")["open"] is True


def test_whole_day_and_same_day_windows(patching):
    windows = [{"days": ["wed"], "start": "00:00", "end": "24:00"}, {"days": ["mon"], "start": "12:00", "end": "13:00"}]
    assert patching.patching_window(windows, "Asia/Shanghai", "2026-11-25T23:59:00+08:00")["open"] is True
    assert patching.patching_window(windows, "Asia/Shanghai", "2026-11-26T00:00:00+08:00")["open"] is False
    assert (
        patching.patching_window(windows, "Asia/Shanghai", "2026-11-23T12:30:00+08:00")["window"] == "mon 12:00-13:00"
    )
    assert patching.patching_window(windows, "Asia/Shanghai", "2026-11-23T13:00:00+08:00")["open"] is False


def test_current_time_is_used_without_a_test_time(patching):
    every_day = [{"days": list(patching.DAYS), "start": "00:00", "end": "24:00"}]
    assert patching.patching_window(every_day, "Asia/Shanghai", "")["open"] is True


def test_valid_windows_have_no_errors(patching):
    assert patching.patching_window_errors(NIGHTS, "Asia/Shanghai") == []


@pytest.mark.parametrize(
    ("windows", "timezone", "fragment"),
    [
        ([], "Asia/Shanghai", "patching_windows is empty"),
        ([{"days": ["sat"], "start": "25:00", "end": "06:00"}], "Asia/Shanghai", "patching_windows[0].start"),
        ([{"days": ["sat"], "start": "22:00", "end": "6"}], "Asia/Shanghai", "patching_windows[0].end"),
        ([{"days": ["saturday"], "start": "22:00", "end": "06:00"}], "Asia/Shanghai", "unknown day names"),
        ([{"days": [], "start": "22:00", "end": "06:00"}], "Asia/Shanghai", "patching_windows[0].days"),
        ([{"days": ["sat"], "start": "22:00", "end": "22:00"}], "Asia/Shanghai", "same time"),
        ([{"days": ["sat"], "start": "22:00", "end": "06:00", "tz": "x"}], "Asia/Shanghai", "unknown keys"),
        (NIGHTS, "Mars/Olympus", "patching_timezone"),
    ],
)
def test_invalid_windows_name_the_variable_and_the_fix(patching, windows, timezone, fragment):
    errors = patching.patching_window_errors(windows, timezone)
    assert errors and any(fragment in error for error in errors)
    assert all("Fix:" in error for error in errors)


def test_invalid_windows_raise_when_evaluated(patching):
    with pytest.raises(ValueError, match="patching_windows"):
        patching.patching_window([], "Asia/Shanghai", "2026-11-21T22:00:00+08:00")


def test_record_rows_join_the_manifest_with_what_was_installed_after(patching):
    manifest = [{"name": "a", "from": "1.0", "to": "1.1"}, {"name": "b", "from": "2", "to": None}]
    plan = [{"name": "a", "release": "x:trixie-security", "security": True}]
    advisories = {"a": {"cves": ["CVE-2026-0001"], "urgency": "high", "versions": ["1.1"]}}
    rows = patching.patching_record_packages(manifest, {"a": "1.1", "b": None}, plan, advisories)
    common_a = {"name": "a", "from": "1.0", "to": "1.1", "after": "1.1", "release": "x:trixie-security"}
    assert rows == [
        {**common_a, "security": True, "cves": ["CVE-2026-0001"], "urgency": "high", "changelog_versions": ["1.1"]},
        {
            "name": "b",
            "from": "2",
            "to": None,
            "after": None,
            "release": "",
            "security": False,
            "cves": [],
            "urgency": None,
            "changelog_versions": [],
        },
    ]
    assert patching.patching_record_packages([], None, None) == []
