#!/usr/bin/python
# Acceptance checks for roles/redis. Read-only, except one namespaced probe key
# (see DOCUMENTATION) that is written and deleted again; skipped in check mode.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: redis_cluster_check
short_description: Verify the Redis (or Valkey) instances of a host and the cluster they form
description:
  - Talks to every local instance over its TCP port with a small RESP client
    written in Python (no redis-py, no redis-cli, so no password on any
    command line) and reports, check by check, whether what C(roles/redis)
    promises holds.
  - Per instance - reachable and authenticated with the operations user; the
    default user is refused without a password; the application user is
    refused CONFIG (tried) and FLUSHALL (asked with ACL DRYRUN, never sent); persistence (AOF fsync policy, RDB save
    points) and maxmemory as configured, with the last RDB save and AOF write
    healthy. Key count, ops/s, hit rate, memory against maxmemory, clients
    against maxclients, rejected connections and evicted keys are figures,
    not checks - they are returned in C(metrics) and quoted in the evidence of
    the alert-threshold check that judges them.
  - Cluster mode, from the first reachable local instance - cluster_state ok;
    all 16384 slots assigned and ok; the expected number of masters, each with
    the expected number of connected replicas; no node failing, in handshake
    or without address; anti-affinity (no replica on the same host, that is
    the same announced IP, as its master).
  - A write/read round trip with the operations user on a namespaced probe key
    (C(probe_prefix) + host + port) that is deleted right after; MOVED
    redirections are followed. In check mode the round trip is skipped, so the
    module then changes nothing at all.
  - OS tuning (vm.overcommit_memory, net.core.somaxconn, transparent huge
    pages) - the runtime value is compared; where it differs but the
    persistent setting is written and the host is a container that cannot
    apply it, the status is C(warn) and the evidence says so.
  - Alert thresholds, per instance (C(alert_thresholds)) - memory used against
    maxmemory, connected clients against maxclients, rejected connections,
    the hit rate once enough lookups were made, memory fragmentation of a
    large instance, a replica's link to its master. A crossed threshold is a
    C(warn) naming the figure, the limit and the setting to look at; the
    inspection report lists it for the on-call engineer.
  - An expectation the caller does not pass (C(maxmemory), C(maxmemory_policy), C(sysctl); with C(tls),
    C(tls_auth_clients) and C(tls_protocols)) is not judged, and the check it belongs to fails saying so -
    never a pass. C(roles/redis/tasks/verify.yml) passes them all from the role's variables.
  - TLS (C(tls=true)) - every connection is TLS with the CA verified (and the
    address checked against the certificate's subjectAltName) and the client
    certificate sent; per instance the server offers only TLS (C(port 0),
    tls-cluster and tls-replication on, tls-auth-clients and tls-protocols
    as configured), a plaintext connection to the instance port gets no
    answer, and the certificate it presents is valid for C(tls_min_valid_days)
    more days. With C(tls=false) each instance gets a C(warn) saying that its
    traffic is not encrypted (GB/T 22239-2019 8.1.2.2).
  - The task does not fail when a check fails; the acceptance report does.
options:
  address:
    description: Address the instances listen on (platform_address).
    type: str
    required: true
  ports:
    description: Ports of the local instances.
    type: list
    elements: int
    required: true
  mode:
    description: C(cluster) or C(standalone).
    type: str
    choices: [cluster, standalone]
    default: cluster
  ops_user:
    description: Operations ACL user (full rights).
    type: str
    default: ops
  ops_password:
    description: Password of the operations user.
    type: str
    required: true
  app_user:
    description: Application ACL user (restricted).
    type: str
    default: app
  app_password:
    description: Password of the application user.
    type: str
    required: true
  expected_masters:
    description: Number of masters holding slots the cluster must have.
    type: int
    default: 3
  expected_replicas:
    description: Connected replicas every master must have, each on another host.
    type: int
    default: 1
  appendonly:
    description: Expected appendonly.
    type: bool
    default: true
  appendfsync:
    description: Expected appendfsync.
    type: str
    default: everysec
  save:
    description: Expected RDB save points as Redis reports them (e.g. C(3600 1 300 100)); empty disables RDB.
    type: str
    default: ""
  maxmemory:
    description:
      - Expected maxmemory (C(redis_maxmemory)), in bytes or with a Redis unit (C(64mb) = 64 x 1024 x 1024,
        C(64m) = 64 x 1000 x 1000); C(0) expects no limit. Not passed - the persistence check fails, not judged.
    type: str
  maxmemory_policy:
    description: Expected maxmemory-policy (C(redis_maxmemory_policy)). Not passed or empty - not judged, a fail.
    type: str
  replication:
    description:
      - 'Expected replication and failover settings, CONFIG GET name to value as Redis reports it (e.g.
        C({"min-replicas-to-write": "0", "repl-diskless-sync": "yes", "cluster-node-timeout": "1000"})); the
        check C(redis.node.<port>.replication) compares each. What bounds the data a failover can lose
        (roles/redis README, "Data-loss bound").'
      - Not passed - no such check (the role's own waits); C({}) - the check fails, nothing to judge.
    type: dict
  sysctl:
    description:
      - 'Expected kernel settings (C(redis_sysctl)), name to value, e.g. C({"vm.overcommit_memory": 1}).'
      - Not passed - the check C(redis.os.sysctl) fails, not judged; C({}) - no kernel setting is expected.
    type: dict
  sysctl_file:
    description: The sysctl.d file the role writes (persistent settings).
    type: path
    default: /etc/sysctl.d/60-redis.conf
  thp_disabled:
    description: Whether transparent huge pages must be C(never).
    type: bool
    default: true
  thp_unit:
    description: The unit that turns THP off at boot (persistent setting).
    type: path
    default: /etc/systemd/system/redis-disable-thp.service
  crash_hook:
    description:
      - The crash path of the failover (roles/redis C(redis_crash_failover)) - the hook every instance's unit
        runs as ExecStopPost. The check C(redis.failover.crash_hook) passes when systemd has it on every port
        of C(ports), the hook is executable and its settings file (C(crash_hook_settings)) is 0600 root.
      - Empty - the crash path is switched off; the check warns that a crashed master's slots wait for the
        node timeout. Cluster mode only.
    type: str
    default: ""
  crash_hook_settings:
    description: The hook's settings file (it holds the operations password).
    type: path
    default: /etc/redis/crash-failover.json
  unit:
    description: Name of the role's template unit without C(@port.service) (C(<flavor>-node)).
    type: str
    default: redis-node
  alert_thresholds:
    description:
      - Limits above (or, for the hit rate, below) which an instance gets a C(warn) (C(redis_alert_thresholds)).
        Keys left out keep their defaults, which are the role's (tests/test_check_settings.py compares them);
        C(0) switches a limit off.
    type: dict
    default: {}
    suboptions:
      memory_percent:
        description: used_memory as a percentage of maxmemory (ignored when maxmemory is 0).
        type: float
        default: 80
      clients_percent:
        description: connected_clients as a percentage of maxclients.
        type: float
        default: 80
      rejected_connections:
        description: Connections refused since the start because maxclients was reached (warn above this count).
        type: int
        default: 0
      hit_rate_min_percent:
        description: Lowest acceptable hit rate; judged only after C(hit_rate_min_lookups) lookups.
        type: float
        default: 0
      hit_rate_min_lookups:
        description: Lookups (hits + misses) needed before the hit rate is judged.
        type: int
        default: 10000
      fragmentation_ratio:
        description: mem_fragmentation_ratio above which an instance of more than 64 MiB resident memory warns.
        type: float
        default: 1.5
  tls:
    description: The instances speak TLS only (roles/redis C(redis_tls_enabled)).
    type: bool
    default: false
  tls_ca_file:
    description: CA bundle the server certificates are verified against (required with C(tls)).
    type: path
  tls_cert_file:
    description: Client certificate sent to the server (needed when tls-auth-clients is C(yes)).
    type: path
  tls_key_file:
    description: Private key of C(tls_cert_file).
    type: path
  tls_auth_clients:
    description:
      - Expected tls-auth-clients (C(yes), C(optional), C(no)). With C(tls), not passed or empty - the TLS check
        fails, not judged.
    type: str
  tls_protocols:
    description:
      - Expected tls-protocols, e.g. C([TLSv1.2, TLSv1.3]). With C(tls), not passed or empty - the TLS check
        fails, not judged.
    type: list
    elements: str
  tls_min_valid_days:
    description: The check C(redis.node.<port>.tls_cert_expiry) fails when the certificate expires sooner.
    type: int
    default: 30
  probe_prefix:
    description: Namespace of the round-trip probe key; the key is deleted after the read.
    type: str
    default: "__govops:probe:"
  timeout:
    description: Socket timeout in seconds.
    type: float
    default: 3.0
extends_documentation_fragment: [govops_check]
author: govops maintainers
"""

EXAMPLES = r"""
- name: Check the Redis instances of this host and the cluster
  redis_cluster_check:
    address: 10.89.60.41
    ports: [7000, 7001]
    ops_password: "{{ redis_ops_password }}"
    app_password: "{{ redis_app_password }}"
    expected_masters: 3
    expected_replicas: 1
    save: "3600 1 300 100 60 10000"
    maxmemory: 64mb
    maxmemory_policy: allkeys-lru
    sysctl: {"vm.overcommit_memory": 1, "net.core.somaxconn": 1024}
    tls: true
    tls_ca_file: /etc/redis/tls/ca.crt
    tls_cert_file: /etc/redis/tls/node.crt
    tls_key_file: /etc/redis/tls/node.key
    tls_auth_clients: "yes"
  no_log: false
  register: redis_acceptance
"""

RETURN = r"""
checks: {description: One item per check, in order (fields under NOTES)., returned: always, type: list, elements: dict}
summary: {description: Checks per status and the total (NOTES)., returned: always, type: dict}
cluster_nodes:
  description: CLUSTER NODES as seen from the first reachable local instance, parsed.
  returned: always (empty in standalone mode or when no instance answered)
  type: list
  elements: dict
  sample: [{id: 07c3..., ip: 10.89.60.41, port: 7000, role: master, master_id: null, flags: [master],
            slots: [[0, 5460]], link: connected}]
metrics:
  description:
    - Per port, the figures (not checks) - keys, ops_per_sec, hit_rate (percent or null), used_memory,
      maxmemory, memory_percent (of maxmemory, null without a limit), connected_clients, maxclients,
      rejected_connections, evicted_keys, role, and alerts (the thresholds crossed, as sentences; judged by
      the check C(redis.node.<port>.alerts)).
  returned: always
  type: dict
"""

import os
import socket
import ssl
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.govops_checks import CheckList, in_container, run
from ansible.module_utils.govops_redis import (
    CLUSTER_SLOTS,
    Resp,
    RespError,
    config_get,
    healthy,
    hit_rate,
    key_count,
    memory_bytes,
    number,
    parse_cluster_nodes,
    parse_info,
)


def topology(nodes):
    """Masters that own slots, each with its healthy replicas."""
    masters = [n for n in nodes if n["role"] == "master" and n["slots"]]
    result = []
    for master in sorted(masters, key=lambda n: (n["ip"], n["port"])):
        replicas = [n for n in nodes if n["role"] == "replica" and n["master_id"] == master["id"] and healthy(n)]
        result.append({"master": master, "replicas": sorted(replicas, key=lambda n: (n["ip"], n["port"]))})
    return result


def anti_affinity_violations(nodes, expected_replicas):
    """Why the cluster breaks anti-affinity: a replica on its master's host, or too few replicas elsewhere."""
    problems = []
    for shard in topology(nodes):
        master = shard["master"]
        name = f"{master['ip']}:{master['port']}"
        same = [f"{r['ip']}:{r['port']}" for r in shard["replicas"] if r["ip"] == master["ip"]]
        elsewhere = [r for r in shard["replicas"] if r["ip"] != master["ip"]]
        if same:
            problems.append(f"master {name} has replica(s) on the same host: {', '.join(same)}")
        if len(elsewhere) < expected_replicas:
            problems.append(
                f"master {name} has {len(elsewhere)} replica(s) on other hosts, expected {expected_replicas}"
            )
    return problems


def instance_figures(info, maxmemory, maxclients):
    """The figures of one instance (not checks): load, memory against maxmemory, clients against maxclients."""
    used = info.get("used_memory")
    return {
        "keys": key_count(info),
        "ops_per_sec": info.get("instantaneous_ops_per_sec"),
        "hit_rate": hit_rate(info),
        "used_memory": used,
        "used_memory_human": info.get("used_memory_human"),
        "maxmemory": maxmemory,
        "memory_percent": round(100.0 * used / maxmemory, 1) if maxmemory and isinstance(used, int) else None,
        "connected_clients": info.get("connected_clients"),
        "maxclients": maxclients,
        "rejected_connections": info.get("rejected_connections"),
        "evicted_keys": info.get("evicted_keys"),
        "role": info.get("role"),
    }


def figures_text(m):
    """One line of figures for the evidence of the alert check."""
    memory = f"memory {m['used_memory_human']}" + (
        f" = {m['memory_percent']} % of maxmemory {m['maxmemory']}"
        if m["memory_percent"] is not None
        else " (no maxmemory)"
    )
    return (
        f"figures: keys {m['keys']}, {m['ops_per_sec']} ops/s, hit rate "
        f"{'n/a (no lookups yet)' if m['hit_rate'] is None else str(m['hit_rate']) + ' %'}, {memory}, "
        f"{m['connected_clients']} of {m['maxclients']} client(s), {m['rejected_connections']} rejected, "
        f"{m['evicted_keys']} evicted, role {m['role']}"
    )


ALERT_KEYS = (
    "memory_percent",
    "clients_percent",
    "rejected_connections",
    "hit_rate_min_percent",
    "hit_rate_min_lookups",
    "fragmentation_ratio",
)
FRAGMENTATION_MIN_RSS = 64 * 1024 * 1024


def alerts(info, maxmemory, maxclients, thresholds):
    """The alert thresholds an instance crosses, as sentences that name the setting to look at.

    info: parsed INFO; maxmemory: bytes (0 = no limit); maxclients: int;
    thresholds: every key of ALERT_KEYS (redis_alert_thresholds; 0 switches a limit off).
    """
    lacking = [key for key in ALERT_KEYS if (thresholds or {}).get(key) is None]
    if lacking:
        raise ValueError(f"alert_thresholds lacks {', '.join(lacking)} (redis_alert_thresholds)")
    limits = thresholds
    found = []
    used = number(info.get("used_memory", 0))
    if maxmemory and limits["memory_percent"]:
        percent = round(100.0 * used / maxmemory, 1)
        if percent > limits["memory_percent"]:
            found.append(
                f"memory {percent} % of maxmemory (limit {limits['memory_percent']} %): "
                "raise redis_maxmemory or add shards; evictions follow"
            )
    clients = number(info.get("connected_clients", 0))
    if maxclients and limits["clients_percent"]:
        percent = round(100.0 * clients / maxclients, 1)
        if percent > limits["clients_percent"]:
            found.append(
                f"{clients} clients, {percent} % of maxclients {maxclients} (limit {limits['clients_percent']} %): "
                "check the application's connection pools"
            )
    rejected = number(info.get("rejected_connections", 0))
    if rejected > limits["rejected_connections"]:
        found.append(f"{rejected} connection(s) rejected at maxclients since the start: clients were turned away")
    lookups = number(info.get("keyspace_hits", 0)) + number(info.get("keyspace_misses", 0))
    rate = hit_rate(info)
    judged = limits["hit_rate_min_percent"] and lookups >= limits["hit_rate_min_lookups"] and rate is not None
    if judged and rate < limits["hit_rate_min_percent"]:
        found.append(
            f"hit rate {rate} % over {lookups} lookups (limit {limits['hit_rate_min_percent']} %): "
            "cache penetration or avalanche, see the runbook in roles/redis/README.md"
        )
    ratio = info.get("mem_fragmentation_ratio")
    rss = number(info.get("used_memory_rss", 0))
    large = isinstance(ratio, (int, float)) and rss > FRAGMENTATION_MIN_RSS
    if limits["fragmentation_ratio"] and large and ratio > limits["fragmentation_ratio"]:
        found.append(
            f"memory fragmentation ratio {ratio} at {rss // 1048576} MiB resident "
            f"(limit {limits['fragmentation_ratio']}): consider activedefrag"
        )
    if info.get("role") == "slave" and info.get("master_link_status") not in (None, "up"):
        found.append(
            f"replica's link to its master {info.get('master_host')}:{info.get('master_port')} is "
            f"{info.get('master_link_status')}: the shard has no live copy"
        )
    return found


def tls_context(ca_file, cert_file=None, key_file=None):
    """Client context: the CA verified, the address checked, TLS 1.2 at least, a client certificate when given."""
    context = ssl.create_default_context(cafile=ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert_file and key_file:
        context.load_cert_chain(cert_file, key_file)
    return context


def tls_config_problems(found, port, auth_clients, protocols):
    """What in an instance's CONFIG GET values breaks "TLS only on this port" (clients, replication, bus).

    auth_clients and protocols are the expected values; None or empty cannot be judged and is a problem.
    """
    problems = []
    if str(found.get("port")) != "0":
        problems.append(f"port {found.get('port')} (a plaintext listener; expected 0)")
    if str(found.get("tls-port")) != str(port):
        problems.append(f"tls-port {found.get('tls-port')} (expected {port})")
    for name in ("tls-cluster", "tls-replication"):
        if found.get(name) != "yes":
            problems.append(f"{name} {found.get(name)} (expected yes)")
    if not auth_clients:
        problems.append(
            f"tls-auth-clients {found.get('tls-auth-clients')} not judged: no expected value (redis_tls_auth_clients)"
        )
    elif found.get("tls-auth-clients") != auth_clients:
        problems.append(f"tls-auth-clients {found.get('tls-auth-clients')} (expected {auth_clients})")
    if not protocols:
        problems.append(
            f"tls-protocols '{found.get('tls-protocols')}' not judged: no expected value (redis_tls_protocols)"
        )
    elif sorted((found.get("tls-protocols") or "").split()) != sorted(protocols):
        problems.append(f"tls-protocols '{found.get('tls-protocols')}' (expected '{' '.join(protocols)}')")
    return problems


def days_left(not_after, now=None):
    """Whole days until a certificate's notAfter ('Nov 24 05:26:13 2027 GMT'), negative once expired."""
    seconds = ssl.cert_time_to_seconds(not_after) - (time.time() if now is None else now)
    return int(seconds // 86400)


def cert_name(cert, field):
    """commonName of a getpeercert() subject or issuer."""
    for rdn in cert.get(field, ()):
        for key, value in rdn:
            if key == "commonName":
                return value
    return "?"


def plaintext_refused(host, port, timeout=3.0):
    """(True, what happened) when a plaintext RESP PING gets no reply: refused, reset, closed or silent."""
    try:
        with Resp(host, port, timeout) as conn:
            reply = conn.call("PING")
    except RespError as exc:
        return False, f"a plaintext RESP error reply: {exc}"
    except ConnectionRefusedError:
        return True, "connection refused"
    except TimeoutError:
        return True, f"no reply within {timeout} s"
    except (OSError, ConnectionError) as exc:
        return True, f"no reply, the server ended the connection ({exc})"
    return False, f"a plaintext reply: {reply!r}"


def dry_run_refused(conn, user, *command):
    """(True, message) when ACL DRYRUN says `user` may not run the command; nothing is executed."""
    try:
        reply = conn.call("ACL", "DRYRUN", user, *command)
    except RespError as exc:
        return False, f"ACL DRYRUN failed, cannot judge: {exc}"
    if reply == "OK":
        return False, "allowed"
    return "no permissions" in str(reply), str(reply)


def refused(conn, *command):
    """(True, message) when the server refuses the command with a permission/auth error."""
    try:
        conn.call(*command)
    except RespError as exc:
        text = str(exc)
        return text.split(" ", 1)[0] in ("NOPERM", "NOAUTH", "WRONGPASS"), text
    return False, "accepted"


class Checker:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.checks = CheckList()
        self.metrics = {}
        self.cluster_nodes = []
        self.context, self.tls_error = None, None
        if self.params["tls"]:
            try:
                self.context = tls_context(
                    self.params["tls_ca_file"], self.params["tls_cert_file"], self.params["tls_key_file"]
                )
            except (OSError, ValueError, TypeError) as exc:
                self.tls_error = f"TLS client setup (tls_ca_file, tls_cert_file, tls_key_file): {exc}"

    def connect(self, port, user=None, password=None, host=None):
        if self.tls_error:
            raise OSError(self.tls_error)
        return Resp(host or self.params["address"], port, self.params["timeout"], self.context, user, password)

    def instance(self, port):
        params = self.params
        prefix = f"redis.node.{port}"
        try:
            conn = self.connect(port, params["ops_user"], params["ops_password"])
        except (OSError, ConnectionError, RespError) as exc:
            self.checks.verdict(
                f"{prefix}.reachable",
                f"实例 {port} 可达且认证成功",
                f"Instance {port} reachable with auth",
                False,
                f"{params['address']}:{port} as {params['ops_user']}: {exc}",
            )
            return False
        with conn:
            pong = conn.call("PING")
            info = parse_info(conn.call("INFO", "everything"))
            version = info.get("valkey_version") or info.get("redis_version")
            self.checks.verdict(
                f"{prefix}.reachable",
                f"实例 {port} 可达且认证成功",
                f"Instance {port} reachable with auth",
                pong == "PONG",
                f"{params['address']}:{port} AUTH {params['ops_user']} + PING -> {pong}; version {version}",
                version,
            )
            self.persistence(conn, port, info)
            self.replication(conn, port)
            self.tls(conn, port)
            maxmemory = memory_bytes(config_get(conn, "maxmemory") or 0)
            maxclients = int(config_get(conn, "maxclients") or 0)
            m = instance_figures(info, maxmemory, maxclients)
            m["alerts"] = alerts(info, maxmemory, maxclients, params["alert_thresholds"])
            self.metrics[str(port)] = m
        # The figures are reported, not judged on their own: the alert check
        # below judges them against redis_alert_thresholds and quotes them.
        self.checks.add(
            f"{prefix}.alerts",
            f"实例 {port} 告警阈值",
            f"Instance {port} alert thresholds",
            "warn" if m["alerts"] else "pass",
            (
                "; ".join(m["alerts"])
                or "no threshold crossed (memory, clients, rejected connections, hit rate, "
                "fragmentation, replication link)"
            )
            + "; "
            + figures_text(m),
            m["alerts"],
        )
        self.access_control(port)
        return True

    def tls(self, conn, port):
        params = self.params
        prefix, address = f"redis.node.{port}", params["address"]
        if not params["tls"]:
            self.checks.add(
                f"{prefix}.tls",
                f"实例 {port} 传输加密(TLS)",
                f"Instance {port} encrypted transport (TLS)",
                "warn",
                "TLS is off (redis_tls_enabled: false): clients, replication and the cluster bus are not encrypted "
                "(GB/T 22239-2019 8.1.2.2, 8.1.4.8 expect encrypted transport)",
                "off",
            )
            return
        names = ("port", "tls-port", "tls-cluster", "tls-replication", "tls-auth-clients", "tls-protocols")
        found = {name: config_get(conn, name) for name in names}
        problems = tls_config_problems(found, port, params["tls_auth_clients"], params["tls_protocols"])
        cert = conn.sock.getpeercert() or {}
        settings = "; ".join(problems) or (
            f"port 0, tls-cluster and tls-replication yes, tls-auth-clients {found['tls-auth-clients']}, "
            f"tls-protocols '{found['tls-protocols']}'"
        )
        self.checks.verdict(
            f"{prefix}.tls",
            f"实例 {port} 传输加密(TLS)",
            f"Instance {port} encrypted transport (TLS)",
            not problems,
            f"{conn.sock.version()} {conn.sock.cipher()[0]}, certificate of '{cert_name(cert, 'subject')}' "
            f"verified against {params['tls_ca_file']} for {address}; {settings}",
            conn.sock.version(),
        )
        ok, text = plaintext_refused(address, port, params["timeout"])
        self.checks.verdict(
            f"{prefix}.plaintext_refused",
            f"实例 {port} 拒绝明文连接",
            f"Instance {port} refuses plaintext connections",
            ok,
            f"PING without TLS to {address}:{port}: {text}",
        )
        left = days_left(cert["notAfter"]) if "notAfter" in cert else None
        self.checks.verdict(
            f"{prefix}.tls_cert_expiry",
            f"实例 {port} 证书有效期",
            f"Instance {port} certificate validity",
            left is not None and left >= params["tls_min_valid_days"],
            f"certificate of '{cert_name(cert, 'subject')}' issued by '{cert_name(cert, 'issuer')}' expires "
            f"{cert.get('notAfter', '?')}: {left} day(s) left, at least {params['tls_min_valid_days']} required "
            "(redis_tls_min_valid_days; renew it: the role reissues generated ones, or install the new one from "
            "your CA and run the role)",
            left,
        )

    def access_control(self, port):
        params = self.params
        try:
            with self.connect(port) as anon:
                ok, text = refused(anon, "PING")
        except (OSError, ConnectionError) as exc:
            ok, text = False, str(exc)
        self.checks.verdict(
            f"redis.node.{port}.default_refused",
            f"实例 {port} 拒绝匿名访问",
            f"Instance {port} refuses access without a password",
            ok,
            f"PING without AUTH -> {text}",
        )
        # FLUSHALL is never sent: should the ACL be wrong, it would empty the
        # instance. The server is asked whether the application user could run
        # it (ACL DRYRUN, as the operations user); CONFIG GET is harmless and is
        # tried as the application user itself.
        try:
            with self.connect(port, params["app_user"], params["app_password"]) as app:
                config_ok, config_text = refused(app, "CONFIG", "GET", "maxmemory")
            with self.connect(port, params["ops_user"], params["ops_password"]) as ops:
                flush_ok, flush_text = dry_run_refused(ops, params["app_user"], "FLUSHALL")
            ok = flush_ok and config_ok
            evidence = (
                f"as {params['app_user']}: CONFIG GET -> {config_text}; ACL DRYRUN {params['app_user']} FLUSHALL "
                f"(asked as {params['ops_user']}, nothing run) -> {flush_text}"
            )
        except (OSError, ConnectionError, RespError) as exc:
            ok, evidence = False, f"AUTH {params['app_user']} or {params['ops_user']} failed: {exc}"
        self.checks.verdict(
            f"redis.node.{port}.app_acl",
            f"实例 {port} 应用账号禁止危险命令",
            f"Instance {port} refuses FLUSHALL and CONFIG to the application user",
            ok,
            evidence,
        )

    def persistence(self, conn, port, info):
        params = self.params
        found = {name: config_get(conn, name) for name in ("appendonly", "appendfsync", "save")}
        found["maxmemory"] = config_get(conn, "maxmemory")
        found["maxmemory-policy"] = config_get(conn, "maxmemory-policy")
        problems = []
        if found["appendonly"] != ("yes" if params["appendonly"] else "no"):
            problems.append(f"appendonly {found['appendonly']}")
        if params["appendonly"] and found["appendfsync"] != params["appendfsync"]:
            problems.append(f"appendfsync {found['appendfsync']} (expected {params['appendfsync']})")
        if (found["save"] or "").split() != params["save"].split():
            problems.append(f"save '{found['save']}' (expected '{params['save']}')")
        if params["maxmemory"] is None:
            problems.append(f"maxmemory {found['maxmemory']} not judged: no expected value (redis_maxmemory)")
        else:
            try:
                wanted_memory = memory_bytes(params["maxmemory"])
            except ValueError as exc:
                problems.append(str(exc))
            else:
                if str(found["maxmemory"]) != str(wanted_memory):
                    problems.append(
                        f"maxmemory {found['maxmemory']} (expected {params['maxmemory']} = {wanted_memory})"
                    )
        if not params["maxmemory_policy"]:
            problems.append(
                f"maxmemory-policy {found['maxmemory-policy']} not judged: no expected value (redis_maxmemory_policy)"
            )
        elif found["maxmemory-policy"] != params["maxmemory_policy"]:
            problems.append(f"maxmemory-policy {found['maxmemory-policy']} (expected {params['maxmemory_policy']})")
        if info.get("rdb_last_bgsave_status") != "ok":
            problems.append(f"last RDB save {info.get('rdb_last_bgsave_status')}")
        if params["appendonly"] and info.get("aof_last_write_status") != "ok":
            problems.append(f"last AOF write {info.get('aof_last_write_status')}")
        self.checks.verdict(
            f"redis.node.{port}.persistence",
            f"实例 {port} 持久化与内存上限",
            f"Instance {port} persistence and maxmemory as configured",
            not problems,
            "; ".join(problems)
            or (
                f"appendonly {found['appendonly']} appendfsync {found['appendfsync']}, save '{found['save']}', "
                f"maxmemory {found['maxmemory']} {found['maxmemory-policy']}; last RDB save and AOF write ok"
            ),
            found,
        )

    def replication(self, conn, port):
        """redis.node.<port>.replication: the settings that bound a failover's data loss, as the role set them."""
        wanted = self.params["replication"]
        if wanted is None:
            return
        found = {name: config_get(conn, name) for name in sorted(wanted)}
        problems = [
            f"{name} {found[name]} (expected {value})"
            for name, value in sorted(wanted.items())
            if str(found[name]) != str(value)
        ]
        if not wanted:
            problems.append("not judged: no expected values (replication)")
        self.checks.verdict(
            f"redis.node.{port}.replication",
            f"实例 {port} 复制与故障切换参数",
            f"Instance {port} replication and failover settings as configured",
            not problems,
            "; ".join(problems) or ", ".join(f"{name} {value}" for name, value in found.items()),
            found,
        )

    def cluster(self, port):
        params = self.params
        with self.connect(port, params["ops_user"], params["ops_password"]) as conn:
            info = parse_info(conn.call("CLUSTER", "INFO"))
            nodes = parse_cluster_nodes(conn.call("CLUSTER", "NODES"))
        self.cluster_nodes = nodes
        self.checks.verdict(
            "redis.cluster.state",
            "集群状态正常",
            "cluster_state ok",
            info.get("cluster_state") == "ok",
            f"CLUSTER INFO on port {port}: cluster_state {info.get('cluster_state')}, "
            f"{info.get('cluster_known_nodes')} known node(s), epoch {info.get('cluster_current_epoch')}",
            info.get("cluster_state"),
        )
        assigned, slots_ok = info.get("cluster_slots_assigned"), info.get("cluster_slots_ok")
        self.checks.verdict(
            "redis.cluster.slots",
            "16384 个槽位全部覆盖",
            "All 16384 slots covered",
            assigned == CLUSTER_SLOTS and slots_ok == CLUSTER_SLOTS,
            f"slots assigned {assigned}, ok {slots_ok}, pfail {info.get('cluster_slots_pfail')}, "
            f"fail {info.get('cluster_slots_fail')}",
            assigned,
        )
        shards = topology(nodes)
        short = [
            f"{s['master']['ip']}:{s['master']['port']} has {len(s['replicas'])}"
            for s in shards
            if len(s["replicas"]) < params["expected_replicas"]
        ]
        replicas = sum(len(s["replicas"]) for s in shards)
        self.checks.verdict(
            "redis.cluster.topology",
            "主从数量符合预期",
            "Expected masters and replicas",
            len(shards) == params["expected_masters"] and not short,
            f"{len(shards)} master(s) with slots (expected {params['expected_masters']}), {replicas} healthy "
            f"replica(s), {params['expected_replicas']} expected per master"
            + (f"; short: {', '.join(short)}" if short else ""),
            {"masters": len(shards), "replicas": replicas},
        )
        bad = [f"{n['ip']}:{n['port']} {','.join(n['flags'])} {n['link']}" for n in nodes if not healthy(n)]
        self.checks.verdict(
            "redis.cluster.nodes_healthy",
            "无故障或握手中的节点",
            "No failed, handshake or unlinked nodes",
            not bad,
            "; ".join(bad) or f"all {len(nodes)} node(s) connected, none failing",
            len(nodes) - len(bad),
        )
        problems = anti_affinity_violations(nodes, params["expected_replicas"])
        self.checks.verdict(
            "redis.cluster.anti_affinity",
            "主从不在同一主机（反亲和）",
            "Anti-affinity: no master and its replica on one host",
            not problems and bool(shards),
            "; ".join(problems)
            or "; ".join(
                f"{s['master']['ip']}:{s['master']['port']} -> "
                + ", ".join(f"{r['ip']}:{r['port']}" for r in s["replicas"])
                for s in shards
            ),
            len(problems),
        )

    def roundtrip(self, port):
        params = self.params
        check_id, title = "redis.roundtrip", ("写入/读取往返", "Write/read round trip")
        if self.module.check_mode:
            self.checks.add(check_id, *title, "skip", "check mode: the probe write is skipped")
            return
        key = f"{params['probe_prefix']}{socket.gethostname()}:{port}"
        value = f"{time.time():.6f}"
        host, target = params["address"], port
        try:
            for _hop in range(3):
                with self.connect(target, params["ops_user"], params["ops_password"], host=host) as conn:
                    try:
                        start = time.monotonic()
                        conn.call("SET", key, value, "PX", 60000)
                    except RespError as exc:
                        words = str(exc).split()
                        if words and words[0] == "MOVED" and len(words) == 3:
                            host, _, moved_port = words[2].rpartition(":")
                            target = int(moved_port)
                            continue
                        raise
                    read = conn.call("GET", key)
                    conn.call("DEL", key)
                    elapsed = (time.monotonic() - start) * 1000
                    self.checks.verdict(
                        check_id,
                        *title,
                        read == value,
                        f"SET/GET/DEL {key} as {params['ops_user']} on {host}:{target}: read back "
                        f"{'the same value' if read == value else repr(read)}; key deleted",
                        f"{elapsed:.1f} ms",
                    )
                    return
            self.checks.verdict(check_id, *title, False, f"too many MOVED redirections for {key}")
        except (OSError, ConnectionError, RespError) as exc:
            self.checks.verdict(check_id, *title, False, f"{key} on {host}:{target}: {exc}")

    def os_tuning(self):
        params = self.params
        persisted = read_sysctl_file(params["sysctl_file"])
        container = in_container()
        if params["sysctl"] is None:
            self.checks.verdict(
                "redis.os.sysctl",
                "内核参数",
                "Kernel settings",
                False,
                "not judged: no expected kernel settings were passed (redis_sysctl)",
            )
        for name, wanted in sorted((params["sysctl"] or {}).items()):
            runtime = read_text(os.path.join("/proc/sys", *name.split(".")))
            self.os_result(
                f"redis.os.{name}",
                (f"内核参数 {name}", f"Kernel setting {name}"),
                runtime == str(wanted),
                persisted.get(name) == str(wanted),
                container,
                f"runtime {runtime}, {params['sysctl_file']}: {persisted.get(name, 'not set')}, expected {wanted}",
                runtime,
            )
        if params["thp_disabled"]:
            text = read_text("/sys/kernel/mm/transparent_hugepage/enabled") or ""
            current = text[text.find("[") + 1 : text.find("]")] if "[" in text else text
            self.os_result(
                "redis.os.thp",
                ("透明大页已关闭", "Transparent huge pages off"),
                current == "never",
                os.path.exists(params["thp_unit"]),
                container,
                f"runtime [{current}]; boot unit {params['thp_unit']} "
                f"{'present' if os.path.exists(params['thp_unit']) else 'missing'}",
                current,
            )

    def crash_hook(self):
        """redis.failover.crash_hook: the crash path is wired on every port (what systemd itself reports)."""
        params = self.params
        title = ("崩溃即切换钩子已接入", "Crash failover hook wired")
        if not params["crash_hook"]:
            self.checks.add(
                "redis.failover.crash_hook",
                *title,
                "warn",
                "the crash path is switched off (redis_crash_failover: false): a master whose process dies keeps "
                "its slots down until the node timeout and the cluster's own failover",
            )
            return
        problems, seen = [], []
        for port in params["ports"]:
            unit = f"{params['unit']}@{port}.service"
            rc, out, err = run(["systemctl", "show", unit, "--property", "ExecStopPost", "--value"])
            wired = rc == 0 and f"path={params['crash_hook']} " in out + " "
            seen.append(f"{port}: {'wired' if wired else 'not wired'}")
            if not wired:
                problems.append(f"{unit} has no ExecStopPost running {params['crash_hook']} ({(err or out).strip()})")
        if not os.access(params["crash_hook"], os.X_OK):
            problems.append(f"{params['crash_hook']} is missing or not executable")
        try:
            info = os.stat(params["crash_hook_settings"])
            if info.st_uid != 0 or info.st_mode & 0o077:
                problems.append(
                    f"{params['crash_hook_settings']} is mode {info.st_mode & 0o777:04o} uid {info.st_uid}, "
                    "not 0600 root (it holds the operations password)"
                )
        except OSError as exc:
            problems.append(f"{params['crash_hook_settings']}: {exc.strerror}")
        evidence = "; ".join(problems) if problems else f"ExecStopPost {params['crash_hook']} on {', '.join(seen)}"
        self.checks.verdict("redis.failover.crash_hook", *title, not problems, evidence)

    def os_result(self, check_id, title, runtime_ok, persisted_ok, container, evidence, measured):
        if runtime_ok and persisted_ok:
            self.checks.add(check_id, *title, "pass", "runtime and persistent: " + evidence, measured)
        elif persisted_ok and container:
            self.checks.add(
                check_id,
                *title,
                "warn",
                "persistent setting verified only; a container cannot apply it (the host kernel's value "
                "applies - set it on the container host): " + evidence,
                measured,
            )
        else:
            self.checks.verdict(check_id, *title, False, evidence, measured)


def read_text(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError:
        return None


def read_sysctl_file(path):
    settings = {}
    for raw in (read_text(path) or "").splitlines():
        line = raw.strip()
        if line and not line.startswith(("#", ";")) and "=" in line:
            key, value = line.split("=", 1)
            settings[key.strip()] = value.strip()
    return settings


def main():
    module = AnsibleModule(
        argument_spec={
            "address": {"type": "str", "required": True},
            "ports": {"type": "list", "elements": "int", "required": True},
            "mode": {"type": "str", "choices": ["cluster", "standalone"], "default": "cluster"},
            "ops_user": {"type": "str", "default": "ops"},
            "ops_password": {"type": "str", "required": True, "no_log": True},
            "app_user": {"type": "str", "default": "app"},
            "app_password": {"type": "str", "required": True, "no_log": True},
            "expected_masters": {"type": "int", "default": 3},
            "expected_replicas": {"type": "int", "default": 1},
            "appendonly": {"type": "bool", "default": True},
            "appendfsync": {"type": "str", "default": "everysec"},
            "save": {"type": "str", "default": ""},
            "maxmemory": {"type": "str"},
            "maxmemory_policy": {"type": "str"},
            "replication": {"type": "dict"},
            "sysctl": {"type": "dict"},
            "sysctl_file": {"type": "path", "default": "/etc/sysctl.d/60-redis.conf"},
            "thp_disabled": {"type": "bool", "default": True},
            "thp_unit": {"type": "path", "default": "/etc/systemd/system/redis-disable-thp.service"},
            "crash_hook": {"type": "str", "default": ""},
            "crash_hook_settings": {"type": "path", "default": "/etc/redis/crash-failover.json"},
            "unit": {"type": "str", "default": "redis-node"},
            "alert_thresholds": {
                "type": "dict",
                "default": {},
                "options": {
                    "memory_percent": {"type": "float", "default": 80},
                    "clients_percent": {"type": "float", "default": 80},
                    "rejected_connections": {"type": "int", "default": 0},
                    "hit_rate_min_percent": {"type": "float", "default": 0},
                    "hit_rate_min_lookups": {"type": "int", "default": 10000},
                    "fragmentation_ratio": {"type": "float", "default": 1.5},
                },
            },
            "tls": {"type": "bool", "default": False},
            "tls_ca_file": {"type": "path"},
            "tls_cert_file": {"type": "path"},
            "tls_key_file": {"type": "path"},
            "tls_auth_clients": {"type": "str"},
            "tls_protocols": {"type": "list", "elements": "str"},
            "tls_min_valid_days": {"type": "int", "default": 30},
            "probe_prefix": {"type": "str", "default": "__govops:probe:"},
            "timeout": {"type": "float", "default": 3.0},
        },
        supports_check_mode=True,
        required_if=[("tls", True, ("tls_ca_file",))],
        required_together=[("tls_cert_file", "tls_key_file")],
    )
    checker = Checker(module)
    reachable = [port for port in module.params["ports"] if checker.instance(port)]
    if reachable and module.params["mode"] == "cluster":
        try:
            checker.cluster(reachable[0])
        except (OSError, ConnectionError, RespError) as exc:
            checker.checks.verdict("redis.cluster.state", "集群状态正常", "cluster_state ok", False, str(exc))
    if reachable:
        checker.roundtrip(reachable[0])
    checker.os_tuning()
    if module.params["mode"] == "cluster":
        checker.crash_hook()
    module.exit_json(
        changed=False, cluster_nodes=checker.cluster_nodes, metrics=checker.metrics, **checker.checks.result()
    )


if __name__ == "__main__":
    main()
