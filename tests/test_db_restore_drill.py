"""plugins/filter/db_restore_drill.py: the drill's verdict and trend (issue 7)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "plugins" / "filter"))

from db_restore_drill import db_restore_drill_report, db_restore_drill_trend  # noqa: E402

RUN = {
    "id": "drill-20261123T100000Z",
    "started": "2026-11-23T10:00:00Z",
    "operator": "ops",
    "change_id": "D-1",
    "target": "latest",
    "target_time": "",
    "drill_host": "db2",
}
REPO_INFO = {"newest": "20261123-090000F", "newest_type": "full", "database_size": "104857600", "status": "ok"}
MARKER = {
    "id": RUN["id"],
    "xid": "812",
    "wal_file": "000000010000000000000007",
    "archived_wal": "000000010000000000000007",
    "rpo_seconds": "41.5",
    "counts": {"appdb.orders": 100},
}
RESULT = {
    "host": "db2",
    "backup_set": "20261123-090000F",
    "restore_seconds": "20.1",
    "recovery_seconds": "9.9",
    "rto_seconds": "30.0",
    "marker_found": True,
    "counts": {"appdb.orders": 100},
    "error": "",
}
TARGETS = {"rto_minutes": 30, "rpo_minutes": 5}


def status(report, check_id):
    return next(c["status"] for c in report["checks"] if c["id"] == check_id)


def test_a_good_drill_passes_with_its_figures():
    report = db_restore_drill_report(RUN, REPO_INFO, MARKER, RESULT, TARGETS)
    assert report["verdict"] == "pass" and report["reason"] == ""
    assert report["figures"]["rto_seconds"] == 30.0 and report["figures"]["rpo_seconds"] == 41.5
    assert report["figures"]["rto_target_seconds"] == 1800 and report["figures"]["rpo_target_seconds"] == 300
    assert report["backup"]["set"] == "20261123-090000F" and report["backup"]["database_size_bytes"] == 104857600
    assert {c["id"] for c in report["checks"]} == {
        "drill.marker",
        "drill.rpo",
        "drill.restore",
        "drill.rto",
        "drill.marker_restored",
        "drill.rows.appdb.orders",
    }


@pytest.mark.parametrize(
    ("marker", "result", "failing"),
    [
        ({**MARKER, "rpo_seconds": "301"}, RESULT, "drill.rpo"),
        (MARKER, {**RESULT, "rto_seconds": "1800.1"}, "drill.rto"),
        (MARKER, {**RESULT, "marker_found": False}, "drill.marker_restored"),
        (MARKER, {**RESULT, "counts": {"appdb.orders": 99}}, "drill.rows.appdb.orders"),
        (MARKER, {**RESULT, "counts": {}}, "drill.rows.appdb.orders"),
        (
            MARKER,
            {"host": "db2", "error": "pgbackrest restore: unable to find backup", "rto_seconds": "3"},
            "drill.restore",
        ),
        ({"error": "wait until archived: retries exhausted"}, {}, "drill.marker"),
    ],
)
def test_each_failure_fails_the_drill_and_is_named_in_the_reason(marker, result, failing):
    report = db_restore_drill_report(RUN, REPO_INFO, marker, result, TARGETS)
    assert report["verdict"] == "fail"
    assert status(report, failing) == "fail"
    assert report["reason"].startswith(failing) or f"; {failing}" in report["reason"]


def test_more_rows_in_the_copy_is_fine_fewer_only_for_a_time_target():
    more = db_restore_drill_report(RUN, REPO_INFO, MARKER, {**RESULT, "counts": {"appdb.orders": 104}}, TARGETS)
    assert more["verdict"] == "pass" and "4 row(s) more" in more["tables"][0]["note"]
    fewer = {**RESULT, "counts": {"appdb.orders": 90}}
    assert db_restore_drill_report(RUN, REPO_INFO, MARKER, fewer, TARGETS)["verdict"] == "fail"
    timed = db_restore_drill_report({**RUN, "target": "time"}, REPO_INFO, MARKER, fewer, TARGETS)
    assert timed["verdict"] == "pass" and "drill.marker_restored" not in {c["id"] for c in timed["checks"]}


def test_trend_orders_earlier_drills_and_scales_the_chart_to_the_target():
    report = db_restore_drill_report(RUN, REPO_INFO, MARKER, RESULT, TARGETS)
    earlier = [
        {
            "kind": "restore_drill",
            "id": "b",
            "started": "2026-08-01T10:00:00Z",
            "verdict": "pass",
            "figures": {"rto_seconds": 50, "rpo_seconds": 30},
        },
        {
            "kind": "restore_drill",
            "id": "a",
            "started": "2026-05-01T10:00:00Z",
            "verdict": "fail",
            "figures": {"rto_seconds": None, "rpo_seconds": 20},
        },
        {"kind": "acceptance"},
    ]
    trend = db_restore_drill_trend(report, earlier, count=12)
    assert [d["id"] for d in trend["drills"]] == ["a", "b", RUN["id"]]
    assert trend["passed"] == 2 and trend["rto_median_seconds"] == 40.0
    # the 1800 s target sets the scale: it sits near the top, the measured points near the bottom
    assert 0 < trend["chart"]["target_y"] < 10
    assert trend["chart"]["rto_points"].count(",") == 2  # the drill without an RTO is skipped
    assert len(db_restore_drill_trend(report, earlier, count=2)["drills"]) == 2


def test_the_playbook_plans_read_only_before_it_writes():
    plays = yaml.safe_load((REPO / "playbooks" / "db_restore_drill.yml").read_text(encoding="utf-8"))
    plays = [p for p in plays if p.get("ansible.builtin.import_playbook") != "change_ticket.yml"]
    steps = [
        t["ansible.builtin.include_role"]["tasks_from"]
        for p in plays
        for t in p["tasks"]
        if "ansible.builtin.include_role" in t
    ]
    steps += [
        t["ansible.builtin.include_role"]["tasks_from"]
        for p in plays
        for t in p["tasks"]
        for t in t.get("block", [])
        if "ansible.builtin.include_role" in t
    ]
    order = ["validate.yml", "plan_repo.yml", "plan_primary.yml", "plan_target.yml", "restore.yml", "report.yml"]
    assert [s for s in steps if s in order] == order and "marker.yml" in steps
    for play in plays:
        if any(
            t.get("ansible.builtin.include_role", {}).get("tasks_from", "").startswith("plan_") for t in play["tasks"]
        ):
            assert play["any_errors_fatal"] is True, play["name"]


def test_a_time_target_reports_where_recovery_stopped_and_judges_no_marker():
    run = {**RUN, "target": "time", "target_time": "2026-11-23 09:30:00+00"}
    stop = ["recovery stopping before commit of transaction 901, time 2026-11-23 09:30:01.2+00"]
    result = {**RESULT, "marker_found": False, "counts": {"appdb.orders": 80}, "recovery_stop": stop}
    report = db_restore_drill_report(run, REPO_INFO, MARKER, result, TARGETS)
    assert report["verdict"] == "pass", report["reason"]
    assert "drill.marker_restored" not in {c["id"] for c in report["checks"]}
    assert report["recovery_stop"] == stop and report["target_time"] == run["target_time"]


TRANSIENT = re.compile(
    yaml.safe_load((REPO / "roles" / "db_restore_drill" / "vars" / "main.yml").read_text(encoding="utf-8"))[
        "__db_restore_drill_transient_errors"
    ].strip()
)


@pytest.mark.parametrize(
    ("stderr", "transient"),
    [
        (
            'psql: error: connection to server on socket "/var/run/postgresql/.s.PGSQL.5499" failed: '
            "FATAL:  the database system is starting up",
            True,
        ),
        ("psql:<stdin>:1: ERROR:  cannot execute CREATE TABLE in a read-only transaction", True),
        ("FATAL:  the database system is not yet accepting connections", True),
        # the copy's server is gone (recovery ended before its target, a WAL file missing): wait no longer
        (
            'psql: error: connection to server on socket "/var/run/postgresql/.s.PGSQL.5499" failed: '
            "No such file or directory",
            False,
        ),
        ('psql: error: FATAL:  database "govops_drill" does not exist', False),
    ],
)
def test_the_wait_for_the_copy_waits_out_recovery_and_nothing_else(stderr, transient):
    assert bool(TRANSIENT.search(stderr)) is transient


def test_pitr_is_the_drill_to_a_time_with_the_copy_kept_and_refuses_without_a_time():
    plays = yaml.safe_load((REPO / "playbooks" / "db_pitr.yml").read_text(encoding="utf-8"))
    gate, first, drill = plays[0], plays[1], plays[2]
    assert gate["ansible.builtin.import_playbook"] == "change_ticket.yml"
    assert first["any_errors_fatal"] is True
    assert "db_pitr_time is defined" in first["tasks"][0]["ansible.builtin.assert"]["that"]
    assert drill["ansible.builtin.import_playbook"] == "db_restore_drill.yml"
    assert drill["vars"]["db_restore_drill_target"] == "time" and drill["vars"]["db_restore_drill_keep"] is True
    validate = yaml.safe_load((REPO / "playbooks" / "db_restore_drill.yml").read_text(encoding="utf-8"))[1]
    assert validate["hosts"] == "localhost" and validate["any_errors_fatal"] is True
    remove = yaml.safe_load((REPO / "playbooks" / "db_pitr_remove.yml").read_text(encoding="utf-8"))
    assert remove[-1]["tasks"][0]["ansible.builtin.include_role"]["tasks_from"] == "remove_copy.yml"
