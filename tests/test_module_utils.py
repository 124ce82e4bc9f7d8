"""The shared probe layer in plugins/module_utils (issue 21): one reader per thing the check modules look at.

govops_redis (RESP client, INFO and CLUSTER NODES), govops_wal (LSN and WAL
arithmetic, also loaded by plugins/filter/db_failover.py on the controller),
and the probes of govops_checks that several modules share (psql as the
cluster's account, systemd timers and the last run of a unit, sshd -T,
sudo -l); plus the doc fragment every check module extends.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ansible.module_utils import govops_checks, govops_redis, govops_wal
from fake_servers import FakeRedis

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORDS = {"ops": "ops-secret"}
CHECK_MODULES = sorted(path.stem for path in (REPO / "plugins" / "modules").glob("*_check.py"))


class Probes:
    """Stands in for govops_checks.run: answers by argv prefix, records every call."""

    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def __call__(self, argv, timeout=30):
        self.calls.append(list(argv))
        for prefix, reply in self.answers:
            if list(argv[: len(prefix)]) == list(prefix):
                return reply(argv) if callable(reply) else reply
        return 127, "", f"{argv[0]}: not found"


@pytest.fixture
def probes(monkeypatch):
    def install(*answers):
        fake = Probes(list(answers))
        monkeypatch.setattr(govops_checks, "run", fake)
        return fake

    return install


# --- govops_redis ------------------------------------------------------------------
def test_resp_client_authenticates_and_reads_every_reply_type():
    server = FakeRedis(PASSWORDS, config={"maxmemory": 1048576})
    try:
        with govops_redis.Resp("127.0.0.1", server.port, user="ops", password=PASSWORDS["ops"]) as conn:
            assert conn.call("PING") == "PONG"  # simple string
            assert conn.call("SET", "k", "v") == "OK"
            assert conn.call("GET", "k") == "v"  # bulk string
            assert conn.call("GET", "missing") is None  # null bulk
            assert conn.call("DEL", "k") == 1  # integer
            assert govops_redis.config_get(conn, "maxmemory") == "1048576"  # array
            assert govops_redis.config_get(conn, "no-such-parameter") is None  # empty array
            with pytest.raises(govops_redis.RespError, match="unknown command"):
                conn.call("NOSUCH")
    finally:
        server.close()
    # The password went only into AUTH, which the server logged masked.
    assert server.commands[0] == ("-", "AUTH", "ops", "***")


def test_resp_client_refused_auth_raises_and_closes_its_socket(monkeypatch):
    server = FakeRedis(PASSWORDS)
    opened = []
    real = govops_redis.socket.create_connection

    def tracking(*args, **kwargs):
        sock = real(*args, **kwargs)
        opened.append(sock)
        return sock

    monkeypatch.setattr(govops_redis.socket, "create_connection", tracking)
    try:
        with pytest.raises(govops_redis.RespError, match="WRONGPASS"):
            govops_redis.Resp("127.0.0.1", server.port, user="ops", password=PASSWORDS["ops"] + "-wrong")
    finally:
        server.close()
    assert len(opened) == 1 and opened[0].fileno() == -1, "the socket of a refused AUTH must be closed"


def test_resp_client_without_user_sends_no_auth():
    server = FakeRedis(PASSWORDS)
    try:
        with govops_redis.Resp("127.0.0.1", server.port) as conn, pytest.raises(govops_redis.RespError, match="NOAUTH"):
            conn.call("PING")
    finally:
        server.close()
    assert server.commands == [("-", "PING")]


def test_info_parsing():
    info = govops_redis.parse_info(
        "# Stats\r\nused_memory:1024\r\nratio:1.5\r\nrole:master\r\ndb1:keys=3,expires=1\r\n"
    )
    assert info == {"used_memory": 1024, "ratio": 1.5, "role": "master", "db1": {"keys": 3, "expires": 1}}
    assert govops_redis.parse_info(None) == {}
    assert govops_redis.key_count(info) == 3
    assert govops_redis.hit_rate({"keyspace_hits": 1, "keyspace_misses": 3}) == 25.0
    assert [govops_redis.number(v) for v in ("7", "0.5", "ok")] == [7, 0.5, "ok"]


def test_cluster_nodes_parsing_slots_and_health():
    text = (
        "a 10.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-99 200 [300->-b]\n"
        "b 10.0.0.2:7001@17001 slave,fail a 0 0 1 disconnected\n"
        "c :0@0 handshake,noaddr - 0 0 0 disconnected\n"
    )
    a, b, c = govops_redis.parse_cluster_nodes(text)
    assert (a["role"], a["myself"], a["slots"], govops_redis.slot_count(a)) == (
        "master",
        True,
        [[0, 99], [200, 200]],
        101,
    )
    assert (b["role"], b["master_id"], c["role"], c["port"]) == ("replica", "a", "unknown", 0)
    assert [govops_redis.healthy(n) for n in (a, b, c)] == [True, False, False]


def test_memory_sizes():
    assert govops_redis.memory_bytes("2gb") == 2 * 1024**3
    assert govops_redis.memory_bytes("2g") == 2 * 1000**3
    assert govops_redis.memory_bytes(None) == 0
    with pytest.raises(ValueError, match="not a redis memory size"):
        govops_redis.memory_bytes("2 gigs")


def test_govops_redis_needs_nothing_from_ansible():
    """scripts/bench/ loads the file by its path, outside Ansible: standard library only."""
    source = (REPO / "plugins" / "module_utils" / "govops_redis.py").read_text(encoding="utf-8")
    assert "ansible" not in "".join(line for line in source.splitlines() if line.startswith(("import", "from")))


# --- govops_wal ----------------------------------------------------------------------
def test_lsn_arithmetic():
    assert govops_wal.lsn_to_int(" 16/B374D848 ") == 0x16B374D848
    assert govops_wal.lsn_to_int("") is None and govops_wal.lsn_to_int(None) is None
    with pytest.raises(ValueError, match="not a PostgreSQL LSN"):
        govops_wal.lsn_to_int("12345")
    assert govops_wal.lsn_diff("1/0", "0/FFFFFFFF") == 1
    assert govops_wal.lsn_diff("0/1", None) is None


def test_wal_file_names():
    seg = 16 * 1024 * 1024
    assert govops_wal.wal_position("000000020000001600000003") == (0x16, 3)
    assert govops_wal.wal_position("00000002.history") is None
    assert govops_wal.wal_position("0000000200000016000000XY") is None
    assert govops_wal.wal_segment_start("000000010000000100000002", seg) == (1 << 32) + 2 * seg
    assert govops_wal.wal_segment_start(None, seg) is None
    # repo2 three segments behind across a log boundary; level or ahead is 0; unknown is None.
    assert govops_wal.segments_behind("000000010000000200000001", "0000000100000001000000FE") == 3
    assert govops_wal.segments_behind("000000010000000100000001", "000000020000000100000005") == 0
    assert govops_wal.segments_behind("000000010000000100000001", None) is None


def test_the_failover_filter_uses_the_same_lsn_arithmetic(plugin):
    failover = plugin("filter", "db_failover")
    assert Path(failover.pg_lsn_int.__code__.co_filename) == Path(govops_wal.__file__)
    assert (failover.pg_lsn_int.__name__, failover.pg_lsn_diff.__name__) == ("lsn_to_int", "lsn_diff")
    assert failover.pg_lsn_diff("0/3000060", "0/3000000") == 0x60


def ansible(tool, tmp_path, *args, **env_extra):
    """Run an Ansible command line tool of the venv from the repository root with its ansible.cfg, no vault."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_LOCAL_TEMP=str(tmp_path), **env_extra)
    env.pop("ANSIBLE_VAULT_IDENTITY_LIST", None)
    argv = [shutil.which(tool, path=str(BIN)) or tool, *args]
    return subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_the_failover_filter_loads_the_shared_file_under_ansible(tmp_path):
    """Ansible does not put module_utils on the controller's path: the filter finds it beside itself."""
    message = 'msg=\'{{ "16/B374D848" | pg_lsn_int }} {{ "1/0" | pg_lsn_diff("0/FFFFFFFF") }}\''
    proc = ansible(
        "ansible",
        tmp_path,
        *("localhost", "-i", "localhost,", "-c", "local", "-m", "ansible.builtin.debug", "-a", message),
        ANSIBLE_CACHE_PLUGIN="ansible.builtin.memory",
        ANSIBLE_GATHERING="explicit",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"msg: {0x16B374D848} 1" in proc.stdout


# --- govops_checks: shared probes ------------------------------------------------------
def test_psql_json_asks_as_the_clusters_account(probes):
    fake = probes((("runuser",), (0, '{"in_recovery": false}\n', "")))
    assert govops_checks.psql_json("SELECT 1", 5433, "pg") == ({"in_recovery": False}, "")
    argv = fake.calls[0]
    assert argv[:5] == ["runuser", "-u", "pg", "--", "psql"] and argv[argv.index("-p") + 1] == "5433"
    assert argv[-2:] == ["-c", "SELECT 1"]


def test_psql_json_failures_say_why(probes):
    probes((("runuser",), (2, "", "psql: error: connection to server failed\n")))
    assert govops_checks.psql_json("SELECT 1", 5432) == (None, "psql: error: connection to server failed")
    probes((("runuser",), (0, "not json", "")))
    value, error = govops_checks.psql_json("SELECT 1", 5432)
    assert value is None and error.startswith("unreadable answer:")


def test_timers_verdict(probes):
    def state(argv):
        return (0, "active\n", "") if argv[-1] == "a.timer" else (3, "inactive\n", "")

    probes((("systemctl", "is-active"), state))
    checks = govops_checks.CheckList()
    govops_checks.timers_verdict(checks, "x.timers", "定时任务", "Timers", ["a.timer"])
    govops_checks.timers_verdict(checks, "x.timers", "定时任务", "Timers", ["a.timer", "b.timer"])
    govops_checks.timers_verdict(checks, "x.timers", "定时任务", "Timers", [])
    ok, one_off, none = checks.checks
    assert (ok["status"], ok["evidence"], ok["measured"]) == ("pass", "1/1 timers active", 1)
    assert one_off["status"] == "fail" and one_off["evidence"] == "1/2 timers active; not active: b.timer inactive"
    assert none["status"] == "fail" and "nothing to judge" in none["evidence"]


@pytest.mark.parametrize(
    ("shown", "status", "evidence", "measured"),
    [
        ("Result=success\nExecMainExitTimestamp=Tue 2026-11-24 05:00:01 CST\n", "pass", "Tue 2026-11-24", "success"),
        ("Result=exit-code\nExecMainExitTimestamp=Tue 2026-11-24 05:00:01 CST\n", "fail", "exit-code", "exit-code"),
        ("Result=success\nExecMainExitTimestamp=\n", "warn", "never (first run on its schedule)", None),
    ],
)
def test_last_run(probes, shown, status, evidence, measured):
    fake = probes((("systemctl", "show"), (0, shown, "")))
    checks = govops_checks.CheckList()
    govops_checks.last_run(checks, "x.last", "最近一次", "Last run", "x.service")
    (check,) = checks.checks
    assert (check["status"], check["measured"]) == (status, measured)
    assert check["evidence"].startswith("x.service: Result=") and evidence in check["evidence"]
    assert fake.calls == [["systemctl", "show", "-p", "Result", "-p", "ExecMainExitTimestamp", "x.service"]]


def test_sshd_settings(probes):
    text = "Port 22\nallowgroups ops\nallowgroups sftpbackup\nport 2222\n  \nciphers a,b\n"
    fake = probes((("/usr/sbin/sshd", "-T"), (0, text, "")))
    rc, settings, error = govops_checks.sshd_settings("user=x,host=h,addr=127.0.0.1")
    assert (rc, error) == (0, "")
    assert settings == {"port": "22", "allowgroups": "ops sftpbackup", "ciphers": "a,b"}
    assert fake.calls == [["/usr/sbin/sshd", "-T", "-C", "user=x,host=h,addr=127.0.0.1"]]
    fake = probes((("/usr/sbin/sshd",), (255, "", "Bad configuration option\n")))
    assert govops_checks.sshd_settings() == (255, {}, "Bad configuration option")
    assert fake.calls == [["/usr/sbin/sshd", "-T"]]


def test_sudo_rules(probes):
    listed = (
        "Matching Defaults entries for ops1 on db1:\n    env_reset\n\n"
        "User ops1 may run the following commands on db1:\n    (ALL : ALL) NOPASSWD: /usr/bin/systemctl\n"
    )
    probes((("sudo", "-n", "-l", "-U", "ops1"), (0, listed, "")))
    rules = govops_checks.sudo_rules("ops1")
    assert "/usr/bin/systemctl" in rules and "env_reset" not in rules
    assert not govops_checks.has_full_sudo(rules)
    assert govops_checks.has_full_sudo(rules + "    (ALL : ALL) ALL\n")
    assert govops_checks.has_full_sudo("    (root) NOPASSWD: ALL")
    assert govops_checks.sudo_rules("nobody") == ""  # sudo could not say: no rules, never a grant
    probes((("sudo",), (1, "Sorry, user ops2 is not allowed to run sudo on db1.\n", "")))
    assert govops_checks.sudo_rules("ops2") == ""


# --- one backup-age check for both pgBackRest repositories ----------------------------
def test_backup_ages_are_judged_the_same_in_both_repositories(plugin):
    mod = plugin("modules", "pgbackrest_check")
    entry = {
        "backup": [
            {"label": "F1", "type": "full", "timestamp": {"stop": 1000}},
            {"label": "F2", "type": "full", "timestamp": {"stop": 1000}, "database": {"repo-key": 2}},
            {"label": "D2", "type": "diff", "timestamp": {"stop": 2000}, "database": {"repo-key": 2}},
        ]
    }
    checks = mod.CheckList()
    local = mod.check_backup_ages(checks, entry, 1, {"full": 1, "diff": 1}, 1000 + 1800)
    offsite = mod.check_backup_ages(checks, entry, 2, {"full": 1, "diff": 1}, 1000 + 1800)
    assert local == {"diff": {"label": "F1", "age_seconds": 1800}, "full": {"label": "F1", "age_seconds": 1800}}
    assert offsite == {"diff": {"label": "D2", "age_seconds": 800}, "full": {"label": "F2", "age_seconds": 1800}}
    found = {c["id"]: c for c in checks.checks}
    assert list(found) == [
        "pgbackrest.backup.diff",
        "pgbackrest.backup.full",
        "pgbackrest.offsite.backup.diff",
        "pgbackrest.offsite.backup.full",
    ]
    assert found["pgbackrest.backup.full"]["title"] == {
        "zh_CN": "最新全量备份在计划周期内",
        "en": "Newest full backup within its schedule",
    }
    assert found["pgbackrest.offsite.backup.full"]["title"] == {
        "zh_CN": "异地仓库最新全量备份在计划周期内",
        "en": "Newest full backup in the off-site repository within its schedule",
    }
    assert found["pgbackrest.backup.diff"]["evidence"] == (
        "newest backup satisfying the diff schedule: F1, 0.50 h old; limit 1 h"
    )
    assert found["pgbackrest.offsite.backup.diff"]["evidence"] == (
        "newest backup in repo2 satisfying the diff schedule: D2, 0.22 h old; limit 1 h"
    )
    assert all(c["status"] == "pass" for c in checks.checks)
    late = mod.CheckList()
    mod.check_backup_ages(late, {"backup": []}, 2, {"full": 1}, 5000)
    assert late.checks[0]["status"] == "fail" and "satisfying the full schedule: none" in late.checks[0]["evidence"]


# --- the doc fragment -------------------------------------------------------------------
def test_every_check_module_extends_the_fragment_and_renders(tmp_path):
    modules = str(REPO / "plugins" / "modules")
    fragments = str(REPO / "plugins" / "doc_fragments")
    proc = ansible("ansible-doc", tmp_path, "-j", "-M", modules, *CHECK_MODULES, ANSIBLE_DOC_FRAGMENT_PLUGINS=fragments)
    assert proc.returncode == 0, proc.stderr
    docs = json.loads(proc.stdout)
    assert sorted(docs) == CHECK_MODULES
    for name, found in docs.items():
        attributes = found["doc"]["attributes"]
        assert attributes["check_mode"]["support"] == "full", name
        assert any(note.startswith("Result C(checks)") for note in found["doc"]["notes"]), name
        assert {"checks", "summary"} <= set(found["return"]), name
        assert found["return"]["checks"]["type"] == "list", name
