"""scripts/bench/redis.py probes the cluster with plugins/module_utils/govops_redis (issue 21).

The benchmark itself starts containers; what it asks the cluster does not need
them. Here fake cluster nodes (tests/fake_servers.FakeRedis plus CLUSTER NODES,
CLUSTER INFO, INFO replication, CLUSTER FAILOVER and MOVED) answer the
benchmark's Cluster, Writer and restore(): they must log in with the right
user, read the shared parsers' results (role, slots as lists, parsed INFO) and
still tell a healthy cluster from each kind of unhealthy one.
"""

from __future__ import annotations

import socket
import time

import pytest
from fake_servers import FakeRedis
from test_benchmark_pages import load_script

PASSWORDS = {"ops": "ops-secret", "app": "app-secret"}
PW = {"redis_ops_password": PASSWORDS["ops"], "redis_app_password": PASSWORDS["app"]}
MASTER_ID, REPLICA_ID = "a" * 40, "b" * 40
HOST = "bench-redis-1"


def bulk(text):
    data = text.encode()
    return b"$%d\r\n%s\r\n" % (len(data), data)


class FakeClusterNode(FakeRedis):
    """One cluster instance: CLUSTER NODES/INFO from its attributes, INFO replication, FAILOVER, MOVED."""

    def __init__(self):
        self.nodes_text = ""
        self.state = "ok"
        self.slots_ok = 16384
        self.role = "master"
        self.moved_to = None
        super().__init__(PASSWORDS)

    def answer(self, user, name, args):
        if user is not None and name == "CLUSTER":
            sub = args[1].upper()
            if sub == "NODES":
                return bulk(self.nodes_text)
            if sub == "INFO":
                return bulk(
                    f"cluster_state:{self.state}\r\ncluster_slots_assigned:16384\r\n"
                    f"cluster_slots_ok:{self.slots_ok}\r\ncluster_known_nodes:2\r\n"
                )
            if sub == "FAILOVER":
                self.role = "master"
                return b"+OK\r\n"
        if user is not None and name == "INFO" and args[1:] == ["replication"]:
            link = "" if self.role == "master" else "master_link_status:up\r\n"
            return bulk(f"# Replication\r\nrole:{self.role}\r\n{link}connected_slaves:1\r\n")
        if user is not None and name == "SET" and self.moved_to:
            return f"-MOVED 1234 {self.moved_to}\r\n".encode()
        return super().answer(user, name, args)


def nodes_text(master_port, replica_port, replica_flags="slave", replica_link="connected", replica_of=MASTER_ID):
    # The replica on another address (127.0.0.2): a replica on its master's host is a fault of its own.
    return (
        f"{MASTER_ID} 127.0.0.1:{master_port}@17000 myself,master - 0 0 1 connected 0-5460 5461-16383\n"
        f"{REPLICA_ID} 127.0.0.2:{replica_port}@17001 {replica_flags} {replica_of} 0 0 1 {replica_link}\n"
    )


