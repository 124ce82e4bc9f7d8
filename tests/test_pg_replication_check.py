"""Pure-Python parts of plugins/modules/pg_replication_check.py."""

from __future__ import annotations

from ansible.module_utils import govops_wal


def test_lsn_to_int():
    assert govops_wal.lsn_to_int("0/3000060") == 0x3000060
    assert govops_wal.lsn_to_int("16/B374D848") == (0x16 << 32) + 0xB374D848
    assert govops_wal.lsn_to_int(None) is None


def test_mirror_lag_idle_mirror_is_zero_seconds(plugin):
    mod = plugin("modules", "pg_replication_check")
    assert mod.mirror_lag({"lag_bytes": 0, "replay_lag_seconds": None}) == (0, 0.0)
    assert mod.mirror_lag({"lag_bytes": 8192, "replay_lag_seconds": None}) == (8192, None)
    assert mod.mirror_lag({"lag_bytes": 100, "replay_lag_seconds": 0.25}) == (100, 0.25)


def test_expected_sync_states(plugin):
    mod = plugin("modules", "pg_replication_check")
    assert mod.expected_sync_states("sync") == ("sync", "quorum")
    assert mod.expected_sync_states("async") == ("async",)


def test_hba_problems(plugin):
    mod = plugin("modules", "pg_replication_check")
    good = [
        {"line_number": 1, "type": "local", "auth_method": "peer"},
        {"line_number": 2, "type": "local", "auth_method": "scram-sha-256"},
        {"line_number": 3, "type": "host", "address": "127.0.0.1", "auth_method": "scram-sha-256"},
        {"line_number": 4, "type": "hostssl", "address": "10.0.0.2", "auth_method": "scram-sha-256"},
    ]
    assert mod.hba_problems(good) == []
    bad = [
        {"line_number": 5, "type": "host", "address": "10.0.0.3", "auth_method": "md5"},
        {"line_number": 6, "type": "host", "address": "10.0.0.4", "auth_method": "scram-sha-256"},
        {"line_number": 7, "type": "local", "auth_method": "trust"},
        {"line_number": 8, "error": "invalid authentication method"},
    ]
    problems = mod.hba_problems(bad)
    assert len(problems) == 4
    assert "md5" in problems[0] and "TLS" in problems[1] and "trust" in problems[2]


def test_check_primary_reports_missing_and_lagging_mirrors(plugin):
    mod = plugin("modules", "pg_replication_check")
    checks = mod.CheckList()
    state = {
        "replication": [
            {
                "application_name": "db2",
                "client_addr": "10.0.0.22",
                "state": "streaming",
                "sync_state": "async",
                "lag_bytes": 50_000_000,
                "replay_lag_seconds": 2.0,
            }
        ],
        "slots": [{"slot_name": "db2", "slot_type": "physical", "active": True, "wal_status": "reserved"}],
    }
    params = {"mirrors": ["db2", "db3"], "mirror_mode": "sync", "max_lag_bytes": 16_777_216, "max_lag_seconds": 60}
    report = mod.check_primary(checks, state, params)
    status = {c["id"]: c["status"] for c in checks.checks}
    assert status["postgresql.mirror.db2.streaming"] == "pass"
    assert status["postgresql.mirror.db2.lag"] == "fail"
    assert status["postgresql.mirror.db2.sync_state"] == "fail"
    assert status["postgresql.mirror.db2.slot"] == "pass"
    assert status["postgresql.mirror.db3.streaming"] == "fail"
    assert status["postgresql.mirror.db3.slot"] == "fail"
    assert report[0]["lag_bytes"] == 50_000_000
