"""The acceptance report: rows, summary, terminal table (plugins/filter/acceptance.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def acceptance(plugin):
    return plugin("filter", "acceptance")


def check(check_id, status, measured=None):
    return {
        "id": check_id,
        "title": {"zh_CN": "时区", "en": "Time zone"},
        "status": status,
        "evidence": f"evidence of {check_id}",
        "measured": measured,
    }


def test_rows_flatten_each_roles_result_per_host(acceptance):
    hostvars = {
        "db1": {"common_acceptance": {"checks": [check("common.timezone", "pass", "Asia/Shanghai")]}},
        "db2": {"common_acceptance": {"checks": [check("common.timezone", "fail")]}},
    }
    rows = acceptance.acceptance_rows(hostvars, {"common": ["db2", "db1"]})
    assert [(r["host"], r["role"], r["id"], r["status"]) for r in rows] == [
        ("db1", "common", "common.timezone", "pass"),
        ("db2", "common", "common.timezone", "fail"),
    ]


def test_a_host_without_a_result_fails_instead_of_disappearing(acceptance):
    hostvars = {"db1": {"common_acceptance": {"checks": [check("common.timezone", "pass")]}}, "db2": {}}
    rows = acceptance.acceptance_rows(hostvars, {"common": ["db1", "db2", "gone"]})
    missing = [r for r in rows if r["id"] == "common.acceptance_record"]
    assert {r["host"] for r in missing} == {"db2", "gone"}
    assert all(r["status"] == "fail" for r in missing)
    assert acceptance.acceptance_summary(rows)["verdict"] == "fail"


def test_a_result_with_no_checks_counts_as_missing(acceptance):
    rows = acceptance.acceptance_rows({"db1": {"redis_acceptance": {"checks": []}}}, {"redis": ["db1"]})
    assert [r["status"] for r in rows] == ["fail"]


def test_summary_counts_and_verdict(acceptance):
    rows = [
        {"host": "a", **check("x.one", "pass")},
        {"host": "a", **check("x.two", "warn")},
        {"host": "b", **check("x.one", "skip")},
    ]
    summary = acceptance.acceptance_summary(rows)
    assert summary == {"fail": 0, "warn": 1, "skip": 1, "pass": 1, "total": 3, "hosts": 2, "verdict": "pass"}


def test_an_empty_report_never_passes(acceptance):
    assert acceptance.acceptance_summary([])["verdict"] == "fail"


def test_table_aligns_wide_characters_and_lists_failures(acceptance):
    rows = acceptance.acceptance_rows(
        {
            "db1": {"common_acceptance": {"checks": [check("common.timezone", "pass", "Asia/Shanghai")]}},
            "db2": {"common_acceptance": {"checks": [check("common.ntp_config", "fail", 0)]}},
        },
        {"common": ["db1", "db2"]},
    )
    table = acceptance.acceptance_table(rows)
    lines = table.splitlines()
    header, rule = lines[0], lines[1]
    # Every column starts where the header's does, counting CJK as two columns.
    widths = [acceptance._width(line.split("  说明")[0]) for line in [header]]
    assert widths[0] == acceptance._width(rule.rsplit("  ", 1)[0])
    assert "失败 FAIL" in table and "通过 PASS" in table
    assert "✗ db2 common.ntp_config: evidence of common.ntp_config" in table
    assert "验收结论 Verdict: 失败 FAIL" in table


def test_long_values_are_cut_in_the_table_only(acceptance):
    long_value = "x" * 200
    rows = [{"host": "a", "role": "r", **check("r.long", "pass", long_value)}]
    assert long_value not in acceptance.acceptance_table(rows)
    assert rows[0]["measured"] == long_value
