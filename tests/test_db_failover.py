"""plugins/filter/db_failover.py (plan, record, WAL arithmetic) and plugins/modules/db_proxy_check.py (issue 7)."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
import yaml

MIRROR = {
    "reachable": True,
    "answered": True,
    "in_recovery": True,
    "receive_lsn": "0/5000100",
    "replay_lsn": "0/5000000",
    "replay_at": "2026-11-23 10:00:00.5+00",
}
PRIMARY = {"reachable": True, "answered": True, "in_recovery": False, "current_lsn": "0/5000200"}
PARAMS = {"mode": "failover", "max_lag_bytes": 1024, "force_reason": "", "old_host": "db1", "new_host": "db2"}


@pytest.fixture
def f(plugin):
    return plugin("filter", "db_failover")


def test_lsn_arithmetic(f):
    assert f.pg_lsn_int("16/B374D848") == 0x16B374D848
    assert f.pg_lsn_diff("1/0", "0/FFFFFFFF") == 1
    assert f.pg_lsn_diff("", "0/1") is None
    with pytest.raises(ValueError, match="not a PostgreSQL LSN"):
        f.pg_lsn_int("12345")


def test_timeline_switch_point_from_history(f):
    history = "1\t0/5000198\tno recovery target specified\n\n2\t0/7000060\tno recovery target specified\n"
    assert f.pg_timeline_switch(history, 1) == "0/5000198"
    assert f.pg_timeline_switch(history, 2) == "0/7000060"
    assert f.pg_timeline_switch(history, 3) is None
    assert f.pg_timeline_switch("", 1) is None


def test_plan_goes_with_a_healthy_mirror_and_counts_the_lag(f):
    plan = f.db_failover_plan(PRIMARY, MIRROR, PARAMS)
    assert plan["go"] and plan["old_state"] == "primary" and plan["new_state"] == "mirror"
    assert plan["lag_bytes"] == 0x200 and plan["received_not_replayed_bytes"] == 0x100
    assert "512 bytes" in plan["loss"]


def test_plan_refuses_a_mirror_too_far_behind_unless_forced(f):
    behind = dict(PRIMARY, current_lsn="0/6000000")
    plan = f.db_failover_plan(behind, MIRROR, PARAMS)
    assert not plan["go"]
    assert "db_failover_max_lag_bytes=1024" in plan["problems"][0] and "db_failover_force_reason" in plan["problems"][0]
    assert f.db_failover_plan(behind, MIRROR, dict(PARAMS, force_reason="primary disk gone"))["go"]


def test_plan_with_the_primary_unreachable_says_the_loss_is_unknown(f):
    plan = f.db_failover_plan({}, MIRROR, PARAMS)
    assert plan["go"] and plan["old_state"] == "unreachable" and plan["lag_bytes"] is None
    assert plan["loss"].startswith("unknown") and "db_rejoin" in plan["fence"]


@pytest.mark.parametrize(
    ("old", "new", "mode", "needle"),
    [
        (PRIMARY, dict(MIRROR, answered=False), "failover", "only a running mirror can be promoted"),
        (PRIMARY, dict(MIRROR, in_recovery=False), "failover", "is primary, not a running mirror"),
        ({}, MIRROR, "switchover", "a switchover needs a running primary"),
        (dict(PRIMARY, in_recovery=True), MIRROR, "failover", "the inventory is out of date"),
    ],
)
def test_plan_refusals_name_the_fix(f, old, new, mode, needle):
    plan = f.db_failover_plan(old, new, dict(PARAMS, mode=mode))
    assert not plan["go"]
    assert any(needle in p for p in plan["problems"]) and all("Fix:" in p for p in plan["problems"])


EVENTS = {
    "started": "2026-11-23T10:00:10.000000Z",
    "detected": "2026-11-23T10:00:00.000000Z",
    "planned": "2026-11-23T10:00:12.000000Z",
    "caught_up": "2026-11-23T10:00:14.000000Z",
    "promoted": "2026-11-23T10:00:16.000000Z",
    "repointed": "2026-11-23T10:00:20.000000Z",
    "write_verified": "2026-11-23T10:00:22.500000Z",
}
WRITES = [{"host": "app1", "ok": True, "server": "10.0.0.22"}]


def _record(f, plan, events=EVENTS, **outcome):
    run = {"id": "failover-x", "kind": plan["mode"], "started": events["started"], "operator": "ops"}
    base = {
        "promoted": True,
        "writes": WRITES,
        "fenced": False,
        "replay_lsn": "0/5000000",
        "replay_at": "2026-11-23 09:59:58+00",
    }
    return f.db_failover_record(run, plan, events, {**base, **outcome}, {"rto_minutes": 30, "rpo_minutes": 5})


def test_record_of_a_failover_with_the_primary_unreachable(f):
    record = _record(f, f.db_failover_plan({}, MIRROR, PARAMS))
    assert record["verdict"] == "pass", record["reason_failed"]
    assert record["figures"]["rto_seconds"] == 22.5 and record["figures"]["rto_measured_from"] == "outage detected"
    assert record["figures"]["rpo"]["known"] is False and record["figures"]["rpo"]["seconds_bound"] == 2.0
    assert [t["step"] for t in record["timeline"]][:2] == ["detected", "started"]


def test_record_reports_detection_response_and_recovery_apart(f):
    plan = f.db_failover_plan({}, MIRROR, PARAMS)
    # The outage began 4 s before the probe noticed it: RTO covers all three parts.
    record = _record(f, plan, events=dict(EVENTS, failed="2026-11-23T09:59:56.000000Z"))
    figures = record["figures"]
    assert figures["rto_measured_from"] == "outage began" and figures["rto_seconds"] == 26.5
    assert figures["rto_covers"] == ["detection", "response", "recovery"]
    assert figures["phases"] == {"detection_seconds": 4.0, "response_seconds": 10.0, "recovery_seconds": 12.5}
    assert [t["step"] for t in record["timeline"]][:3] == ["failed", "detected", "started"]
    # Only the playbook's start known: the RTO is the recovery alone, and the record says so.
    started_only = {k: v for k, v in EVENTS.items() if k != "detected"}
    alone = _record(f, plan, events=started_only)["figures"]
    assert alone["rto_measured_from"] == "playbook started" and alone["rto_covers"] == ["recovery"]
    assert alone["phases"]["detection_seconds"] is None and alone["rto_seconds"] == alone["phases"]["recovery_seconds"]


def test_epoch_of_an_iso_time(f):
    assert f.db_failover_epoch("2026-11-23T10:00:00+08:00") == f.db_failover_epoch("2026-11-23T02:00:00Z")
    assert f.db_failover_epoch("not a time") == 0.0


def test_record_of_a_switchover_needs_zero_loss(f):
    plan = f.db_failover_plan(PRIMARY, MIRROR, dict(PARAMS, mode="switchover"))
    ok = _record(f, plan, fenced=True, final_lsn="0/5000000")
    assert ok["verdict"] == "pass" and ok["figures"]["rpo"] == {
        "bytes": 0,
        "known": True,
        "seconds_bound": 0.0,
        "basis": "old primary's last WAL 0/5000000 vs replayed 0/5000000",
    }
    lost = _record(f, plan, fenced=True, final_lsn="0/5000400")
    assert lost["verdict"] == "fail" and "zero_loss" in lost["reason_failed"]


def test_record_of_a_failover_judges_the_rpo_like_the_rto(f):
    plan = f.db_failover_plan({}, MIRROR, PARAMS)
    ok = _record(f, plan)
    assert {"id": "rpo", "status": "pass"}.items() <= next(c for c in ok["checks"] if c["id"] == "rpo").items()
    # The mirror's last replayed commit 6 minutes before the outage: more than the 5-minute RPO may be lost.
    stale = _record(f, plan, replay_at="2026-11-23 09:54:00+00")
    assert stale["verdict"] == "fail" and stale["reason_failed"].startswith("rpo: RPO at most 360.0 s, target 300 s")
    # Nothing to bound the window with: the record cannot show the RPO held.
    unknown = _record(f, plan, replay_at="")
    assert unknown["verdict"] == "fail" and "RPO at most unknown s" in unknown["reason_failed"]
    # The old primary answered and nothing was lost: RPO 0 whatever the last commit's age.
    none_lost = _record(f, plan, fenced=True, final_lsn="0/5000000", replay_at="2026-11-23 09:00:00+00")
    assert none_lost["verdict"] == "pass" and none_lost["figures"]["rpo"]["seconds_bound"] == 0.0


def test_record_fails_without_a_write_through_the_application_path(f):
    plan = f.db_failover_plan({}, MIRROR, PARAMS)
    record = _record(f, plan, writes=[{"host": "app1", "ok": False, "error": "connection refused"}])
    assert record["verdict"] == "fail" and "app1: connection refused" in record["reason_failed"]
    assert _record(f, plan, writes=[])["verdict"] == "fail"


def test_record_fails_beyond_the_rto_target(f):
    late = dict(EVENTS, write_verified="2026-11-23T10:31:00.000000Z")
    record = _record(f, f.db_failover_plan({}, MIRROR, PARAMS), events=late)
    assert record["verdict"] == "fail" and record["reason_failed"].startswith("rto: RTO 1860.0 s, target 1800 s")


def test_record_of_a_rejoin_passes_when_the_old_primary_streams(f):
    run = {"id": "rejoin-x", "kind": "rejoin", "started": "2026-11-23T11:00:00Z"}
    events = {"started": "2026-11-23T11:00:00Z", "rewound": "2026-11-23T11:00:05Z", "streaming": "2026-11-23T11:00:09Z"}
    record = f.db_failover_record(run, {}, events, {"method": "pg_rewind", "diverged_commits": 0}, {})
    assert record["verdict"] == "pass" and record["figures"]["rto_seconds"] == 9.0
    assert f.db_failover_record(run, {}, dict(events, streaming=""), {}, {})["verdict"] == "fail"


@pytest.fixture
def proxy(plugin):
    return plugin("modules", "db_proxy_check")


HAPROXY_CFG = """\
global
    maxconn 500
