"""Pure parts of plugins/modules/redis_cluster_check.py and plugins/filter/redis_cluster.py."""

from __future__ import annotations

import pytest

NODES = """\
a1 10.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460
a2 10.0.0.2:7000@17000,redis2 master - 0 1700000000000 2 connected 5461-10922
a3 10.0.0.3:7000@17000 master - 0 1700000000000 3 connected 10923-16383 [42->-a1]
b1 10.0.0.2:7001@17001 slave a1 0 1700000000000 1 connected
b2 10.0.0.3:7001@17001 slave a2 0 1700000000000 2 connected
b3 10.0.0.1:7001@17001 slave a3 0 1700000000000 3 connected
"""


@pytest.fixture
def check(plugin):
    return plugin("modules", "redis_cluster_check")


@pytest.fixture
def plan(plugin):
    return plugin("filter", "redis_cluster")


def test_cluster_nodes_are_parsed(check):
    nodes = check.parse_cluster_nodes(NODES)
    assert len(nodes) == 6
    first = nodes[0]
    assert (first["id"], first["ip"], first["port"], first["role"], first["myself"]) == (
        "a1",
        "10.0.0.1",
        7000,
        "master",
        True,
    )
    assert first["slots"] == [[0, 5460]]
    assert nodes[1]["ip"] == "10.0.0.2"  # hostname after the comma is ignored
    assert nodes[2]["slots"] == [[10923, 16383]]  # migrating slot markers skipped
    assert nodes[3]["role"] == "replica" and nodes[3]["master_id"] == "a1"
    assert sum(check.slot_count(n) for n in nodes) == check.CLUSTER_SLOTS


def test_single_slots_and_short_lines(check):
    nodes = check.parse_cluster_nodes("x 1.2.3.4:1@2 master - 0 0 1 connected 5 7-9\nbroken line\n")
    assert nodes[0]["slots"] == [[5, 5], [7, 9]]
    assert len(nodes) == 1


def test_anti_affinity_holds_for_a_rotated_layout(check):
    nodes = check.parse_cluster_nodes(NODES)
    assert check.anti_affinity_violations(nodes, 1) == []
    assert [len(s["replicas"]) for s in check.topology(nodes)] == [1, 1, 1]


def test_anti_affinity_reports_a_replica_on_its_masters_host(check):
    text = NODES.replace("b1 10.0.0.2:7001", "b1 10.0.0.1:7001")
    problems = check.anti_affinity_violations(check.parse_cluster_nodes(text), 1)
    assert any("same host" in p and "10.0.0.1:7000" in p for p in problems)
    assert any("0 replica(s) on other hosts" in p for p in problems)


def test_failed_replicas_do_not_count(check):
    text = NODES.replace("b2 10.0.0.3:7001@17001 slave", "b2 10.0.0.3:7001@17001 slave,fail")
    nodes = check.parse_cluster_nodes(text)
    assert not check.healthy(nodes[4])
    assert check.anti_affinity_violations(nodes, 1) == [
        "master 10.0.0.2:7000 has 0 replica(s) on other hosts, expected 1"
    ]


def test_info_parsing_and_figures(check):
    info = check.parse_info(
        "# Server\r\nredis_version:8.0.2\r\n# Stats\r\ninstantaneous_ops_per_sec:12\r\n"
        "keyspace_hits:3\r\nkeyspace_misses:1\r\nmem_fragmentation_ratio:1.25\r\n"
        "# Keyspace\r\ndb0:keys=10,expires=2,avg_ttl=0\r\ndb3:keys=5,expires=0,avg_ttl=0\r\n"
    )
    assert info["redis_version"] == "8.0.2"
    assert info["instantaneous_ops_per_sec"] == 12
    assert info["mem_fragmentation_ratio"] == 1.25
    assert info["db0"] == {"keys": 10, "expires": 2, "avg_ttl": 0}
    assert check.key_count(info) == 15
    assert check.hit_rate(info) == 75.0
    assert check.hit_rate({}) is None


def test_memory_sizes_use_redis_units(check):
    assert check.memory_bytes("64mb") == 64 * 1024 * 1024
    assert check.memory_bytes("64m") == 64_000_000
    assert check.memory_bytes("1GB") == 1024**3
    assert check.memory_bytes("1048576") == 1048576
    with pytest.raises(ValueError, match="not a redis memory size"):
        check.memory_bytes("64 tb")


def test_resp_encoding(check):
    assert check.encode_command(("AUTH", "app", "pässword")) == (
        b"*3\r\n$4\r\nAUTH\r\n$3\r\napp\r\n$9\r\np\xc3\xa4ssword\r\n"
    )


def test_sysctl_file_parsing(check, tmp_path):
    path = tmp_path / "60-redis.conf"
    path.write_text("# comment\nvm.overcommit_memory = 1\nnet.core.somaxconn=1024\n", encoding="utf-8")
    assert check.read_sysctl_file(str(path)) == {"vm.overcommit_memory": "1", "net.core.somaxconn": "1024"}
    assert check.read_sysctl_file(str(tmp_path / "missing")) == {}


def instances(hosts, ports):
    return [{"host": h, "address": f"10.0.0.{i + 1}", "port": p} for i, h in enumerate(hosts) for p in ports]


@pytest.mark.parametrize(
    ("hosts", "ports", "replicas"),
    [
        (["r1", "r2", "r3"], [7000, 7001], 1),
        (["r1", "r2", "r3"], [7000, 7001, 7002], 2),
        (["r1", "r2", "r3", "r4"], [7000, 7001], 1),
        (["r1", "r2", "r3", "r4", "r5", "r6"], [7000], 1),
    ],
)
def test_plan_keeps_every_replica_off_its_masters_host(plan, hosts, ports, replicas):
    result = plan.redis_cluster_plan(instances(hosts, ports), replicas)
    masters = result["masters"]
    assert len(masters) == len(hosts) * len(ports) // (replicas + 1)
    assert len({m["host"] for m in masters}) == min(len(hosts), len(masters))  # masters spread over hosts
    for replica in result["replicas"]:
        assert replica["host"] != replica["master"]["host"]
    for master in masters:
        mine = [r for r in result["replicas"] if r["master"] == master]
        assert len(mine) == replicas
        assert len({r["host"] for r in mine}) == replicas  # replicas of one master on different hosts


def test_plan_refuses_what_anti_affinity_cannot_hold(plan):
    with pytest.raises(plan.PlanError, match="cannot all sit"):
        plan.redis_cluster_plan(instances(["r1", "r2"], [7000, 7001, 7002]), 2)
    with pytest.raises(plan.PlanError, match="do not divide"):
        plan.redis_cluster_plan(instances(["r1", "r2", "r3"], [7000]), 1)


def test_instances_from_addresses(plan):
    assert plan.redis_instances({"b": "10.0.0.2", "a": "10.0.0.1"}, [7001, "7000"]) == [
        {"host": "a", "address": "10.0.0.1", "port": 7001},
        {"host": "a", "address": "10.0.0.1", "port": 7000},
        {"host": "b", "address": "10.0.0.2", "port": 7001},
        {"host": "b", "address": "10.0.0.2", "port": 7000},
    ]
