"""Pure parts of plugins/modules/redis_cluster_check.py, module_utils/govops_redis.py and filter/redis_cluster.py."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading

import pytest
import yaml
from ansible.module_utils import govops_redis
from check_harness import run_module
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fake_servers import redis_check_args, redis_instance

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
    assert sum(govops_redis.slot_count(n) for n in nodes) == govops_redis.CLUSTER_SLOTS


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


def test_resp_encoding():
    assert govops_redis.encode_command(("AUTH", "app", "pässword")) == (
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


@pytest.fixture
def limits(repo):
    """The role's own alert thresholds (roles/redis/defaults/main.yml): the check has none of its own."""
    return yaml.safe_load((repo / "roles" / "redis" / "defaults" / "main.yml").read_text())["redis_alert_thresholds"]


def test_alerts_need_every_threshold(check, limits):
    partial = {k: v for k, v in limits.items() if k != "clients_percent"}
    with pytest.raises(ValueError, match="alert_thresholds lacks clients_percent"):
        check.alerts({}, 0, 0, partial)


def test_no_alert_for_a_quiet_instance(check, limits):
    info = {"used_memory": 10 * 2**20, "connected_clients": 5, "rejected_connections": 0, "role": "master"}
    assert check.alerts(info, 256 * 2**20, 10000, limits) == []


def test_memory_and_clients_above_their_limits_warn_with_the_setting(check, limits):
    info = {"used_memory": 230 * 2**20, "connected_clients": 9000, "rejected_connections": 3}
    found = check.alerts(info, 256 * 2**20, 10000, limits)
    assert len(found) == 3
    assert "89.8 % of maxmemory" in found[0] and "redis_maxmemory" in found[0]
    assert "90.0 % of maxclients 10000" in found[1]
    assert "3 connection(s) rejected" in found[2]


def test_a_limit_of_zero_and_no_maxmemory_switch_checks_off(check, limits):
    info = {"used_memory": 230 * 2**20, "connected_clients": 9000}
    assert check.alerts(info, 0, 10000, {**limits, "clients_percent": 0}) == []


def test_hit_rate_is_judged_only_after_enough_lookups(check, limits):
    low = {"keyspace_hits": 10, "keyspace_misses": 90}
    assert check.alerts(low, 0, 0, {**limits, "hit_rate_min_percent": 80}) == []
    many = {"keyspace_hits": 4000, "keyspace_misses": 6000}
    found = check.alerts(many, 0, 0, {**limits, "hit_rate_min_percent": 80})
    assert len(found) == 1 and "hit rate 40.0 % over 10000 lookups" in found[0]
    assert check.alerts(many, 0, 0, limits) == []  # off in the role's defaults


def test_fragmentation_counts_only_for_large_instances(check, limits):
    small = {"mem_fragmentation_ratio": 3.2, "used_memory_rss": 20 * 2**20}
    large = {"mem_fragmentation_ratio": 3.2, "used_memory_rss": 200 * 2**20}
    assert check.alerts(small, 0, 0, limits) == []
    assert "fragmentation ratio 3.2 at 200 MiB" in check.alerts(large, 0, 0, limits)[0]


def test_a_replica_with_its_link_down_warns(check, limits):
    info = {"role": "slave", "master_link_status": "down", "master_host": "10.0.0.1", "master_port": 7000}
    assert "10.0.0.1:7000 is down" in check.alerts(info, 0, 0, limits)[0]
    assert check.alerts({**info, "master_link_status": "up"}, 0, 0, limits) == []


def _new_host(address, ports=(7000, 7001)):
    return [{"host": f"h{address}", "address": address, "port": port} for port in ports]


