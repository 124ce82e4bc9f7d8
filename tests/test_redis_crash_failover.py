"""Decisions of roles/redis/files/redis-crash-failover (the crash path of issue 23).

The hook's network side is redis-cli; here a recording stand-in answers for
it, so that every decision (act, refuse, and why) is pinned. molecule/redis
verify kills a real master and proves the behaviour end to end.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
from pathlib import Path

import pytest

HOOK = Path(__file__).resolve().parent.parent / "roles/redis/files/redis-crash-failover"

NODES_CONF = """\
a1 10.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460
a2 10.0.0.2:7000@17000 master - 0 1700000000000 2 connected 5461-10922
a3 10.0.0.3:7000@17000 master - 0 1700000000000 3 connected 10923-16383
b1 10.0.0.2:7001@17001 slave a1 0 1700000000000 1 connected
b2 10.0.0.3:7001@17001 slave a2 0 1700000000000 2 connected
b3 10.0.0.1:7001@17001 slave a3 0 1700000000000 3 connected
c1 10.0.0.3:7002@17002 slave a1 0 1700000000000 1 connected
vars currentEpoch 3 lastVoteEpoch 0
"""

SETTINGS = {"cli": ["redis-cli"], "user": "ops", "password": "x", "max_link_down_seconds": 2, "wait_seconds": 1.0}


def replica_info(**fields):
    base = {
        "role": "slave",
        "master_host": "10.0.0.1",
        "master_port": "7000",
        "master_link_status": "down",
        "master_link_down_since_seconds": "0",
        "master_sync_in_progress": "0",
        "slave_repl_offset": "1000",
    }
    base.update(fields)
    return "# Replication\r\n" + "".join(f"{k}:{v}\r\n" for k, v in base.items() if v is not None)


@pytest.fixture
def hook():
    loader = importlib.machinery.SourceFileLoader("redis_crash_failover", str(HOOK))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


class FakeCli:
    """Answers INFO replication per replica; records every command sent."""

    def __init__(self, infos, promoted=True):
        self.infos = infos
        self.promoted = promoted
        self.calls = []
        self.forced = None

    def __call__(self, ip, port, *command, timeout=2.0):
        self.calls.append((ip, port, command))
        key = f"{ip}:{port}"
        if command == ("CLUSTER", "FAILOVER", "FORCE"):
            self.forced = key
            return "OK\n"
        if command == ("INFO", "replication"):
            if self.forced == key and self.promoted:
                return "# Replication\r\nrole:master\r\n"
            answer = self.infos.get(key)
            if isinstance(answer, Exception):
                raise answer
            return answer
        raise AssertionError(f"unexpected command {command}")


@pytest.fixture
def node_dir(tmp_path):
    (tmp_path / "7000").mkdir()
    (tmp_path / "7000" / "nodes.conf").write_text(NODES_CONF)
    return tmp_path


def run(hook, node_dir, cli, result="signal", settings=None, clock=None):
    settings = {**SETTINGS, "data_dir": str(node_dir), **(settings or {})}
    ticks = iter(x / 100 for x in range(10_000))
    return hook.failover(
        settings, 7000, result, cli, detail="killed KILL", clock=clock or (lambda: next(ticks)), sleep=lambda _s: None
    )


def test_nodes_conf_names_the_master_and_its_replicas(hook):
    me = hook.parse_nodes_conf(NODES_CONF)
    assert me["id"] == "a1"
    assert (me["ip"], me["port"]) == ("10.0.0.1", 7000)
    assert "master" in me["flags"]
    assert me["slots"] == ["0-5460"]
    assert me["replicas"] == [("b1", "10.0.0.2", 7001), ("c1", "10.0.0.3", 7002)]


def test_tls_ports_come_from_the_tls_port_field(hook):
    """With TLS the address's port is 0 (no plaintext listener); clients use tls-port (Redis 7+)."""
    conf = (
        "a1 10.0.0.1:0@17000,,tls-port=7000,shard-id=s1 myself,master - 0 0 1 connected 0-5460\n"
        "b1 10.0.0.2:0@17001,,tls-port=7001,shard-id=s1 slave a1 0 1700000000000 1 connected\n"
    )
    me = hook.parse_nodes_conf(conf, tls=True)
    assert (me["ip"], me["port"]) == ("10.0.0.1", 7000)
    assert me["replicas"] == [("b1", "10.0.0.2", 7001)]
    assert hook.parse_nodes_conf(conf)["replicas"] == [("b1", "10.0.0.2", 0)]


