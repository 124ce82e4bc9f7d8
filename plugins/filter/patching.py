# Filters for roles/patching: maintenance windows.
#
# A window is {days: [sat, sun], start: "22:00", end: "06:00"} in the
# platform's time zone (patching_timezone). `days` are the days a window
# OPENS on: a window whose end is not after its start crosses midnight and
# closes on the next day, so {days: [sat], start: "22:00", end: "06:00"}
# covers Saturday 22:00 to Sunday 06:00. "24:00" as end means midnight.
# The time to judge is passed in (patching_now), so tests can use fixed times.
# Plain Python on purpose: tests import it directly.
from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
FIX = 'Fix: write each window as {days: [sat, sun], start: "22:00", end: "06:00"} (24-hour HH:MM, end may be "24:00").'


def _minutes(text, allow_24=False):
    if allow_24 and text == "24:00":
        return 24 * 60
    match = TIME.match(str(text))
    if not match:
        raise ValueError(text)
    return int(match.group(1)) * 60 + int(match.group(2))


def patching_window_errors(windows, timezone="Asia/Shanghai"):
    """Every problem in patching_windows / patching_timezone, one sentence each (empty list: valid)."""
    errors = []
    try:
        ZoneInfo(str(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        errors.append(f"patching_timezone '{timezone}' is not an IANA time zone. Fix: use e.g. Asia/Shanghai.")
    if not isinstance(windows, list) or not windows:
        errors.append(
            "patching_windows is empty or not a list. Fix: list at least one maintenance window, e.g. "
            '[{days: [sat, sun], start: "22:00", end: "06:00"}] (or set patching_window_override_reason).'
        )
        return errors
    for index, window in enumerate(windows):
        where = f"patching_windows[{index}]"
        if not isinstance(window, dict):
            errors.append(f"{where} is not a mapping. {FIX}")
            continue
        unknown = sorted(set(window) - {"days", "start", "end"})
        if unknown:
            errors.append(f"{where} has unknown keys {unknown}. {FIX}")
        days = window.get("days")
        if not isinstance(days, list) or not days:
            errors.append(f"{where}.days must be a non-empty list of {', '.join(DAYS)}. {FIX}")
        else:
            bad = [day for day in days if str(day).lower() not in DAYS]
            if bad:
                errors.append(f"{where}.days has unknown day names {bad}; use {', '.join(DAYS)}. {FIX}")
        try:
            start = _minutes(window.get("start"))
        except ValueError:
            errors.append(f"{where}.start '{window.get('start')}' is not HH:MM (00:00-23:59). {FIX}")
            start = None
        try:
            end = _minutes(window.get("end"), allow_24=True)
        except ValueError:
            errors.append(f"{where}.end '{window.get('end')}' is not HH:MM (00:00-24:00). {FIX}")
            end = None
        if start is not None and start == end:
            errors.append(
                f'{where} starts and ends at the same time. Fix: for a whole day use start "00:00", end "24:00".'
            )
    return errors


def _now(now, zone):
    if now in (None, "") or (isinstance(now, str) and not now.strip()):
        return datetime.now(zone)
    moment = now if isinstance(now, datetime) else datetime.fromisoformat(str(now).strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(zone)


def _describe(window):
    return f"{','.join(str(d).lower() for d in window['days'])} {window['start']}-{window['end']}"


def patching_window(windows, timezone="Asia/Shanghai", now=None):
    """Whether `now` (ISO 8601 text; empty: the current time) falls inside a window.

    Returns {open, now, weekday, window, windows}: `window` is the matching
    window as text (None when closed), `windows` all of them as text.
    """
    errors = patching_window_errors(windows, timezone)
    if errors:
        raise ValueError(" ".join(errors))
    zone = ZoneInfo(timezone)
    moment = _now(now, zone)
    local = moment.replace(tzinfo=None)
    matched = None
    for window in windows:
        start = _minutes(window["start"])
        end = _minutes(window["end"], allow_24=True)
        length = end - start if end > start else end - start + 24 * 60
        days = {str(day).lower() for day in window["days"]}
        # The window may have opened today or, when it crosses midnight, yesterday.
        for back in (0, 1):
            day = local.date() - timedelta(days=back)
            if DAYS[day.weekday()] not in days:
                continue
            opened = datetime(day.year, day.month, day.day) + timedelta(minutes=start)
            if opened <= local < opened + timedelta(minutes=length):
                matched = _describe(window)
                break
        if matched:
            break
    return {
        "open": matched is not None,
        "now": moment.isoformat(timespec="seconds"),
        "weekday": DAYS[local.weekday()],
        "window": matched,
        "windows": [_describe(window) for window in windows],
    }


def patching_record_packages(manifest, installed_after=None, plan=None, advisories=None):
    """The record's package rows: {name, from, to, after, release, security, cves, urgency, changelog_versions}.

    `after` is the version installed after the run (None when the run did not
    get that far or the package was removed). `cves`/`urgency` come from the
    package's Debian changelog (apt_patch_plan's `advisories`); empty/None when
    the package metadata gives none (or in check mode: nothing installed yet).
    """
    installed_after = installed_after or {}
    advisories = advisories or {}
    details = {item["name"]: item for item in plan or []}
    return [
        {
            "name": item["name"],
            "from": item.get("from"),
            "to": item.get("to"),
            "after": installed_after.get(item["name"]),
            "release": details.get(item["name"], {}).get("release", ""),
            "security": bool(details.get(item["name"], {}).get("security", False)),
            "cves": list(advisories.get(item["name"], {}).get("cves", [])),
            "urgency": advisories.get(item["name"], {}).get("urgency"),
            "changelog_versions": list(advisories.get(item["name"], {}).get("versions", [])),
        }
        for item in manifest
    ]


class FilterModule:
    def filters(self):
        return {
            "patching_window": patching_window,
            "patching_window_errors": patching_window_errors,
            "patching_record_packages": patching_record_packages,
        }
