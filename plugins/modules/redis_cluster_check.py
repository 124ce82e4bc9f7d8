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
    refused FLUSHALL and CONFIG; persistence (AOF fsync policy, RDB save
    points) and maxmemory as configured, with the last RDB save and AOF write
    healthy; key count, ops/s, hit rate, memory and connected clients as
    measured figures.
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
      - Expected maxmemory, in bytes or with a Redis unit (C(64mb) = 64 x 1024 x 1024, C(64m) = 64 x 1000 x 1000);
        C(0) or empty = no check.
    type: str
    default: "0"
  maxmemory_policy:
    description: Expected maxmemory-policy ("" = no check).
    type: str
    default: ""
  sysctl:
    description: 'Expected kernel settings, name to value, e.g. C({"vm.overcommit_memory": 1}).'
    type: dict
    default: {}
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
  alert_thresholds:
    description:
      - Limits above (or, for the hit rate, below) which an instance gets a C(warn). Keys left out keep
        their defaults; C(0) switches a limit off.
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
    description: Expected tls-auth-clients (C(yes), C(optional), C(no)); empty = no check.
    type: str
    default: ""
  tls_protocols:
    description: Expected tls-protocols, e.g. C([TLSv1.2, TLSv1.3]); empty = no check.
    type: list
    elements: str
    default: []
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
checks:
  description: One item per check, in the order they ran.
  returned: always
  type: list
  elements: dict
  contains:
    id: {description: "Stable check id, e.g. redis.cluster.anti_affinity.", type: str}
    title: {description: "Title, {zh_CN, en}.", type: dict}
    status: {description: pass, fail, warn or skip., type: str}
    evidence: {description: What was looked at and what was found., type: str}
    measured: {description: The figure or value found., type: raw}
summary:
  description: Counts per status and the total.
  returned: always
  type: dict
  sample: {pass: 20, fail: 0, warn: 3, skip: 0, total: 23}
cluster_nodes:
  description: CLUSTER NODES as seen from the first reachable local instance, parsed.
  returned: always (empty in standalone mode or when no instance answered)
  type: list
  elements: dict
  sample: [{id: 07c3..., ip: 10.89.60.41, port: 7000, role: master, master_id: null, flags: [master],
            slots: [[0, 5460]], link: connected}]
metrics:
  description:
    - Per port - keys, ops_per_sec, hit_rate (percent or null), used_memory, connected_clients, role, and
      alerts (the thresholds crossed, as sentences).
  returned: always
  type: dict
"""

import contextlib
import os
import socket
import ssl
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.govops_checks import CheckList, in_container

CLUSTER_SLOTS = 16384
BAD_FLAGS = ("fail", "fail?", "handshake", "noaddr")


class RespError(Exception):
    """An error reply (-ERR, -NOAUTH, -NOPERM, -MOVED ...) from the server."""


class Resp:
    """A minimal RESP2 client: enough for AUTH, INFO, CONFIG GET, CLUSTER and string commands."""

    def __init__(self, host, port, timeout=3.0, context=None):
        sock = socket.create_connection((host, port), timeout=timeout)
        if context is not None:
            try:
                # server_hostname: the address is checked against the certificate's subjectAltName.
                sock = context.wrap_socket(sock, server_hostname=host)
            except (OSError, ValueError):
                sock.close()
                raise
        self.sock = sock
        self.buf = b""

    def close(self):
        with contextlib.suppress(OSError):
            self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def call(self, *args):
        self.sock.sendall(encode_command(args))
        return self._read()

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed by server")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, size):
        while len(self.buf) < size + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed by server")
            self.buf += chunk
        data, self.buf = self.buf[:size], self.buf[size + 2 :]
        return data

    def _read(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RespError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            return None if size < 0 else self._exact(size).decode(errors="replace")
        if kind == b"*":
            size = int(rest)
            return None if size < 0 else [self._read() for _ in range(size)]
        raise ConnectionError(f"unexpected reply type {kind!r}")


def encode_command(args):
    """RESP array of bulk strings for one command."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def parse_info(text):
    """INFO output -> flat dict; numbers become int/float; keyspace lines become dicts."""
    info = {}
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or ":" not in line:
            continue
        key, value = line.split(":", 1)
        if key.startswith("db") and "=" in value:
            info[key] = {k: _number(v) for k, v in (part.split("=", 1) for part in value.split(",") if "=" in part)}
        else:
            info[key] = _number(value)
    return info


def _number(value):
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            continue
    return value


def key_count(info):
    return sum(v.get("keys", 0) for k, v in info.items() if k.startswith("db") and isinstance(v, dict))


