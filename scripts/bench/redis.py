#!/usr/bin/env python3
"""Benchmark (issue 4): the Redis Cluster of roles/redis, throughput against a default redis-server and failover time.

Creates fresh containers of its own (bench-redis-1..3 from
localhost/govops-debian:trixie, systemd as PID 1, podman network bench-redis)
and applies roles/redis exactly as molecule/redis/converge.yml does, with the
variables molecule/redis/molecule.yml sets (3 hosts x ports 7000/7001 = 3
masters + 3 replicas, every replica on another host; the other variables are
the role's defaults: AOF everysec + RDB, ACL users, cluster-node-timeout 5000
ms). The three passwords are generated per run into .cache/bench/redis/
(mode 0600) and never printed. The role's own acceptance checks must pass
before anything is measured.

1. Throughput. In bench-redis-1, redis-benchmark runs against
   (a) deployed: the cluster master instance of that container, as the
       application ACL user `app`, on keys `app:{<tag>}:...` whose hash tag
       lies in that master's slots (so every command is served by that one
       node, no MOVED: a per-node figure), and
   (b) baseline: a default `redis-server --port 6390 --save '' --appendonly no`
       the script starts in the same container (no persistence, no ACL),
   same commands (SET, GET, INCR, LPUSH), same -n/-c/-r, pipeline 1 and 16,
   alternating baseline/deployed, --reps times; the median is reported, and
   the ratio deployed/baseline. A third figure, (c) cluster, is redis-benchmark
   --cluster from the same container over all three masters (keys
   `app:{tag}:...`, redis-benchmark fills in one hash tag per master).
   The password reaches redis-benchmark through REDISCLI_AUTH when the
   installed redis-benchmark honours it (checked at run time); otherwise from
   a root-only file inside the container via `-a "$(cat file)"` in a `sh -c`,
   so it is never on the host's command line or in a log (the JSON says which).
2. Failover. --kills times: a master is chosen (in turn), its redis-server is
   killed with SIGKILL (the MainPID of redis-node@<port>.service) while a
   writer on the host (a small RESP client, MOVED followed) keeps writing, as
   `app`, a key in the killed master's slots every 10 ms. Failover time = from
   the kill until a write to that key succeeds again and CLUSTER INFO of a node
   on another host says cluster_state:ok. For this series systemd's
   Restart=on-failure is switched off by a runtime drop-in (/run/systemd/...),
   so that the killed node stays down like a lost host. Then it is started
   again, must rejoin as a replica, CLUSTER FAILOVER gives it its slots back
   and every node must see a healthy cluster before the next kill.
   Series: one per --timeouts value (cluster-node-timeout, set with CONFIG SET
   on all six instances; what redis_cluster_node_timeout would template), and
   one "restart" series at the deployed timeout where systemd's Restart=on-failure
   (RestartSec=2, the role's unit) brings the killed master back itself.

Writes docs/benchmarks/redis.md and docs/benchmarks/redis.json.

Run from the repository root after `source scripts/lib.sh` (root, podman):
    python3 scripts/bench/redis.py
    python3 scripts/bench/redis.py --kills 10 --timeouts 5000,2000,1000 --reps 5
Containers are removed at the end (--keep leaves them; --reuse measures kept
containers again without creating and deploying them).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import secrets
import shlex
import socket
import statistics
import sys
import threading
import time
from datetime import UTC, datetime

import benchlib
from benchlib import IMAGE, REPO, sh

WORK = REPO / ".cache" / "bench" / "redis"
NETWORK = "bench-redis"
PREFIX = "bench-redis"
HOSTS = 3
PORTS = [7000, 7001]
BASELINE_PORT = 6390
DEPLOYED_TIMEOUT = 5000  # the role's default redis_cluster_node_timeout
SEED_OPS = (80000, 120000)
SEED_FAILOVER = 1.0
CLUSTER_SLOTS = 16384
BAD_FLAGS = ("fail", "fail?", "handshake", "noaddr")
UNIT = "redis-node@{port}.service"
DROPIN = "/run/systemd/system/redis-node@.service.d/bench-no-restart.conf"
AUTH_FILE = "/root/.bench-redis-app"  # inside the container, 0600 root

DEPLOY_PLAY = """\
---
- name: Bench | Redis Cluster, as molecule/redis/converge.yml deploys it
  hosts: redis
  become: true
  gather_facts: true
  roles:
    - role: redis

- name: Bench | the role's acceptance checks must pass before measuring
  hosts: redis
  become: true
  gather_facts: false
  tasks:
    - name: Bench | run the role's acceptance checks
      ansible.builtin.include_role:
        name: redis
        tasks_from: verify.yml
    - name: Bench | no check failed
      ansible.builtin.assert:
        that: redis_acceptance.summary.fail == 0
        fail_msg: "{{ redis_acceptance.checks | selectattr('status', 'eq', 'fail') | map(attribute='id') | list }}"
        quiet: true
