"""Pure-Python parts of plugins/modules/pgbackrest_check.py."""

from __future__ import annotations

import json

from check_harness import run_module

SEG = 16 * 1024 * 1024

INFO = [
    {
        "name": "govops",
        "status": {"code": 0, "message": "ok"},
        "repo": [{"key": 1, "cipher": "aes-256-cbc", "status": {"code": 0}}],
        "archive": [{"id": "17-1", "min": "000000010000000000000003", "max": "00000001000000000000000A"}],
        "backup": [
            {"label": "F1", "type": "full", "timestamp": {"start": 900, "stop": 1000}},
            {"label": "I1", "type": "incr", "timestamp": {"start": 1900, "stop": 2000}},
            {"label": "F2", "type": "full", "timestamp": {"start": 2900, "stop": 3000}},
        ],
    },
    {"name": "other", "status": {"code": 1, "message": "missing stanza path"}},
]


def test_parse_info_picks_the_stanza(plugin):
    mod = plugin("modules", "pgbackrest_check")
    entry = mod.parse_info(json.dumps(INFO), "govops")
    assert entry["status"]["code"] == 0
    assert mod.parse_info(json.dumps(INFO), "missing") is None
    assert mod.repo_ciphers(entry) == ["aes-256-cbc"]


def test_newest_backup_satisfies_lower_schedules(plugin):
    mod = plugin("modules", "pgbackrest_check")
    newest = mod.newest_backups(INFO[0])
    assert newest["full"]["label"] == "F2" and newest["incr"]["label"] == "I1"
    # The newer full backup (stop 3000) counts for diff and incr as well.
    assert mod.schedule_age(newest, "full", 3600) == (600, "F2")
    assert mod.schedule_age(newest, "diff", 3600) == (600, "F2")
    assert mod.schedule_age(newest, "incr", 3600) == (600, "F2")
    assert mod.schedule_age({}, "full", 3600) == (None, None)


def test_wal_segment_start(plugin):
    mod = plugin("modules", "pgbackrest_check")
    assert mod.wal_segment_start("000000010000000000000003", SEG) == 3 * SEG
    assert mod.wal_segment_start("000000020000000100000002", SEG) == (1 << 32) + 2 * SEG
    assert mod.wal_segment_start("00000002.history", SEG) is None


def _stats(**kw):
    base = {
        "now": 10_000.0,
        "segment_size": SEG,
        "last_archived_wal": "000000010000000000000003",
        "last_archived_time": 9_970.0,
        "current_lsn": "0/4000000",
        "archived_count": 5,
        "last_failed_time": None,
    }
    base.update(kw)
    return base


def test_archive_lag_zero_when_nothing_written_since(plugin):
    mod = plugin("modules", "pgbackrest_check")
    assert mod.archive_lag(_stats()) == 0.0


def test_archive_lag_is_time_since_last_archive_when_wal_pending(plugin):
    mod = plugin("modules", "pgbackrest_check")
    assert mod.archive_lag(_stats(current_lsn="0/4000100")) == 30.0
    assert mod.archive_lag(_stats(current_lsn="0/7000000", last_archived_time=9_000.0)) == 1_000.0
    assert mod.archive_lag(_stats(last_archived_time=None)) is None
    # A timeline history file as the last archived name: fall back to the time.
    assert mod.archive_lag(_stats(last_archived_wal="00000002.history")) == 30.0


def test_an_idle_database_has_no_archive_lag_when_no_commit_waits(plugin):
    """An idle primary writes WAL without transactions (checkpoints, running-xacts records) that
    archive_timeout does not switch out: the last archived segment grows old while nothing
    committed waits. The lab's acceptance once failed on this (342 s on a database nobody wrote to)."""
    mod = plugin("modules", "pgbackrest_check")
    idle = _stats(current_lsn="0/4000100", last_archived_time=9_000.0)
    assert mod.unarchived_start(idle) == "0/4000000"
    assert mod.unarchived_start(_stats(last_archived_wal="00000001000000020000000F")) == "2/10000000"
    # a backup history file names the segment its backup started in
    assert mod.unarchived_start(_stats(last_archived_wal="000000010000000000000011.00000028.backup")) == "0/12000000"
    assert mod.unarchived_start(_stats(last_archived_wal="00000002.history")) is None
    assert mod.archive_lag(idle, unarchived_commits=0) == 0.0
    # commits wait: the oldest one's age; its time unknown: the bound; no pg_walinspect: the bound too
    assert mod.archive_lag(idle, unarchived_commits=3, oldest_commit=9_990.0) == 10.0
    assert mod.archive_lag(idle, unarchived_commits=3) == 1_000.0
    assert mod.archive_lag(idle, unarchived_commits=None) == 1_000.0