def hit_rate(info):
    """Percent of keyspace lookups that hit, or None before the first lookup."""
    hits, misses = info.get("keyspace_hits", 0), info.get("keyspace_misses", 0)
    total = hits + misses
    return None if not total else round(100.0 * hits / total, 2)


def parse_cluster_nodes(text):
    """CLUSTER NODES output -> list of nodes (id, ip, port, role, master_id, flags, slots, link)."""
    nodes = []
    for raw in (text or "").splitlines():
        fields = raw.split()
        if len(fields) < 8:
            continue
        address = fields[1].split(",", 1)[0]
        hostport = address.split("@", 1)[0]
        ip, _, port = hostport.rpartition(":")
        flags = fields[2].split(",")
        slots = []
        for item in fields[8:]:
            if item.startswith("["):
                continue  # a slot being migrated/imported: [slot->-id] / [slot-<-id]
            start, _, end = item.partition("-")
            slots.append([int(start), int(end or start)])
        role = "master" if "master" in flags else "replica" if "slave" in flags else "unknown"
        nodes.append(
            {
                "id": fields[0],
                "ip": ip,
                "port": int(port) if port.isdigit() else 0,
                "role": role,
                "master_id": None if fields[3] == "-" else fields[3],
                "flags": flags,
                "myself": "myself" in flags,
                "slots": slots,
                "link": fields[7],
            }
        )
    return nodes


def slot_count(node):
    return sum(end - start + 1 for start, end in node["slots"])


def healthy(node):
    return not any(flag in BAD_FLAGS for flag in node["flags"]) and node["link"] == "connected"


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


MEMORY_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3, "gb": 1024**3}


def memory_bytes(value):
    """A redis.conf memory size (64mb, 1g, 1048576) in bytes, with Redis's units."""
    text = str(value or "0").strip().lower()
    digits = text.rstrip("kmgb")
    unit = text[len(digits) :]
    if not digits.isdigit() or unit not in MEMORY_UNITS:
        raise ValueError(f"not a redis memory size: {value!r}")
    return int(digits) * MEMORY_UNITS[unit]


ALERT_DEFAULTS = {
    "memory_percent": 80.0,
    "clients_percent": 80.0,
    "rejected_connections": 0,
    "hit_rate_min_percent": 0.0,
    "hit_rate_min_lookups": 10000,
    "fragmentation_ratio": 1.5,
}
FRAGMENTATION_MIN_RSS = 64 * 1024 * 1024


def alerts(info, maxmemory, maxclients, thresholds=None):
    """The alert thresholds an instance crosses, as sentences that name the setting to look at.

    info: parsed INFO; maxmemory: bytes (0 = no limit); maxclients: int;
    thresholds: ALERT_DEFAULTS overridden by the caller (0 switches a limit off).
    """
    limits = {**ALERT_DEFAULTS, **{k: v for k, v in (thresholds or {}).items() if v is not None}}
    found = []
    used = _number(info.get("used_memory", 0))
    if maxmemory and limits["memory_percent"]:
        percent = round(100.0 * used / maxmemory, 1)
        if percent > limits["memory_percent"]:
            found.append(
                f"memory {percent} % of maxmemory (limit {limits['memory_percent']} %): "
                "raise redis_maxmemory or add shards; evictions follow"
            )
    clients = _number(info.get("connected_clients", 0))
    if maxclients and limits["clients_percent"]:
        percent = round(100.0 * clients / maxclients, 1)
        if percent > limits["clients_percent"]:
            found.append(
                f"{clients} clients, {percent} % of maxclients {maxclients} (limit {limits['clients_percent']} %): "
                "check the application's connection pools"
            )
    rejected = _number(info.get("rejected_connections", 0))
    if rejected > limits["rejected_connections"]:
        found.append(f"{rejected} connection(s) rejected at maxclients since the start: clients were turned away")
    lookups = _number(info.get("keyspace_hits", 0)) + _number(info.get("keyspace_misses", 0))
    rate = hit_rate(info)
    judged = limits["hit_rate_min_percent"] and lookups >= limits["hit_rate_min_lookups"] and rate is not None
    if judged and rate < limits["hit_rate_min_percent"]:
        found.append(
            f"hit rate {rate} % over {lookups} lookups (limit {limits['hit_rate_min_percent']} %): "
            "cache penetration or avalanche, see the runbook in roles/redis/README.md"
        )
    ratio = info.get("mem_fragmentation_ratio")
    rss = _number(info.get("used_memory_rss", 0))
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