"""
# (name, redis-benchmark command; {key} is the key prefix)
COMMANDS = [
    ("SET", ["SET", "{key}:__rand_int__", "xxx"]),
    ("GET", ["GET", "{key}:__rand_int__"]),
    ("INCR", ["INCR", "{key}:ctr:__rand_int__"]),
    ("LPUSH", ["LPUSH", "{key}:list", "xxx"]),
]


# ---------------------------------------------------------------- processes


def in_container(name, script, check=True, stdin=None):
    """A shell script run inside a container (secrets only ever read there, never on the host's argv)."""
    interactive = ["-i"] if stdin is not None else []
    return sh(["podman", "exec", *interactive, name, "sh", "-c", script], check=check, stdin=stdin)


def names():
    return [f"{PREFIX}-{i}" for i in range(1, HOSTS + 1)]


def create():
    remove()
    sh(["podman", "network", "create", NETWORK])
    for name in names():
        sh(
            [
                *("podman", "run", "-d", "--name", name, "--hostname", name, "--network", NETWORK, "--no-hosts"),
                *("--systemd", "always", IMAGE, "/sbin/init"),
            ]
        )


def remove():
    for name in names():
        sh(["podman", "rm", "-f", "-t", "0", name], check=False)
    sh(["podman", "network", "rm", "-f", NETWORK], check=False)


def addresses():
    """container name -> its address on the bench network (the role's platform_address)."""
    result = {}
    for name in names():
        data = json.loads(sh(["podman", "inspect", name]).stdout)[0]
        result[name] = data["NetworkSettings"]["Networks"][NETWORK]["IPAddress"]
    return result


def passwords(reuse):
    """Generated once per run (kept for --reuse), mode 0600, never printed."""
    path = WORK / "secrets.json"
    if reuse and path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    WORK.mkdir(parents=True, exist_ok=True)
    values = {
        f"redis_{user}_password": f"bench-{user}-{secrets.token_urlsafe(18)}" for user in ("ops", "app", "replication")
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(values, handle)
    return values


def write_files():
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "deploy.yml").write_text(DEPLOY_PLAY, encoding="utf-8")
    inventory = {
        "all": {
            "vars": {"ansible_connection": "containers.podman.podman"},
            "children": {
                "redis": {
                    "hosts": {name: None for name in names()},
                    "vars": {
                        "platform_address": "{{ ansible_facts['default_ipv4']['address'] }}",
                        "redis_ports": PORTS,
                        "redis_cluster_replicas": 1,
                        "redis_cluster_node_timeout": DEPLOYED_TIMEOUT,
                    },
                }
            },
        }
    }
    (WORK / "inventory.json").write_text(json.dumps(inventory, indent=1), encoding="utf-8")


def ansible_env():
    return benchlib.ansible_env(ANSIBLE_FORKS=20)


def deploy():
    cmd = ["ansible-playbook", "-i", str(WORK / "inventory.json"), str(WORK / "deploy.yml")]
    cmd += ["-e", f"@{WORK / 'secrets.json'}"]
    start = time.monotonic()
    sh(cmd, env=ansible_env())
    return round(time.monotonic() - start, 1)


# ---------------------------------------------------------------- RESP


class RespError(Exception):
    """An error reply from the server (-ERR, -MOVED, -CLUSTERDOWN ...)."""


class Resp:
    """A minimal RESP2 client (no redis-py needed, no password on any command line)."""

    def __init__(self, host, port, user=None, password=None, timeout=1.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        if user:
            self.call("AUTH", user, password)

    def close(self):
        with contextlib.suppress(OSError):
            self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def call(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for arg in args:
            data = str(arg).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(data), data))
        self.sock.sendall(b"".join(out))
        return self._read()

    def _fill(self, test):
        while not test():
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed by server")
            self.buf += chunk

    def _read(self):
        self._fill(lambda: b"\r\n" in self.buf)
        line, self.buf = self.buf.split(b"\r\n", 1)
        kind, rest = line[:1], line[1:]
        if kind == b"-":
            raise RespError(rest.decode())
        if kind == b"+":
            return rest.decode()
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            if size < 0:
                return None
            self._fill(lambda: len(self.buf) >= size + 2)
            data, self.buf = self.buf[:size], self.buf[size + 2 :]
            return data.decode(errors="replace")
        if kind == b"*":
            size = int(rest)
            return None if size < 0 else [self._read() for _ in range(size)]
        raise ConnectionError(f"unexpected reply type {kind!r}")


class Cluster:
    """Ops-user queries from the host to the instances' platform addresses."""

    def __init__(self, ips, pw):
        self.ips = ips  # container -> ip
        self.host_of = {ip: name for name, ip in ips.items()}
        self.pw = pw

    def call(self, ip, port, *args, timeout=2.0):
        with Resp(ip, port, "ops", self.pw["redis_ops_password"], timeout=timeout) as conn:
            return conn.call(*args)

    def all_instances(self):
        return [(ip, port) for ip in self.ips.values() for port in PORTS]

    def nodes(self, ip, port):
        result = []
        for raw in self.call(ip, port, "CLUSTER", "NODES").splitlines():
            f = raw.split()
            hostport = f[1].split(",", 1)[0].split("@", 1)[0]
            node_ip, _, node_port = hostport.rpartition(":")
            slots = []
            for item in f[8:]:
                if not item.startswith("["):
                    start, _, end = item.partition("-")
                    slots.append((int(start), int(end or start)))
            flags = f[2].split(",")
            result.append(
                {
                    "id": f[0],
                    "ip": node_ip,
                    "port": int(node_port),
                    "host": self.host_of.get(node_ip, node_ip),
                    "master": "master" in flags,
                    "master_id": None if f[3] == "-" else f[3],
                    "flags": flags,
                    "link": f[7],
                    "slots": slots,
                }
            )
        return result

    def masters(self):
        """Masters with slots, as the first instance that answers sees them (a restarted one may be LOADING)."""
        for ip, port in self.all_instances():
            try:
                nodes = self.nodes(ip, port)
            except (OSError, RespError):
                continue
            return sorted((n for n in nodes if n["master"] and n["slots"]), key=lambda n: (n["host"], n["port"]))
        raise RespError("no instance answers CLUSTER NODES")

    def problems(self):
        """[] when every instance sees cluster_state ok, all slots ok, 3 masters with 1 replica each, no bad flag."""
        issues = []
        for ip, port in self.all_instances():
            where = f"{self.host_of[ip]}:{port}"
            try:
                info = self.call(ip, port, "CLUSTER", "INFO")
                nodes = self.nodes(ip, port)
            except (OSError, RespError) as exc:
                issues.append(f"{where}: {exc}")
                continue
            if "cluster_state:ok" not in info or f"cluster_slots_ok:{CLUSTER_SLOTS}" not in info:
                issues.append(f"{where}: cluster_state not ok")
            bad = [n for n in nodes if any(flag in BAD_FLAGS for flag in n["flags"]) or n["link"] != "connected"]
            if bad:
                issues.append(f"{where}: sees {len(bad)} failing/disconnected nodes")
            masters = [n for n in nodes if n["master"] and n["slots"]]
            for m in masters:
                replicas = [n for n in nodes if n["master_id"] == m["id"]]
                if len(replicas) != 1 or replicas[0]["ip"] == m["ip"]:
                    issues.append(f"{where}: master {m['host']}:{m['port']} has replicas {len(replicas)} / same host")
            if len(masters) != len(self.all_instances()) // 2:
                issues.append(f"{where}: {len(masters)} masters")
        return issues

    def wait_healthy(self, limit=180.0):
        deadline = time.monotonic() + limit
        while True:
            issues = self.problems()
            if not issues:
                return
            if time.monotonic() > deadline:
                sys.exit(f"error: the cluster did not become healthy within {limit:.0f} s: {issues[:3]}")
            time.sleep(0.5)


def crc16(data):
    """CRC16-XMODEM, Redis Cluster's key hash."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def tag_in(slots):
    """A hash tag whose slot belongs to the given ranges."""
    for i in range(100000):
        tag = f"b{i}"
        slot = crc16(tag.encode()) % CLUSTER_SLOTS
        if any(start <= slot <= end for start, end in slots):
            return tag
    raise RuntimeError("no hash tag found")


# ---------------------------------------------------------------- throughput


def benchmark_cmd(port, key, argv, args, pipeline, auth, cluster=False):
    requests = args.requests if pipeline == 1 else args.requests_p16
    words = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-n", str(requests)]
    words += ["-c", str(args.clients), "-P", str(pipeline), "-r", str(args.keyspace), "--csv"]
    if cluster:
        words.append("--cluster")
    words += [w.format(key=key) for w in argv]
    line = shlex.join(words)
    if auth == "env":
        return (
            f'REDISCLI_AUTH="$(cat {AUTH_FILE})" {line.replace("redis-benchmark ", "redis-benchmark --user app ", 1)}'
        )
    if auth == "argv":
        return line.replace("redis-benchmark ", f'redis-benchmark --user app -a "$(cat {AUTH_FILE})" ', 1)
    return line


def parse_csv(text):
    for row in csv.reader(io.StringIO(text)):
        if len(row) >= 2 and row[0] != "test":
            with contextlib.suppress(ValueError):
                return float(row[1])
    return None


def run_benchmark(name, script):
    result = in_container(name, script, check=False)
    rps = parse_csv(result.stdout)
    if result.returncode != 0 or rps is None or "error" in (result.stdout + result.stderr).lower():
        return None, (result.stdout + result.stderr).strip()[-400:]
    return rps, ""


def auth_method(name, port, key, args):
    """REDISCLI_AUTH if this redis-benchmark honours it, else -a "$(cat file)" inside the container."""
    probe = argparse.Namespace(requests=10, requests_p16=10, clients=1, keyspace=10)
    for method in ("env", "argv"):
        rps, _err = run_benchmark(name, benchmark_cmd(port, key, COMMANDS[0][1], probe, 1, method))
        if rps:
            return method
    sys.exit("error: redis-benchmark cannot authenticate as the app user, neither via REDISCLI_AUTH nor -a.")


def summarise(runs):
    """Per pipeline and command: median ops/s per target and the deployed/baseline ratio."""
    results = {}
    for pl, per_cmd in runs.items():
        results[pl] = {}
        for command, per_target in per_cmd.items():
            med = {t: median([x for x in v if x]) for t, v in per_target.items()}
            # Deployed and baseline run back to back in each repetition: the median of the
            # per-repetition ratios is less sensitive to the machine's changing load than
            # the ratio of the medians.
            pairs = [d / b for d, b in zip(per_target["deployed"], per_target["baseline"], strict=True) if d and b]
            ratio = round(statistics.median(pairs), 3) if pairs else None
            results[pl][command] = {"median": med, "runs": per_target, "deployed_vs_baseline": ratio}
    return results


def throughput(cluster, pw, args):
    name = names()[0]
    ip = cluster.ips[name]
    local = next(m for m in cluster.masters() if m["ip"] == ip)
    key = f"app:{{{tag_in(local['slots'])}}}"
    in_container(name, f"umask 077; cat > {AUTH_FILE}", stdin=pw["redis_app_password"])
    in_container(
        name,
        f"redis-server --port {BASELINE_PORT} --save '' --appendonly no --daemonize yes --logfile /tmp/baseline.log"
        f" && for i in $(seq 50); do redis-cli -p {BASELINE_PORT} PING | grep -q PONG && exit 0; sleep 0.2; done;"
        " exit 1",
    )
    auth = auth_method(name, local["port"], key, args)
    targets = {
        "baseline": lambda argv, p: benchmark_cmd(BASELINE_PORT, key, argv, args, p, "none"),
        "deployed": lambda argv, p: benchmark_cmd(local["port"], key, argv, args, p, auth),
        "cluster": lambda argv, p: benchmark_cmd(local["port"], "app:{tag}", argv, args, p, auth, cluster=True),
    }
    runs = {f"P{p}": {c: {t: [] for t in targets} for c, _ in COMMANDS} for p in (1, 16)}
    errors = {}
    for rep in range(args.reps):
        for pipeline in (1, 16):
            for command, argv in COMMANDS:
                order = ["baseline", "deployed", "cluster"] if rep % 2 == 0 else ["deployed", "baseline", "cluster"]
                for target in order:
                    rps, err = run_benchmark(name, targets[target](argv, pipeline))
                    # None keeps the runs of one repetition aligned (paired ratios).
                    runs[f"P{pipeline}"][command][target].append(rps)
                    if rps is None:
                        errors[f"P{pipeline} {command} {target}"] = err
                        continue
                    print(f"  rep {rep + 1} P{pipeline} {command:5} {target:8} {rps:>12,.0f} ops/s", flush=True)
    in_container(name, f"redis-cli -p {BASELINE_PORT} SHUTDOWN NOSAVE; rm -f {AUTH_FILE}", check=False)
    results = summarise(runs)
    ranges = ", ".join(f"{start}-{end}" for start, end in local["slots"])
    return {
        "container": name,
        "deployed_instance": f"{name}:{local['port']} (master, slots {ranges})",
        "key_prefix": key,
        "user": "app",
        "auth": {
            "env": "REDISCLI_AUTH (redis-benchmark honours it)",
            "argv": '-a "$(cat root-only file)" inside the container (redis-benchmark ignores REDISCLI_AUTH)',
        }[auth],
        "requests": args.requests,
        "requests_pipeline_16": args.requests_p16,
        "clients": args.clients,
        "keyspace": args.keyspace,
        "reps": args.reps,
        "results": results,
        "errors": errors,
    }


# ---------------------------------------------------------------- failover


class Writer(threading.Thread):
    """Writes one key as the app user every 10 ms, following MOVED; records (start, end, ok)."""

    def __init__(self, cluster, pw, key, first, observer):
        super().__init__(daemon=True)
        self.cluster, self.key, self.observer = cluster, key, observer
        self.password = pw["redis_app_password"]
        self.target = first
        self.conns = {}
        self.timeline = []
        self.owner = None
        self.stop_event = threading.Event()

    def conn(self, address):
        if address not in self.conns:
            self.conns[address] = Resp(*address, "app", self.password, timeout=0.5)
        return self.conns[address]

    def drop(self, address):
        conn = self.conns.pop(address, None)
        if conn:
            conn.close()

    def write(self):
        for _ in range(4):
            try:
                self.conn(self.target).call("SET", self.key, "x")
                self.owner = self.target
                return True
            except RespError as exc:
                if str(exc).startswith("MOVED"):
                    ip, _, port = str(exc).split()[2].rpartition(":")
                    self.target = (ip, int(port))
                    continue
                return False
            except OSError:
                self.drop(self.target)
                # Ask another instance who owns the slot now.
                others = [a for a in self.cluster.all_instances() if a != self.target]
                self.target = others[int(time.monotonic() * 100) % len(others)]
                return False
        return False

    def state_ok(self):
        try:
            return "cluster_state:ok" in self.conn(self.observer).call("CLUSTER", "INFO")
        except (OSError, RespError):
            self.drop(self.observer)
            return False

    def run(self):
        while not self.stop_event.is_set():
            start = time.time()
            ok = self.write() and self.state_ok()
            self.timeline.append((start, time.time(), ok))
            time.sleep(0.01)
        for address in list(self.conns):
            self.drop(address)

    def recovered_after(self, moment):
        return next((end for start, end, ok in list(self.timeline) if ok and start > moment), None)


def set_restart(enabled):
    script = (
        f"rm -f {DROPIN}"
        if enabled
        else f"mkdir -p {os.path.dirname(DROPIN)} && printf '[Service]\\nRestart=no\\n' > {DROPIN}"
    )
    for name in names():
        in_container(name, f"{script} && systemctl daemon-reload")


def set_timeout(cluster, ms):
    for ip, port in cluster.all_instances():
        cluster.call(ip, port, "CONFIG", "SET", "cluster-node-timeout", ms)


def restore(cluster, victim, started_by_us):
    """The killed instance back as master of its slots; every node sees a healthy cluster."""
    unit = UNIT.format(port=victim["port"])
    if started_by_us:
        in_container(victim["host"], f"systemctl reset-failed {unit}; systemctl start {unit}")
    deadline = time.monotonic() + 180
    asked = 0.0
    while time.monotonic() < deadline:
        try:
            info = cluster.call(victim["ip"], victim["port"], "INFO", "replication")
            back = "role:master" in info and any(m["id"] == victim["id"] for m in cluster.masters())
        except (OSError, RespError):
            time.sleep(0.5)
            continue
        if back:
            break
        if "master_link_status:up" in info and time.monotonic() - asked > 10:
            with contextlib.suppress(OSError, RespError):
                cluster.call(victim["ip"], victim["port"], "CLUSTER", "FAILOVER")
                asked = time.monotonic()
        time.sleep(0.5)
    else:
        sys.exit(f"error: {victim['host']}:{victim['port']} did not become master again within 180 s")
    cluster.wait_healthy()
    time.sleep(2)


def kill_once(cluster, pw, victim, mode):
    tag = tag_in(victim["slots"])
    key = f"app:{{{tag}}}:failover"
    observer_ip = next(ip for name, ip in cluster.ips.items() if name != victim["host"])
    writer = Writer(cluster, pw, key, (victim["ip"], victim["port"]), (observer_ip, PORTS[0]))
    writer.start()
    deadline = time.monotonic() + 20
    while not writer.recovered_after(0) and time.monotonic() < deadline:
        time.sleep(0.05)
    if not writer.recovered_after(0):
        sys.exit(f"error: no successful write to {victim['host']}:{victim['port']} before the kill")
    unit = UNIT.format(port=victim["port"])
    out = in_container(victim["host"], f'kill -9 "$(systemctl show -P MainPID {unit})" && date +%s.%N').stdout
    killed = float(out.split()[-1])
    deadline = time.monotonic() + 300
    while (recovered := writer.recovered_after(killed)) is None and time.monotonic() < deadline:
        time.sleep(0.02)
    writer.stop_event.set()
    writer.join()
    if recovered is None:
        sys.exit(f"error: writes to {victim['host']}:{victim['port']}'s slots did not succeed within 300 s")
    owner = writer.owner
    failed = sum(1 for start, _end, ok in writer.timeline if start > killed and not ok)
    record = {
        "victim": f"{victim['host']}:{victim['port']}",
        "seconds": round(recovered - killed, 3),
        "served_by": f"{cluster.host_of.get(owner[0], owner[0])}:{owner[1]}",
        "promoted_replica": owner != (victim["ip"], victim["port"]),
        "failed_writes": failed,
    }
    restore(cluster, victim, started_by_us=(mode == "failover"))
    return record


def series(cluster, pw, mode, timeout_ms, kills):
    print(f"==> failover series: {mode}, cluster-node-timeout {timeout_ms} ms, {kills} kills", flush=True)
    set_timeout(cluster, timeout_ms)
    set_restart(mode == "restart")
    cluster.wait_healthy()
    records = []
    for i in range(kills):
        masters = cluster.masters()
        victim = masters[i % len(masters)]
        # A restarted instance reads its configuration file again: the series' timeout on all six.
        set_timeout(cluster, timeout_ms)
        record = kill_once(cluster, pw, victim, mode)
        records.append(record)
        print(f"  kill {i + 1}: {record}", flush=True)
    values = [r["seconds"] for r in records]
    return {
        "mode": mode,
        "cluster_node_timeout_ms": timeout_ms,
        "budget_seconds": round(timeout_ms / 1000 + 1, 1),
        "kills": records,
        "min": min(values),
        "median": round(statistics.median(values), 3),
        "max": max(values),
        "promoted": sum(1 for r in records if r["promoted_replica"]),
    }


# ---------------------------------------------------------------- report


def median(values):
    return round(statistics.median(values)) if values else None


def fmt(value):
    return "—" if value is None else f"{value:,.0f}"


def verdicts(data):
    t = data["throughput"]["results"]
    ratios = [r["deployed_vs_baseline"] for pl in t.values() for r in pl.values() if r["deployed_vs_baseline"]]
    p1 = [t["P1"][c]["median"]["deployed"] for c in ("SET", "GET") if t["P1"][c]["median"]["deployed"]]
    cost = round((1 - statistics.median(ratios)) * 100, 1) if ratios else None
    low = SEED_OPS[0]
    if not p1:
        seed = ("无数据", "no data")
    elif min(p1) >= low:
        seed = ("达到 80–120k 的参考值", "at or above the seed's 80–120k reference")
    else:
        seed = ("低于 80–120k 的参考值", "below the seed's 80–120k reference")
    fo = [s for s in data["failover"] if s["mode"] == "failover"]
    meets = [s for s in fo if s["max"] <= SEED_FAILOVER]
    within = [s for s in fo if s["median"] <= s["budget_seconds"]]
    return {
        "cost_percent": cost,
        "seed_ops": seed,
        "p1_setget": p1,
        "failover_meets_seed": bool(meets),
        "within_budget": [s["cluster_node_timeout_ms"] for s in within],
    }


def markdown(data):
    t = data["throughput"]
    rows = []
    for pl in ("P1", "P16"):
        for command, r in t["results"][pl].items():
            med = r["median"]
            ratio = r["deployed_vs_baseline"]
            rows.append(
                f"| {command} | {pl[1:]} | {fmt(med['baseline'])} | {fmt(med['deployed'])} "
                f"| {'—' if ratio is None else f'{ratio:.2f}'} | {fmt(med['cluster'])} |"
            )
    fo_rows = []
    for s in data["failover"]:
        label = "kill -9, node stays down" if s["mode"] == "failover" else "kill -9, systemd restarts it"
        fo_rows.append(
            f"| {label} | {s['cluster_node_timeout_ms']} | {len(s['kills'])} | {s['min']:.2f} | {s['median']:.2f} "
            f"| {s['max']:.2f} | {s['promoted']}/{len(s['kills'])} | {s['budget_seconds']} |"
        )
    v = verdicts(data)
    m = data["machine"]
    cost = "—" if v["cost_percent"] is None else f"{v['cost_percent']}%"
    p1 = " / ".join(f"{c} {fmt(x)}" for c, x in zip(("SET", "GET"), v["p1_setget"], strict=False)) or "—"
    fo = [s for s in data["failover"] if s["mode"] == "failover"]
    fo_text = "; ".join(
        f"{s['cluster_node_timeout_ms']} ms → {s['min']:.2f}/{s['median']:.2f}/{s['max']:.2f} s" for s in fo
    )
    restart = [s for s in data["failover"] if s["mode"] == "restart"]
    restart_text = (
        f"{restart[0]['min']:.2f}/{restart[0]['median']:.2f}/{restart[0]['max']:.2f} s" if restart else "not measured"
    )
    spread = max(
        (
            max(x) / min(x)
            for pl in t["results"].values()
            for r in pl.values()
            for v in r["runs"].values()
            if (x := [y for y in v if y])
        ),
        default=1.0,
    )
    errors = "\n".join(f"- `{k}`: {e}" for k, e in t["errors"].items()) or "- none"
    deployed = (
        f"deployed in {data['deploy_seconds']} s"
        if data.get("deploy_seconds")
        else "deployed by an earlier run of the script on the same containers (--reuse)"
    )
    p16 = t.get("requests_pipeline_16", t["requests"])
    notes = "".join(f"\n**Note / 说明:** {n}\n" for n in data.get("notes", []))
    auth_zh = (
        "redis-benchmark 不读取 REDISCLI_AUTH，因此密码写入容器内仅 root 可读的文件，在容器内的 `sh -c` 中以"
        ' `-a "$(cat 文件)"` 传入（不出现在宿主机命令行与日志中；运行期间在容器内的进程参数中可见）'
        if "ignores" in t["auth"]
        else "经 REDISCLI_AUTH 环境变量传入"
    )
    noisy = spread > 1.5
    noise_zh = (
        f"但同一数字的重复测量相差可达 {spread:.1f} 倍，这台机器上的噪声大于要测的代价，"
        '此数字只是粗略值，不能证明"代价很小"，也不能否定。'
        if noisy
        else f"重复测量相差最多 {spread:.1f} 倍。"
    )
    noise_en = (
        f"but repeated runs of the same figure differed by up to {spread:.1f}×: on this machine the noise is"
        " larger than the effect to be measured, so this figure is rough and neither proves nor disproves"
        ' "hardening and persistence cost little".'
        if noisy
        else f"repeated runs differed by at most {spread:.1f}×."
    )
    seed_zh = "达到" if v["failover_meets_seed"] else "未达到"
    seed_en = "meets" if v["failover_meets_seed"] else "does not meet"
    return f"""# Redis 集群基准 / Redis Cluster benchmark (issue 4)

由 `scripts/bench/redis.py` 于 {data["date"]} 测得。数字由脚本生成，请勿手工修改——重新运行脚本。
Measured by `scripts/bench/redis.py` on {data["date"]}. Numbers are produced by the script; do not edit
them by hand — rerun it.

- 本次命令 / this run: `{data["command"]}`
- 机器 / machine: {m["nproc"]} CPUs, {m["ram_gib"]} GiB RAM, load average at start {m["load_average_at_start"]},
  kernel {m["kernel"]}; {m["ansible"]}; {m["podman"]}; image {m["image"]}; {data["redis_version"]}.
  The machine was shared with other work (other labs running).
- 部署 / deployment: roles/redis on 3 containers × ports {PORTS} (3 masters + 3 replicas, anti-affinity),
  AOF everysec + RDB, ACL users, maxmemory 256mb allkeys-lru (role defaults),
  {deployed}; the role's acceptance checks passed before measuring.

## 中文

**方法。** 吞吐：在 bench-redis-1 容器内用 `redis-benchmark` 分别压测 (a) 部署的集群中该容器上的主节点
（应用用户 `app`，键 `{t["key_prefix"]}:…` 的哈希标签落在该主节点的槽内，所有请求由这一个节点处理，即单节点数字），
(b) 同一容器中脚本启动的默认 `redis-server --port {BASELINE_PORT} --save '' --appendonly no`（无持久化、无 ACL）；
相同命令、-c {t["clients"]}、-r {t["keyspace"]}，流水线 1（-n {t["requests"]}）与 16（-n {p16}），
基线与部署背靠背各 {t["reps"]} 次；ops/s 取中位数，比值为每轮比值的中位数；
(c) 为 `redis-benchmark --cluster` 经三个主节点的整体数字（同一台 2 核机器上的三个容器）。
密码：{auth_zh}。
故障切换：每次 `kill -9` 一个主节点的 redis-server（轮流），
主机上的写入程序以 `app` 用户每 10 ms 写一次落在该主节点槽内的键
（跟随 MOVED）；故障切换时间 = 从 kill 到该键写入再次成功且另一主机上节点的 `CLUSTER INFO` 为 `cluster_state:ok`。
"节点保持宕机"系列中用运行时 drop-in 关闭 systemd 的 `Restart=on-failure`（模拟主机丢失）；之后重新启动该实例，
须以副本身份重新加入，再用 `CLUSTER FAILOVER` 恢复原布局，全部节点健康后才进行下一次。cluster-node-timeout 通过
`CONFIG SET` 在六个实例上设置（等同于角色变量 `redis_cluster_node_timeout`）。

**结论。** 加固与持久化（ACL、AOF everysec + RDB、集群模式）相对默认实例的吞吐代价：部署/基线比值的中位数
对应约 {cost}；{noise_zh}
流水线 1 时 SET/GET 单节点 {p1} ops/s，{v["seed_ops"][0]}——但这是负载很高的共享 2 核机器上的容器
（客户端与所有服务器共用同样的 2 个核），不是种子文件所指的生产服务器，绝对值只是下限。
故障切换（最小/中位/最大）：{fo_text}；{seed_zh}种子文件 ≤ 1 秒的目标。Redis Cluster 的自动故障切换需要
cluster-node-timeout、多数主节点通过 gossip 确认故障（FAIL），再加副本选举延迟（500 ms + 随机 0–500 ms + 排名），
所以 ≤ 1 秒需要远低于 1000 ms 的节点超时，这在负载下容易误判故障、引起不必要的切换。
进程崩溃由 systemd 重启（角色的 `Restart=on-failure`、`RestartSec=2`）时，写入恢复时间为 {restart_text}，
不发生切换：2 秒重启等待 + 启动 + 主节点重启后 2 秒的可写延迟（Redis 的 CLUSTER_WRITABLE_DELAY）。

## English

**Method.** Throughput: inside container bench-redis-1, `redis-benchmark` against (a) *deployed* — the
cluster master instance of that container, as the application ACL user `app`, keys `{t["key_prefix"]}:…`
whose hash tag lies in that master's slots, so one node serves every request (a per-node figure) — and
(b) *baseline* — a default `redis-server --port {BASELINE_PORT} --save '' --appendonly no` the script
starts in the same container (no persistence, no ACL). Same commands, -c {t["clients"]}, -r {t["keyspace"]},
pipeline 1 (-n {t["requests"]}) and 16 (-n {p16}), baseline and deployed back to back, {t["reps"]}
repetitions; ops/s are medians, the ratio is the median of the per-repetition ratios. (c) *cluster* is
`redis-benchmark --cluster` over all three masters (three containers on the same 2-core machine).
Password: {t["auth"]}; never on the host's command line or in a log, visible in the container's
process list while redis-benchmark runs.
Failover: a master's redis-server is killed with SIGKILL (each master in turn) while a writer on the host
writes, as `app`, a key in that master's slots every 10 ms (following MOVED). Failover time = from the
kill until that write succeeds again and `CLUSTER INFO` of a node on another host says
`cluster_state:ok`. In the "node stays down" series a runtime drop-in switches off systemd's
`Restart=on-failure` (a lost host); the instance is then started again, must rejoin as a replica,
`CLUSTER FAILOVER` restores the layout, and every node must see a healthy cluster before the next kill.
cluster-node-timeout is set with `CONFIG SET` on all six instances (what `redis_cluster_node_timeout`
templates). In the "systemd restarts it" series the role's unit brings the process back after
`RestartSec=2`, before any failover.

### Throughput (ops/s, median of {t["reps"]})

| command | pipeline | baseline | deployed (1 master) | deployed / baseline | cluster (3 masters) |
|---|---|---|---|---|---|
{chr(10).join(rows)}

baseline = default `redis-server` (no persistence, no ACL); deployed = the role's master instance
{t["deployed_instance"]}, as `app`; cluster = `redis-benchmark --cluster` over the three masters (three
containers, replication to the replicas included). On this machine repeated runs of the same figure
differed by up to {spread:.1f}× (all runs are in `redis.json`): read the ratios as rough.
Errors (a missing figure above):
{errors}

### Failover (seconds from kill -9 until a write to the killed master's slots succeeds and the cluster is ok)

| kill | node timeout (ms) | kills | min | median | max | replica took over | budget: timeout + 1 s |
|---|---|---|---|---|---|---|---|
{chr(10).join(fo_rows)}

Seed's target: ≤ {SEED_FAILOVER:.0f} s. Per-kill figures are in `redis.json`.
{notes}

**Verdict.** The median deployed/baseline ratio corresponds to a cost of about {cost} for hardening and
persistence; {noise_en} Per node, SET/GET at pipeline 1 reach {p1} ops/s:
{v["seed_ops"][1]} — but these are containers on a shared, loaded 2-core machine where the client and every
server share the same two cores, not the production servers the seed means; the absolute numbers are a
floor. Failover (min/median/max): {fo_text}; this {seed_en} the seed's ≤ 1 s. Redis Cluster's automatic
failover needs cluster-node-timeout, then failure reports from a majority of masters by gossip (FAIL),
then the replica's election delay (500 ms + random 0–500 ms + rank), so ≤ 1 s needs a node timeout well
below 1000 ms, which on a loaded host or network causes false failovers; on this machine the measured
time exceeds the README's "node timeout + about 1 s". A crashed process that systemd restarts (the role's
`Restart=on-failure`, `RestartSec=2`) is back without a failover in {restart_text}: the 2 s restart delay,
start-up, and the 2 s a restarted master waits before it accepts writes (Redis' CLUSTER_WRITABLE_DELAY).

## Re-run / 重新运行

```sh
source scripts/lib.sh
python3 scripts/bench/redis.py                       # 3 reps, 5 kills per series, timeouts 5000,1000
python3 scripts/bench/redis.py --kills 10 --timeouts 5000,2000,1000 --reps 5
```

Containers bench-redis-1..3 and network bench-redis are the script's own and are removed at the end
(`--keep` leaves them). Takes 10–25 minutes on a loaded 2-core machine.
"""


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=100000, help="redis-benchmark -n (default 100000)")
    parser.add_argument(
        "--requests-p16", type=int, default=300000, help="redis-benchmark -n with pipeline 16 (default 300000)"
    )
    parser.add_argument("--clients", type=int, default=50, help="redis-benchmark -c (default 50)")
    parser.add_argument("--keyspace", type=int, default=100000, help="redis-benchmark -r (default 100000)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions per figure, median reported (default 3)")
    parser.add_argument("--kills", type=int, default=5, help="kills per failover series (default 5)")
    parser.add_argument(
        "--timeouts",
        default=f"{DEPLOYED_TIMEOUT},1000",
        help="cluster-node-timeout values (ms), one failover series each (default 5000,1000)",
    )
    parser.add_argument("--no-restart-series", action="store_true", help="skip the systemd-restart series")
    parser.add_argument("--keep", action="store_true", help="leave the containers running")
    parser.add_argument("--reuse", action="store_true", help="measure kept containers again (no create, no deploy)")
    parser.add_argument("--render", action="store_true", help="only rewrite redis.md from redis.json")
    return parser.parse_args()


def main():
    args = parse_args()
    out = REPO / "docs" / "benchmarks"
    if args.render:
        # Derived figures (medians, ratios, verdict) are recomputed from the measured runs.
        data = json.loads((out / "redis.json").read_text(encoding="utf-8"))
        runs = {pl: {c: r["runs"] for c, r in per.items()} for pl, per in data["throughput"]["results"].items()}
        data["throughput"]["results"] = summarise(runs)
        data["verdict"] = verdicts(data)
        (out / "redis.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (out / "redis.md").write_text(markdown(data), encoding="utf-8")
        return
    if "CONTAINERS_CONF" not in os.environ:
        sys.exit("error: CONTAINERS_CONF is not set. Fix: `source scripts/lib.sh` first.")
    timeouts = [int(x) for x in args.timeouts.split(",") if x.strip()]
    data = {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": "python3 scripts/bench/redis.py " + " ".join(sys.argv[1:]),
        "machine": benchlib.machine(),
        "seed": {"ops_per_second_per_node": list(SEED_OPS), "failover_seconds_max": SEED_FAILOVER},
    }
    pw = passwords(args.reuse)
    write_files()
    try:
        if not args.reuse:
            create()
            time.sleep(3)  # systemd up
            print("==> deploying roles/redis", flush=True)
            data["deploy_seconds"] = deploy()
        else:
            data["deploy_seconds"] = None
        ips = addresses()
        cluster = Cluster(ips, pw)
        cluster.wait_healthy()
        data["redis_version"] = in_container(names()[0], "redis-server --version").stdout.strip().split(" sha=")[0]
        print("==> throughput", flush=True)
        data["throughput"] = throughput(cluster, pw, args)
        data["failover"] = []
        for ms in timeouts:
            data["failover"].append(series(cluster, pw, "failover", ms, args.kills))
            if ms == DEPLOYED_TIMEOUT and not args.no_restart_series:
                data["failover"].append(series(cluster, pw, "restart", ms, args.kills))
        set_timeout(cluster, DEPLOYED_TIMEOUT)
        set_restart(True)
    finally:
        if not args.keep:
            remove()
    data["verdict"] = verdicts(data)
    out.mkdir(parents=True, exist_ok=True)
    (out / "redis.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "redis.md").write_text(markdown(data), encoding="utf-8")
    print(json.dumps({"throughput": data["throughput"]["results"], "failover": data["failover"]}, indent=1))


if __name__ == "__main__":
    main()