def test_clean_stop_does_nothing_and_asks_nobody(hook, node_dir, capsys):
    cli = FakeCli({})
    assert run(hook, node_dir, cli, result="success") == "clean-stop"
    assert cli.calls == []
    assert "clean stop (SERVICE_RESULT=success): nothing to do" in capsys.readouterr().out


def test_crash_forces_the_replica_with_the_largest_offset(hook, node_dir, capsys):
    cli = FakeCli(
        {
            "10.0.0.2:7001": replica_info(slave_repl_offset="1000"),
            "10.0.0.3:7002": replica_info(
                master_link_status="up", master_link_down_since_seconds=None, slave_repl_offset="1200"
            ),
        }
    )
    assert run(hook, node_dir, cli) == "failed-over"
    assert cli.forced == "10.0.0.3:7002"
    sent = [c for _ip, _port, c in cli.calls if c[0] == "CLUSTER"]
    assert sent == [("CLUSTER", "FAILOVER", "FORCE")]  # once, and never TAKEOVER
    out = capsys.readouterr().out
    assert "process ended (signal, killed KILL); CLUSTER FAILOVER FORCE sent to 10.0.0.3:7002" in out
    assert "10.0.0.3:7002 is master" in out


def test_replica_cut_off_longer_than_the_bound_is_not_promoted(hook, node_dir, capsys):
    cli = FakeCli(
        {
            "10.0.0.2:7001": replica_info(master_link_down_since_seconds="30"),
            "10.0.0.3:7002": replica_info(master_sync_in_progress="1"),
        }
    )
    assert run(hook, node_dir, cli) == "no-replica-in-sync"
    assert cli.forced is None
    out = capsys.readouterr().out
    assert "link down for 30 s, above the bound of 2 s (data would be lost)" in out
    assert "in a full resynchronisation" in out
    assert "no replica in sync: nothing done, the cluster's own failover decides" in out


def test_replica_of_another_master_and_unreachable_replica_are_not_promoted(hook, node_dir, capsys):
    cli = FakeCli(
        {
            "10.0.0.2:7001": replica_info(master_host="10.0.0.9"),
            "10.0.0.3:7002": RuntimeError("Could not connect to Redis at 10.0.0.3:7002: Connection refused"),
        }
    )
    assert run(hook, node_dir, cli) == "no-replica-in-sync"
    assert cli.forced is None
    out = capsys.readouterr().out
    assert "follows 10.0.0.9:7000, not this master" in out
    assert "replica 10.0.0.3:7002 did not answer: Could not connect" in out


def test_a_replica_is_not_a_master_with_slots(hook, node_dir, capsys):
    (node_dir / "7000" / "nodes.conf").write_text(
        NODES_CONF.replace("myself,master", "master").replace(
            "b3 10.0.0.1:7001@17001 slave", "b3 10.0.0.1:7001@17001 myself,slave"
        )
    )
    cli = FakeCli({})
    assert run(hook, node_dir, cli) == "not-master"
    assert cli.calls == []
    assert "it was not a master with slots" in capsys.readouterr().out


def test_missing_nodes_conf_does_nothing(hook, tmp_path, capsys):
    cli = FakeCli({})
    assert run(hook, tmp_path, cli) == "no-nodes-conf"
    assert "cannot read" in capsys.readouterr().out


def test_promotion_not_seen_within_the_wait_is_reported(hook, node_dir, capsys):
    cli = FakeCli(
        {"10.0.0.2:7001": replica_info(), "10.0.0.3:7002": replica_info(slave_repl_offset="1")}, promoted=False
    )
    assert run(hook, node_dir, cli) == "not-confirmed"
    assert "was not master within 1.0 s; the cluster's own failover follows" in capsys.readouterr().out


def test_main_always_exits_zero_and_needs_systemds_result(hook, tmp_path, monkeypatch, capsys):
    settings = tmp_path / "s.json"
    settings.write_text(
        '{"cli": [], "user": "ops", "password": "x", "data_dir": "/nonexistent",'
        ' "max_link_down_seconds": "2", "wait_seconds": 5}'
    )
    monkeypatch.delenv("SERVICE_RESULT", raising=False)
    assert hook.main(["hook", str(settings), "7000"]) == 0
    assert "no SERVICE_RESULT" in capsys.readouterr().out
    monkeypatch.setenv("SERVICE_RESULT", "signal")
    assert hook.main(["hook", str(tmp_path / "missing.json"), "7000"]) == 0
    assert "cannot read the settings" in capsys.readouterr().out