def tls_config_problems(found, port, auth_clients="", protocols=()):
    """What in an instance's CONFIG GET values breaks "TLS only on this port" (clients, replication, bus)."""
    problems = []
    if str(found.get("port")) != "0":
        problems.append(f"port {found.get('port')} (a plaintext listener; expected 0)")
    if str(found.get("tls-port")) != str(port):
        problems.append(f"tls-port {found.get('tls-port')} (expected {port})")
    for name in ("tls-cluster", "tls-replication"):
        if found.get(name) != "yes":
            problems.append(f"{name} {found.get(name)} (expected yes)")
    if auth_clients and found.get("tls-auth-clients") != auth_clients:
        problems.append(f"tls-auth-clients {found.get('tls-auth-clients')} (expected {auth_clients})")
    if protocols and sorted((found.get("tls-protocols") or "").split()) != sorted(protocols):
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


def config_get(conn, name):
    reply = conn.call("CONFIG", "GET", name)
    return reply[1] if reply and len(reply) >= 2 else None


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
        conn = Resp(host or self.params["address"], port, self.params["timeout"], self.context)
        if user is not None:
            conn.call("AUTH", user, password)
        return conn

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
            self.tls(conn, port)
            crossed = alerts(
                info,
                memory_bytes(config_get(conn, "maxmemory") or 0),
                int(config_get(conn, "maxclients") or 0),
                params["alert_thresholds"],
            )
            self.metrics[str(port)] = {
                "keys": key_count(info),
                "ops_per_sec": info.get("instantaneous_ops_per_sec"),
                "hit_rate": hit_rate(info),
                "used_memory": info.get("used_memory"),
                "used_memory_human": info.get("used_memory_human"),
                "connected_clients": info.get("connected_clients"),
                "role": info.get("role"),
                "alerts": crossed,
            }
        m = self.metrics[str(port)]
        self.checks.add(
            f"{prefix}.metrics",
            f"实例 {port} 运行指标",
            f"Instance {port} figures",
            "pass",
            f"keys {m['keys']}, {m['ops_per_sec']} ops/s, hit rate "
            f"{'n/a (no lookups yet)' if m['hit_rate'] is None else str(m['hit_rate']) + ' %'}, "
            f"memory {m['used_memory_human']}, {m['connected_clients']} client(s), role {m['role']}",
            m,
        )
        self.checks.add(
            f"{prefix}.alerts",
            f"实例 {port} 告警阈值",
            f"Instance {port} alert thresholds",
            "warn" if m["alerts"] else "pass",
            "; ".join(m["alerts"])
            or "no threshold crossed (memory, clients, rejected connections, hit rate, "
            "fragmentation, replication link)",
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
        try:
            with self.connect(port, params["app_user"], params["app_password"]) as app:
                flush_ok, flush_text = refused(app, "FLUSHALL")
                config_ok, config_text = refused(app, "CONFIG", "GET", "maxmemory")
            ok = flush_ok and config_ok
            evidence = f"as {params['app_user']}: FLUSHALL -> {flush_text}; CONFIG GET -> {config_text}"
        except (OSError, ConnectionError, RespError) as exc:
            ok, evidence = False, f"AUTH {params['app_user']} failed: {exc}"
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
        try:
            wanted_memory = memory_bytes(params["maxmemory"])
        except ValueError as exc:
            wanted_memory = None
            problems.append(str(exc))
        if wanted_memory and str(found["maxmemory"]) != str(wanted_memory):
            problems.append(f"maxmemory {found['maxmemory']} (expected {params['maxmemory']} = {wanted_memory})")
        if params["maxmemory_policy"] and found["maxmemory-policy"] != params["maxmemory_policy"]:
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
        for name, wanted in sorted(params["sysctl"].items()):
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
            "maxmemory": {"type": "str", "default": "0"},
            "maxmemory_policy": {"type": "str", "default": ""},
            "sysctl": {"type": "dict", "default": {}},
            "sysctl_file": {"type": "path", "default": "/etc/sysctl.d/60-redis.conf"},
            "thp_disabled": {"type": "bool", "default": True},
            "thp_unit": {"type": "path", "default": "/etc/systemd/system/redis-disable-thp.service"},
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
            "tls_auth_clients": {"type": "str", "default": ""},
            "tls_protocols": {"type": "list", "elements": "str", "default": []},
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
    module.exit_json(
        changed=False, cluster_nodes=checker.cluster_nodes, metrics=checker.metrics, **checker.checks.result()
    )


if __name__ == "__main__":
    main()