def test_archiving_healthy(plugin):
    mod = plugin("modules", "pgbackrest_check")
    assert mod.archiving_healthy(_stats())
    assert not mod.archiving_healthy(_stats(last_failed_time=9_990.0))
    assert mod.archiving_healthy(_stats(last_failed_time=9_000.0))
    assert not mod.archiving_healthy(_stats(archived_count=0))


TWO_REPOS = {
    "name": "govops",
    "status": {"code": 0, "message": "ok"},
    "repo": [
        {"key": 1, "cipher": "aes-256-cbc", "status": {"code": 0, "message": "ok"}},
        {"key": 2, "cipher": "aes-256-cbc", "status": {"code": 99, "message": "other"}},
    ],
    "archive": [
        {"database": {"id": 1, "repo-key": 1}, "id": "17-1", "max": "0000000200000001000000A0"},
        {"database": {"id": 1, "repo-key": 2}, "id": "17-1", "max": "00000002000000010000009E"},
    ],
    "backup": [
        {"label": "F1", "type": "full", "database": {"repo-key": 1}, "timestamp": {"stop": 1000}},
        {"label": "F2", "type": "full", "database": {"repo-key": 2}, "timestamp": {"stop": 5000}},
    ],
}


def test_backups_and_archives_are_counted_per_repository(plugin):
    mod = plugin("modules", "pgbackrest_check")
    # repo2's newer full backup must not satisfy repo1's schedule, nor the reverse.
    assert mod.newest_backups(TWO_REPOS, 1)["full"]["label"] == "F1"
    assert mod.newest_backups(TWO_REPOS, 2)["full"]["label"] == "F2"
    assert mod.archive_max(TWO_REPOS, 2) == "00000002000000010000009E"
    assert mod.archive_max(TWO_REPOS, 3) is None
    assert mod.repo_status(TWO_REPOS, 2) == (99, "other")
    assert mod.repo_status(TWO_REPOS, 3) == (None, "not configured")
    # Entries without a repo-key (one repository) belong to repo1.
    assert mod.newest_backups(INFO[0], 1)["full"]["label"] == "F2"


def test_segments_behind_ignores_the_timeline_and_crosses_log_files(plugin):
    mod = plugin("modules", "pgbackrest_check")
    assert mod.segments_behind("0000000200000001000000A0", "00000002000000010000009E") == 2
    assert mod.segments_behind("000000030000000200000001", "0000000200000001000000FF") == 2
    assert mod.segments_behind("00000002000000010000009E", "0000000200000001000000A0") == 0
    assert mod.segments_behind("0000000200000001000000A0", None) is None


def test_wal_budget(plugin):
    mod = plugin("modules", "pgbackrest_check")
    mib = 1024 * 1024
    assert mod.wal_budget(100 * mib, 10_000 * mib, 1024)[0] == "pass"
    assert mod.wal_budget(900 * mib, 10_000 * mib, 1024)[0] == "warn"
    status, text = mod.wal_budget(1100 * mib, 10_000 * mib, 1024)
    assert status == "fail" and "pgbackrest_wal_budget_mb" in text and "Fix:" in text
    # The disk cannot hold pg_wal growing to the budget.
    status, text = mod.wal_budget(100 * mib, 500 * mib, 1024)
    assert status == "fail" and "cannot hold" in text


