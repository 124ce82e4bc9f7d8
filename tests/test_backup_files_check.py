"""Pure-Python parts of plugins/modules/backup_files_check.py (and the sshd -T / systemd readers it uses)."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.govops_checks import parse_sshd_settings, unit_state

SNAPSHOTS = [
    {"time": "2026-11-24T02:30:05.123456789+08:00", "short_id": "aaaa1111", "tags": ["set:config", "run:scheduled"]},
    {"time": "2026-11-24T02:30:09.5+08:00", "short_id": "bbbb2222", "tags": ["set:redis", "run:scheduled"]},
    {"time": "2026-11-24T10:00:00Z", "short_id": "cccc3333", "tags": ["set:config", "run:now"]},
    {"time": "2026-11-23T02:30:00+08:00", "short_id": "dddd4444", "tags": ["set:config", "run:scheduled"]},
    {"time": "2026-11-23T02:30:00+08:00", "id": "eeee5555ffff", "tags": ["untagged"]},
]


def test_parse_time_handles_nanoseconds_offsets_and_z(plugin):
    mod = plugin("modules", "backup_files_check")
    # 2026-11-24T02:30:05+08:00 is 2026-11-23T18:30:05Z
    assert mod.parse_time("2026-11-24T02:30:05+08:00") == mod.parse_time("2026-11-23T18:30:05Z")
    assert mod.parse_time("2026-11-24T02:30:05.123456789+08:00") - mod.parse_time("2026-11-24T02:30:05+08:00") == (
        pytest.approx(0.123456789)
    )
    with pytest.raises(ValueError):
        mod.parse_time("yesterday")


def test_newest_per_set_takes_any_run_and_counts(plugin):
    mod = plugin("modules", "backup_files_check")
    newest = mod.newest_per_set(SNAPSHOTS)
    assert sorted(newest) == ["config", "redis"]
    # The on-demand snapshot (run:now) at 10:00Z is newer than the scheduled one at 02:30+08:00.
    assert newest["config"]["id"] == "cccc3333" and newest["config"]["count"] == 3
    assert newest["redis"]["id"] == "bbbb2222" and newest["redis"]["count"] == 1


def test_set_age(plugin):
    mod = plugin("modules", "backup_files_check")
    newest = mod.newest_per_set(SNAPSHOTS)
    now = mod.parse_time("2026-11-24T11:00:00Z")
    assert mod.set_age(newest, "config", now) == pytest.approx(3600)
    assert mod.set_age(newest, "missing", now) is None
    # A clock behind the snapshot never gives a negative age.
    assert mod.set_age(newest, "config", now - 7200) == 0.0


def test_parse_env_file(plugin):
    mod = plugin("modules", "backup_files_check")
    text = "# comment\n\nRESTIC_REPOSITORY=sftp:backup-files-repo:/repo\nRESTIC_CACHE_DIR='/var/cache/restic'\nbad\n"
    assert mod.parse_env_file(text) == {
        "RESTIC_REPOSITORY": "sftp:backup-files-repo:/repo",
        "RESTIC_CACHE_DIR": "/var/cache/restic",
    }


CONFINED = """user restic-redis1
forcecommand internal-sftp
chrootdirectory /srv/restic/%u
permittty no
allowtcpforwarding no
allowagentforwarding no
x11forwarding no
permittunnel no
allowgroups ops
allowgroups sftpbackup
"""


def test_sftp_problems_accepts_a_confined_account(plugin):
    mod = plugin("modules", "backup_files_check")
    settings = parse_sshd_settings(CONFINED)
    # sshd -T prints one line per AllowGroups value
    assert settings["allowgroups"] == "ops sftpbackup"
    assert mod.sftp_problems(settings, "/srv/restic/restic-redis1", "sftpbackup") == []
    expanded = dict(settings, chrootdirectory="/srv/restic/restic-redis1")
    assert mod.sftp_problems(expanded, "/srv/restic/restic-redis1", "sftpbackup") == []


def test_sftp_problems_names_what_is_open(plugin):
    mod = plugin("modules", "backup_files_check")
    text = CONFINED.replace("forcecommand internal-sftp", "forcecommand none").replace(
        "chrootdirectory /srv/restic/%u", "chrootdirectory none"
    )
    problems = mod.sftp_problems(parse_sshd_settings(text), "/srv/restic/restic-redis1", "sftpbackup")
    assert any(p.startswith("forcecommand none") for p in problems)
    assert any(p.startswith("chrootdirectory none") for p in problems)
    refused = parse_sshd_settings(CONFINED.replace("allowgroups sftpbackup\n", ""))
    assert any("lacks sftpbackup" in p for p in mod.sftp_problems(refused, "/srv/restic/restic-redis1", "sftpbackup"))


def test_looks_encrypted(plugin):
    mod = plugin("modules", "backup_files_check")
    assert not mod.looks_encrypted(json.dumps({"version": 2, "id": "x"}).encode())
    assert not mod.looks_encrypted(b"plain text configuration\n" * 10)
    assert not mod.looks_encrypted(b"")
    assert mod.looks_encrypted(bytes(range(256)) * 2)


def test_unit_state():
    assert unit_state("Result=success\nExecMainExitTimestamp=Tue 2026-11-24 05:00:01 CST\n") == (True, "success")
    assert unit_state("Result=exit-code\nExecMainExitTimestamp=Tue 2026-11-24 05:00:01 CST\n") == (
        True,
        "exit-code",
    )
    assert unit_state("Result=success\nExecMainExitTimestamp=\n") == (False, "success")


def test_set_name(plugin):
    mod = plugin("modules", "backup_files_check")
    assert mod.set_name({"tags": ["run:now", "set:redis"]}) == "redis"
    assert mod.set_name({"tags": None}) is None