_OLD = [i for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3") for i in _new_host(address)]


def _follows(plan_, nodes):
    """master endpoint -> replica IPs, after the plan: joins and moves applied to the nodes."""
    by_id = {n["id"]: f"{n['ip']}:{n['port']}" for n in nodes}
    layout = {f"{n['ip']}:{n['port']}": [] for n in nodes if n["role"] == "master"}
    layout.update({f"{m['address']}:{m['port']}": [] for m in plan_["masters"]})
    moved = {m["replica"]["id"]: m["master"] for m in plan_["moves"]}
    for n in nodes:
        if n["role"] == "replica":
            layout[moved.get(n["id"], by_id[n["master_id"]])].append(n["ip"])
    for join in plan_["replicas"]:
        layout[join["master"]].append(join["address"])
    return layout


def test_scale_out_by_one_host_swaps_a_replica_to_keep_anti_affinity(check, plan):
    nodes = check.parse_cluster_nodes(NODES)
    result = plan.redis_cluster_scale_plan(nodes, _OLD + _new_host("10.0.0.4"), 1)
    assert [f"{m['address']}:{m['port']}" for m in result["masters"]] == ["10.0.0.4:7000"]
    assert [(j["port"], j["master"]) for j in result["replicas"]] == [(7001, "10.0.0.1:7000")]
    assert [(m["replica"]["id"], m["master"]) for m in result["moves"]] == [("b1", "10.0.0.4:7000")]
    layout = _follows(result, nodes)
    assert all(len(ips) == 1 and ips[0] != master.split(":")[0] for master, ips in layout.items())


def test_scale_out_by_two_hosts_needs_no_move(check, plan):
    nodes = check.parse_cluster_nodes(NODES)
    result = plan.redis_cluster_scale_plan(nodes, _OLD + _new_host("10.0.0.4") + _new_host("10.0.0.5"), 1)
    assert len(result["masters"]) == 2 and result["moves"] == []
    layout = _follows(result, nodes)
    assert layout["10.0.0.4:7000"] == ["10.0.0.5"] and layout["10.0.0.5:7000"] == ["10.0.0.4"]


def test_scale_out_refuses_an_odd_number_of_instances(check, plan):
    with pytest.raises(plan.PlanError, match="do not divide"):
        plan.redis_cluster_scale_plan(check.parse_cluster_nodes(NODES), _new_host("10.0.0.4", (7000,)), 1)


SCALED = """\
a1 10.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-4095
a2 10.0.0.2:7000@17000 master - 0 0 2 connected 5461-9556
a3 10.0.0.3:7000@17000 master - 0 0 3 connected 10923-15018
a4 10.0.0.4:7000@17000 master - 0 0 7 connected 4096-5460 9557-10922 15019-16383
c1 10.0.0.4:7001@17001 slave a1 0 0 1 connected
b1 10.0.0.2:7001@17001 slave a4 0 0 7 connected
b2 10.0.0.3:7001@17001 slave a2 0 0 2 connected
b3 10.0.0.1:7001@17001 slave a3 0 0 3 connected
"""


def test_removing_a_host_empties_its_master_and_rehomes_the_orphaned_replica(check, plan):
    result = plan.redis_cluster_remove_plan(check.parse_cluster_nodes(SCALED), "10.0.0.4", 1)
    assert [n["id"] for n in result["empty"]] == ["a4"]
    assert [(m["replica"]["id"], m["master"]["id"]) for m in result["moves"]] == [("b1", "a1")]
    assert [n["id"] for n in result["delete"]] == ["c1", "a4"]  # replicas first


def test_removing_a_host_refuses_below_three_masters_or_an_unknown_address(check, plan):
    nodes = check.parse_cluster_nodes(NODES)
    with pytest.raises(plan.PlanError, match="only 2 master"):
        plan.redis_cluster_remove_plan(nodes, "10.0.0.3", 1)
    with pytest.raises(plan.PlanError, match="no instance"):
        plan.redis_cluster_remove_plan(nodes, "10.0.0.9", 1)


def test_removing_a_host_refuses_when_a_master_would_lose_its_only_replica(check, plan):
    # Four hosts, no spare: a4's replica sits on host 1, as does a1 - no stand-in for c1.
    text = SCALED.replace("b1 10.0.0.2:7001", "b1 10.0.0.1:7002")
    with pytest.raises(plan.PlanError, match=r"10\.0\.0\.1:7000 would keep 0 replica"):
        plan.redis_cluster_remove_plan(check.parse_cluster_nodes(text), "10.0.0.4", 1)


TLS_ONLY = {
    "port": "0",
    "tls-port": "7000",
    "tls-cluster": "yes",
    "tls-replication": "yes",
    "tls-auth-clients": "yes",
    "tls-protocols": "TLSv1.2 TLSv1.3",
}


def test_tls_only_configuration_passes(check):
    assert check.tls_config_problems(TLS_ONLY, 7000, "yes", ["TLSv1.3", "TLSv1.2"]) == []


def test_tls_settings_without_an_expectation_are_not_judged_and_say_so(check):
    # An expectation the caller did not pass is never a pass.
    problems = check.tls_config_problems(TLS_ONLY, 7000, None, None)
    assert problems == [
        "tls-auth-clients yes not judged: no expected value (redis_tls_auth_clients)",
        "tls-protocols 'TLSv1.2 TLSv1.3' not judged: no expected value (redis_tls_protocols)",
    ]
    assert check.tls_config_problems(TLS_ONLY, 7000, "", []) == problems


def test_tls_configuration_problems_name_the_setting(check):
    found = {**TLS_ONLY, "port": "7000", "tls-cluster": "no", "tls-auth-clients": "optional"}
    problems = check.tls_config_problems(found, 7000, "yes", ["TLSv1.2", "TLSv1.3"])
    assert problems == [
        "port 7000 (a plaintext listener; expected 0)",
        "tls-cluster no (expected yes)",
        "tls-auth-clients optional (expected yes)",
    ]
    assert check.tls_config_problems({**TLS_ONLY, "tls-port": "0"}, 7000, "yes", ["TLSv1.2", "TLSv1.3"]) == [
        "tls-port 0 (expected 7000)"
    ]
    assert "tls-protocols 'TLSv1.2 TLSv1.3' (expected 'TLSv1.3')" in check.tls_config_problems(
        TLS_ONLY, 7000, "yes", ["TLSv1.3"]
    )


def test_certificate_days_left_and_names(check):
    now = 1_795_000_000  # 2026-11-18
    assert check.days_left("Dec 18 00:00:00 2026 GMT", now) == 29
    assert check.days_left("Nov 01 00:00:00 2026 GMT", now) < 0
    cert = {"subject": ((("organizationName", "x"),), (("commonName", "redis1"),)), "issuer": ()}
    assert (check.cert_name(cert, "subject"), check.cert_name(cert, "issuer")) == ("redis1", "?")


def _serve_once(reply):
    """A one-connection TCP server on 127.0.0.1: reads a request, sends `reply` (or nothing), closes."""
    server = socket.create_server(("127.0.0.1", 0))

    def run():
        conn, _ = server.accept()
        with conn:
            conn.recv(1024)
            if reply:
                conn.sendall(reply)
        server.close()

    threading.Thread(target=run, daemon=True).start()
    return server.getsockname()[1]


def test_plaintext_probe_tells_a_refusal_from_an_answer(check):
    assert check.plaintext_refused("127.0.0.1", _serve_once(b""), 2.0)[0] is True  # a TLS port hangs up
    answered = check.plaintext_refused("127.0.0.1", _serve_once(b"+PONG\r\n"), 2.0)
    assert answered == (False, "a plaintext reply: 'PONG'")
    assert check.plaintext_refused("127.0.0.1", _serve_once(b"-NOAUTH Authentication required.\r\n"), 2.0)[0] is False
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    assert check.plaintext_refused("127.0.0.1", port, 2.0) == (True, "connection refused")


def _certificate(subject, issuer_key, issuer_name, key, ca=False, san=()):
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=90))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(san)), critical=False)
    if ca:
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(tmp_path, name, obj):
    path = tmp_path / name
    if isinstance(obj, x509.Certificate):
        path.write_bytes(obj.public_bytes(serialization.Encoding.PEM))
    else:
        path.write_bytes(
            obj.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    return str(path)


def test_tls_client_verifies_the_ca_and_the_address(check, tmp_path):
    ca_key, node_key, other_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    ca = _certificate("test CA", ca_key, "test CA", ca_key, ca=True)
    other_ca = _certificate("other CA", other_key, "other CA", other_key, ca=True)
    san = [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    node = _certificate("redis1", ca_key, "test CA", node_key, san=san)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(_pem(tmp_path, "node.crt", node), _pem(tmp_path, "node.key", node_key))
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve(count):
        for _ in range(count):
            conn, _ = listener.accept()
            try:
                with server.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1024)
                    tls.sendall(b"+PONG\r\n")
            except (OSError, ssl.SSLError):
                continue

    threading.Thread(target=serve, args=(3,), daemon=True).start()
    trusted = check.tls_context(_pem(tmp_path, "ca.crt", ca))
    with check.Resp("127.0.0.1", port, 3.0, trusted) as conn:
        assert conn.call("PING") == "PONG"
        assert conn.sock.version() in ("TLSv1.2", "TLSv1.3")
        assert check.cert_name(conn.sock.getpeercert(), "subject") == "redis1"
    untrusted = check.tls_context(_pem(tmp_path, "other.crt", other_ca))
    with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
        check.Resp("127.0.0.1", port, 3.0, untrusted)
    with pytest.raises(ssl.SSLCertVerificationError, match="match"):  # a name the certificate does not carry
        check.Resp("localhost", port, 3.0, trusted)
    listener.close()


# --- the module against a fake instance: figures are figures, judged by the alert check
@pytest.fixture
def instance():
    servers = []

    def start(**info):
        server = redis_instance(**info)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def test_figures_are_not_a_check_that_always_passes(check, instance, limits):
    server = instance()
    run = run_module(check, redis_check_args(server, limits))
    port = server.port
    assert f"redis.node.{port}.metrics" not in run.checks
    figures = run.result["metrics"][str(port)]
    assert figures["memory_percent"] == 0.8 and figures["maxclients"] == 10000 and figures["evicted_keys"] == 0
    alert = run.checks[f"redis.node.{port}.alerts"]
    assert alert["status"] == "pass"
    assert "figures: keys 4" in alert["evidence"] and "0.8 % of maxmemory 268435456" in alert["evidence"]


def test_memory_near_maxmemory_is_judged_against_the_role_threshold(check, instance, limits):
    server = instance(used_memory=230 * 2**20, used_memory_human="230.00M", rejected_connections=7)
    run = run_module(check, redis_check_args(server, limits))
    alert = run.checks[f"redis.node.{server.port}.alerts"]
    assert alert["status"] == "warn"
    assert "89.8 % of maxmemory (limit 80.0 %)" in alert["evidence"]
    assert "7 connection(s) rejected" in alert["evidence"]


def test_expectations_not_passed_are_not_judged_and_fail(check, instance, limits):
    server = instance()
    args = redis_check_args(server, limits)
    for name in ("maxmemory", "maxmemory_policy", "sysctl"):
        del args[name]
    run = run_module(check, args)
    persistence = run.checks[f"redis.node.{server.port}.persistence"]
    assert persistence["status"] == "fail"
    assert "maxmemory 268435456 not judged: no expected value (redis_maxmemory)" in persistence["evidence"]
    assert "not judged: no expected value (redis_maxmemory_policy)" in persistence["evidence"]
    sysctl = run.checks["redis.os.sysctl"]
    assert sysctl["status"] == "fail" and "redis_sysctl" in sysctl["evidence"]


def test_flushall_is_asked_never_sent_and_check_mode_skips_the_probe_write(check, instance, limits):
    server = instance()
    run = run_module(check, redis_check_args(server, limits), check_mode=True)
    acl = run.checks[f"redis.node.{server.port}.app_acl"]
    assert acl["status"] == "pass" and "ACL DRYRUN app FLUSHALL" in acl["evidence"]
    assert ("ops", "ACL", "DRYRUN", "app", "FLUSHALL") in server.commands
    assert not [c for c in server.commands if c[1] == "FLUSHALL"]
    assert run.checks["redis.roundtrip"]["status"] == "skip"
    assert server.writes() == []
    # Outside check mode the round trip writes its probe key and deletes it: the gate above is real.
    run = run_module(check, redis_check_args(server, limits), check_mode=False)
    assert run.checks["redis.roundtrip"]["status"] == "pass"
    assert [c[1] for c in server.writes()] == ["SET", "DEL"]


def test_an_app_user_allowed_to_flush_fails_without_anything_being_flushed(check, instance, limits):
    server = instance()
    original = server.answer

    def permissive(user, name, args):
        if name == "ACL":
            return b"+OK\r\n"
        return original(user, name, args)

    server.answer = permissive
    server.store["app:key"] = "kept"
    run = run_module(check, redis_check_args(server, limits))
    acl = run.checks[f"redis.node.{server.port}.app_acl"]
    assert acl["status"] == "fail" and "FLUSHALL (asked as ops, nothing run) -> allowed" in acl["evidence"]
    assert server.store == {"app:key": "kept"}


def test_crash_hook_is_judged_from_what_systemd_reports(check, instance, limits, tmp_path):
    server = instance()
    hook = tmp_path / "redis-crash-failover"
    hook.write_text("#!/bin/sh\n")
    hook.chmod(0o755)
    settings = tmp_path / "crash-failover.json"
    settings.write_text("{}")
    settings.chmod(0o600)
    args = redis_check_args(server, limits, mode="cluster", crash_hook=str(hook), crash_hook_settings=str(settings))
    wired = f"{{ path={hook} ; argv[]={hook} {settings} {server.port} ; ignore_errors=no }}"
    systemctl = ("systemctl", "show", f"redis-node@{server.port}.service")
    run = run_module(check, args, answers=[(systemctl, (0, wired, ""))])
    verdict = run.checks["redis.failover.crash_hook"]
    assert verdict["status"] == "pass", verdict
    assert f"{server.port}: wired" in verdict["evidence"]

    run = run_module(check, args, answers=[(systemctl, (0, "", ""))])
    verdict = run.checks["redis.failover.crash_hook"]
    assert verdict["status"] == "fail"
    assert f"redis-node@{server.port}.service has no ExecStopPost running {hook}" in verdict["evidence"]

    settings.chmod(0o644)
    run = run_module(check, args, answers=[(systemctl, (0, wired, ""))])
    verdict = run.checks["redis.failover.crash_hook"]
    assert verdict["status"] == "fail"
    assert "is mode 0644" in verdict["evidence"] and "not 0600 root" in verdict["evidence"]


def test_crash_path_switched_off_is_a_warning_not_a_pass(check, instance, limits):
    server = instance()
    run = run_module(check, redis_check_args(server, limits, mode="cluster", crash_hook=""))
    verdict = run.checks["redis.failover.crash_hook"]
    assert verdict["status"] == "warn"
    assert "switched off (redis_crash_failover: false)" in verdict["evidence"]


def test_replication_settings_are_compared_setting_by_setting(check, instance, limits):
    """redis.node.<port>.replication (issue 23): what bounds a failover's data loss, as the role set it."""
    server = instance()
    server.config = {**server.config, "min-replicas-to-write": "0", "repl-diskless-sync": "yes"}
    wanted = {"min-replicas-to-write": "0", "repl-diskless-sync": "yes"}
    run = run_module(check, redis_check_args(server, limits, replication=wanted))
    verdict = run.checks[f"redis.node.{server.port}.replication"]
    assert verdict["status"] == "pass"
    assert verdict["evidence"] == "min-replicas-to-write 0, repl-diskless-sync yes"
    drifted = {**wanted, "min-replicas-to-write": "1", "cluster-replica-validity-factor": "10"}
    run = run_module(check, redis_check_args(server, limits, replication=drifted))
    verdict = run.checks[f"redis.node.{server.port}.replication"]
    assert verdict["status"] == "fail"
    assert "min-replicas-to-write 0 (expected 1)" in verdict["evidence"]
    # A setting the server does not report is not taken for the expected value.
    assert "cluster-replica-validity-factor None (expected 10)" in verdict["evidence"]
    run = run_module(check, redis_check_args(server, limits, replication={}))
    verdict = run.checks[f"redis.node.{server.port}.replication"]
    assert verdict["status"] == "fail" and "not judged: no expected values" in verdict["evidence"]
    assert f"redis.node.{server.port}.replication" not in run_module(check, redis_check_args(server, limits)).checks