@pytest.fixture
def dead_port():
    """A port bound on 127.0.0.1 with nothing listening: a connection to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def bench():
    return load_script("redis")


@pytest.fixture
def cluster(bench, monkeypatch):
    """Two instances on 127.0.0.1 (the bench's PORTS pointed at them) that report one master and its replica."""
    servers = [FakeClusterNode(), FakeClusterNode()]
    monkeypatch.setattr(bench, "PORTS", [s.port for s in servers])
    for server in servers:
        server.nodes_text = nodes_text(servers[0].port, servers[1].port)
    yield bench.Cluster({HOST: "127.0.0.1"}, PW), servers
    for server in servers:
        server.close()


def test_cluster_reads_nodes_through_the_shared_parser_as_ops(bench, cluster):
    probe, (master, replica) = cluster
    nodes = probe.nodes("127.0.0.1", master.port)
    assert [(n["id"], n["role"], n["host"], n["port"]) for n in nodes] == [
        (MASTER_ID, "master", HOST, master.port),
        (REPLICA_ID, "replica", "127.0.0.2", replica.port),
    ]
    assert nodes[0]["slots"] == [[0, 5460], [5461, 16383]]
    assert master.commands[:2] == [("-", "AUTH", "ops", "***"), ("ops", "CLUSTER", "NODES")]
    masters = probe.masters()
    assert [m["id"] for m in masters] == [MASTER_ID]
    # A hash tag is found in a master's slots given as lists.
    tag = bench.tag_in([[5461, 5470]])
    assert 5461 <= bench.crc16(tag.encode()) % bench.CLUSTER_SLOTS <= 5470


def test_cluster_refuses_a_wrong_ops_password(bench, cluster):
    _probe, (master, _replica) = cluster
    wrong = bench.Cluster({HOST: "127.0.0.1"}, {**PW, "redis_ops_password": "not-it"})
    with pytest.raises(bench.RespError, match="WRONGPASS"):
        wrong.nodes("127.0.0.1", master.port)


def test_a_healthy_cluster_has_no_problems(cluster):
    probe, _servers = cluster
    assert probe.problems() == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"state": "fail"}, "cluster_state not ok"),
        ({"slots_ok": 16000}, "cluster_state not ok"),
        ({"replica_flags": "slave,fail"}, "sees 1 failing/disconnected nodes"),
        ({"replica_flags": "slave,fail?"}, "sees 1 failing/disconnected nodes"),
        ({"replica_link": "disconnected"}, "sees 1 failing/disconnected nodes"),
        ({"replica_of": "c" * 40}, f"master {HOST}:"),
    ],
)
def test_each_unhealthy_view_is_a_problem(cluster, change, expected):
    probe, servers = cluster
    text = {k: v for k, v in change.items() if k.startswith("replica_")}
    for server in servers:
        server.nodes_text = nodes_text(servers[0].port, servers[1].port, **text)
        for key in ("state", "slots_ok"):
            if key in change:
                setattr(server, key, change[key])
    issues = probe.problems()
    assert len(issues) == 2, issues  # each instance reports what it sees
    assert all(expected in issue for issue in issues), issues


def test_an_instance_that_does_not_answer_is_a_problem(bench, cluster, dead_port, monkeypatch):
    probe, (master, _replica) = cluster
    monkeypatch.setattr(bench, "PORTS", [master.port, dead_port])
    issues = probe.problems()
    assert len(issues) == 1, issues
    assert issues[0].startswith(f"{HOST}:{dead_port}: ") and "refused" in issues[0], issues
    assert ("ops", "CLUSTER", "INFO") in master.commands  # the other one was asked


def test_writer_follows_moved_as_app_and_reads_cluster_state(bench, cluster):
    probe, (old_owner, new_owner) = cluster
    old_owner.moved_to = f"127.0.0.1:{new_owner.port}"
    writer = bench.Writer(probe, PW, "app:{b1}:failover", ("127.0.0.1", old_owner.port), ("127.0.0.1", new_owner.port))
    assert writer.write() is True
    assert writer.owner == ("127.0.0.1", new_owner.port)
    assert ("app", "SET", "app:{b1}:failover", "x") in new_owner.commands
    assert ("-", "AUTH", "app", "***") in old_owner.commands
    assert writer.state_ok() is True
    new_owner.state = "fail"
    assert writer.state_ok() is False
    for address in list(writer.conns):
        writer.drop(address)


def test_writer_state_is_not_ok_when_the_observer_is_gone(bench, cluster, dead_port):
    probe, (master, _replica) = cluster
    writer = bench.Writer(probe, PW, "k", ("127.0.0.1", master.port), ("127.0.0.1", dead_port))
    assert writer.state_ok() is False
    assert writer.conns == {}


def test_restore_asks_a_rejoined_replica_to_take_its_slots_back(bench, cluster, monkeypatch):
    probe, (victim_server, _replica) = cluster
    victim = next(m for m in probe.masters() if m["id"] == MASTER_ID)
    victim_server.role = "slave"  # rejoined as a replica, link to its new master up
    real_sleep = time.sleep
    monkeypatch.setattr(bench.time, "sleep", lambda seconds: real_sleep(min(seconds, 0.01)))
    bench.restore(probe, victim, started_by_us=False)
    assert ("ops", "CLUSTER", "FAILOVER") in victim_server.commands
    assert victim_server.role == "master"