defaults
    mode tcp
frontend postgresql
    bind 127.0.0.1:6432
    default_backend postgresql_primary
# The current primary
backend postgresql_primary
    server db2 10.0.0.22:5432 check inter 2s fall 3 rise 2
backend other
    server x 10.0.0.9:5432
"""


def test_proxy_backend_servers_are_read_from_their_section_only(proxy):
    assert proxy.backend_servers(HAPROXY_CFG) == ["db2 10.0.0.22:5432"]
    assert proxy.backend_servers(HAPROXY_CFG, "other") == ["x 10.0.0.9:5432"]
    assert proxy.backend_servers("backend postgresql_primary\n") == []


def _server(answer):
    srv = socket.create_server(("127.0.0.1", 0))

    def serve():
        conn, _ = srv.accept()
        with conn:
            assert conn.recv(8) == b"\x00\x00\x00\x08\x04\xd2\x16\x2f"
            conn.sendall(answer)
        srv.close()

    threading.Thread(target=serve, daemon=True).start()
    return srv.getsockname()[1]


def test_proxy_reaches_postgresql_by_its_sslrequest_answer(proxy):
    ok, evidence = proxy.postgres_answers("127.0.0.1", _server(b"S"))
    assert ok and "'S'" in evidence
    ok, evidence = proxy.postgres_answers("127.0.0.1", _server(b"H"))
    assert not ok and "not a PostgreSQL server" in evidence
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    ok, evidence = proxy.postgres_answers("127.0.0.1", port, timeout=1)
    assert not ok and f"127.0.0.1:{port}" in evidence


def _topo(f, primary, mirrors, **states):
    return f.db_topology(
        primary, mirrors, {h: dict(zip(("state", "fenced_by"), v.split(":"), strict=False)) for h, v in states.items()}
    )


def test_topology_agrees_when_the_inventory_says_what_the_servers_are(f):
    ok = _topo(f, "db1", ["db2"], db1="primary", db2="mirror")
    assert ok["agree"] and ok["record"] == {"primary": "db1", "mirrors": ["db2"]} and ok["problems"] == []
    # a first converge: nothing installed yet, or the mirror's package cluster before the clone
    assert _topo(f, "db1", ["db2"], db1="absent", db2="absent")["agree"]
    assert _topo(f, "db1", ["db2"], db1="primary", db2="fresh")["agree"]
    # a primary that is merely down is started by the converge
    assert _topo(f, "db1", ["db2"], db1="down", db2="mirror")["agree"]


def test_topology_after_a_failover_names_the_fenced_former_primary_and_the_fix(f):
    topo = _topo(f, "db1", ["db2"], db1="fenced:failover-20261202T100000Z", db2="primary")
    assert not topo["agree"] and topo["primary_now"] == "db2" and topo["record"] is None
    (problem,) = topo["problems"]
    assert problem.startswith("db1 (db_primary) is a former primary, fenced by failover-20261202T100000Z; db2 runs")
    assert (
        "./govops rejoin -e db_failover_old_primary=db1 -e db_failover_new_primary=db2 -e db_failover_confirm=db1"
        in problem
    )
    assert problem.endswith("then ./govops topology records the new roles.")


def test_topology_after_the_rejoin_asks_for_the_record(f):
    topo = _topo(f, "db1", ["db2"], db1="mirror", db2="primary")
    assert not topo["agree"] and topo["record"] == {"primary": "db2", "mirrors": ["db1"]}
    assert topo["problems"] == [
        "the inventory names db1 as db_primary, but db2 runs as the primary and db1 is mirror. "
        "Fix: ./govops topology records db2 as db_primary and db1 as db_mirror."
    ]


@pytest.mark.parametrize(
    ("states", "needle"),
    [
        ({"db1": "primary", "db2": "primary"}, "db1 and db2 all run as primary (split brain)"),
        ({"db1": "primary", "db2": "unreachable"}, "db2 (db_mirror) does not answer"),
        ({"db1": "fenced:failover-x", "db2": "mirror"}, "no host runs as primary. Fix: ./govops failover promotes"),
        ({"db1": "primary", "db2": "fenced:failover-x"}, "db2 (db_mirror) is a former primary, fenced by failover-x"),
    ],
)
def test_topology_refuses_what_a_converge_must_not_touch(f, states, needle):
    topo = _topo(f, "db1", ["db2"], **states)
    assert not topo["agree"] and topo["record"] is None
    assert any(needle in p for p in topo["problems"]), topo["problems"]


def test_the_database_play_checks_the_topology_first_and_stops_everything_on_a_disagreement():
    plays = yaml.safe_load((Path(__file__).resolve().parent.parent / "playbooks" / "database.yml").read_text())
    # The change-ticket gate (playbooks/change_ticket.yml) comes first in every changing playbook.
    assert plays[0] == {
        "name": plays[0]["name"],
        "ansible.builtin.import_playbook": "change_ticket.yml",
    }
    first = plays[1]
    assert first["hosts"] == "db_primary:db_mirror" and first["any_errors_fatal"] is True
    assert first["tasks"][0]["ansible.builtin.include_role"] == {"name": "postgresql", "tasks_from": "topology.yml"}