def test_sftp_only_keys(plugin):
    mod = plugin("modules", "pgbackrest_check")
    forced = 'restrict,command="/usr/lib/openssh/sftp-server" ssh-ed25519 AAAA pgbackrest@backup1'
    assert mod.sftp_only_keys(forced + "\n# comment\n\n") == (1, [])
    keys, loose = mod.sftp_only_keys(forced + "\nrestrict ssh-ed25519 BBBB postgres@db1\nssh-rsa CCCC root@x\n")
    assert keys == 3 and loose == ["postgres@db1", "root@x"]


# --- archive_timeout: the RPO budget is used, not only accepted ---------------------
def test_archive_timeout_must_run_as_configured_and_fit_the_rpo_target(plugin):
    mod = plugin("modules", "pgbackrest_check")
    assert mod.archive_timeout_problems(60, 60, 300) == []
    assert mod.archive_timeout_problems(150, 150, 300) == []
    (problem,) = mod.archive_timeout_problems(200, 200, 300)
    assert "2 x archive_timeout 200 s = 400 s exceeds the RPO target 300 s" in problem
    problems = mod.archive_timeout_problems(150, 60, 300)
    assert len(problems) == 1
    assert "runs archive_timeout 150 s, the role sets 60 s (pgbackrest_archive_timeout)" in problems[0]
    assert "RPO is unbounded" in mod.archive_timeout_problems(0, 0, 300)[0]
    assert "unknown" in mod.archive_timeout_problems(None, 60, 300)[0]


def test_the_archive_lag_is_judged_against_the_archive_timeout_budget(plugin):
    mod = plugin("modules", "pgbackrest_check")
    assert mod.rpo_status(30.0, 300, 60)[0] == "pass"
    status, text = mod.rpo_status(150.0, 300, 60)
    assert status == "warn" and "budget 2 x archive_timeout = 120 s" in text and "falls behind" in text
    assert mod.rpo_status(301.0, 300, 60)[0] == "fail"
    assert mod.rpo_status(None, 300, 60)[0] == "fail"
    assert mod.rpo_status(10.0, 300, 0)[0] == "fail"


def _archiver(tmp_path, **overrides):
    return {
        "in_recovery": False,
        "now": 10_000.0,
        "current_lsn": "0/4000100",
        "segment_size": SEG,
        "archive_mode": "on",
        "archive_timeout": 60,
        "archived_count": 3,
        "last_archived_wal": "000000010000000000000003",
        "last_archived_time": 9_850.0,
        "failed_count": 0,
        "last_failed_wal": None,
        "last_failed_time": None,
        "ready": 1,
        "pg_wal_bytes": 48 * 1024 * 1024,
        "data_directory": str(tmp_path),
        **overrides,
    }


def _run_pg(plugin, stats, **args):
    answer = (0, json.dumps(stats), "")
    params = {"scope": "pg", "stanza": "govops", "wal_budget_mb": 1024, **args}
    return run_module(plugin("modules", "pgbackrest_check"), params, answers=[(("runuser",), answer)])


def test_the_module_uses_archive_timeout(plugin, tmp_path):
    run = _run_pg(plugin, _archiver(tmp_path), archive_timeout=60, rpo_target_seconds=300)
    check = run.checks["pgbackrest.archive_timeout"]
    assert check["status"] == "pass" and check["measured"] == 60
    # 150 s of lag: within the 300 s target, beyond the 120 s budget.
    assert run.checks["pgbackrest.rpo"]["status"] == "warn"
    assert run.result["figures"]["archive_timeout_seconds"] == 60
    # The server runs another value than the role's: reported, naming the variable.
    run = _run_pg(plugin, _archiver(tmp_path, archive_timeout=600), archive_timeout=60, rpo_target_seconds=300)
    check = run.checks["pgbackrest.archive_timeout"]
    assert check["status"] == "fail" and "pgbackrest_archive_timeout" in check["evidence"]
    assert "exceeds the RPO target" in check["evidence"]
    # A mirror is judged too: it archives once promoted.
    run = _run_pg(plugin, _archiver(tmp_path, in_recovery=True, archive_timeout=0), archive_timeout=60)
    assert run.checks["pgbackrest.archive_timeout"]["status"] == "fail"
    assert run.checks["pgbackrest.archiving"]["status"] == "skip"
