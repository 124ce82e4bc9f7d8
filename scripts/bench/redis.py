#!/usr/bin/env python3
"""Benchmark (issues 4, 23): roles/redis's cluster: throughput, failover, acknowledged writes, stress.

Creates fresh containers of its own (bench-redis-1..3 from
localhost/govops-debian:trixie, systemd as PID 1, podman network bench-redis,
NET_ADMIN for the network stress) and applies roles/redis exactly as
molecule/redis/converge.yml does, with the variables molecule/redis/molecule.yml
sets (3 hosts x ports 7000/7001 = 3 masters + 3 replicas, every replica on
another host, TLS on with the role's own CA; the other variables are the
role's defaults: AOF everysec + RDB, ACL users, the default
cluster-node-timeout). It does so twice: first with redis_tls_enabled false
for the TLS-off throughput only, then, on new containers, with TLS on for
everything. The three passwords are generated per run into
.cache/bench/redis/ (mode 0600) and never printed. The role's own
acceptance checks must pass before anything is measured.

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
2. Failover. Each kill: a master is chosen (in turn) while a writer on the
   host (a small RESP client, MOVED followed) keeps writing, as `app`, a key
   in that master's slots every 10 ms. Failover time = from the kill until a
   write to that key succeeds again and CLUSTER INFO of a node on another host
   says cluster_state:ok. Two kinds of series (issue 23):
   - crash (--crash-kills, at the deployed timeout): the master's
     redis-server is killed with SIGKILL (MainPID of
     redis-node@<port>.service) on a host that stays up, with the role as
     deployed: its ExecStopPost hook (redis_crash_failover) forces the replica
     to take over, and systemd's Restart=on-failure brings the process back
     as a replica. The hook's journal line is kept with each kill.
   - host-lost (--kills, one series per --timeouts value): the master's whole
     container is frozen with `podman pause` (every process of the host
     stops, its sockets go silent, no hook runs: a lost host), and unpaused
     once writes succeed again. cluster-node-timeout is set with CONFIG SET
     on all six instances (what redis_cluster_node_timeout would template).
   After each kill the old master must be a replica again; CLUSTER FAILOVER
   gives it its slots back and every node must see a healthy cluster before
   the next kill. During every kill a second writer counts acknowledged
   writes (plain, and followed by WAIT 1 100) and reads them back after.
3. Spurious failovers: at each --timeouts value, a CPU stress window (busy
   loops in every container) and a network one (tbf on each eth0 kept full by
   paced UDP: this kernel has no netem), no fault injected; promotions,
   elections (cluster_current_epoch) and fail?/fail flags are counted. The
   page names the lowest timeout, at or above the role's floor, free of both
   with a published host-lost series; tests/test_benchmark_pages.py keeps
   roles/redis's default redis_cluster_node_timeout equal to it.

Writes docs/benchmarks/redis.md and docs/benchmarks/redis.json. The page is
markdown(data) of the JSON alone: every conclusion on it is computed from the
repetitions and kills of the run, a figure whose repetitions disagree by more
than 3x is not published, and a failover series is published only when every
kill saw the series' cluster-node-timeout (read back from all six instances).

Run from the repository root after `source scripts/lib.sh` (root, podman):
    python3 scripts/bench/redis.py
    python3 scripts/bench/redis.py --kills 10 --timeouts 5000,2000,1000 --reps 5
    python3 scripts/bench/redis.py --report     # the page again from redis.json, nothing run
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
import re
import secrets
import shlex
import ssl
import statistics
import sys
import threading
import time
from datetime import UTC, datetime

import benchlib
from benchlib import IMAGE, REPO, SPREAD_LIMIT, machine_line, publishable, sh, spread, write_figures

# The RESP client and the INFO / CLUSTER NODES parsers the check modules use (standard library only).
sys.path.insert(0, str(REPO / "plugins" / "module_utils"))
from govops_redis import CLUSTER_SLOTS, Resp, RespError, healthy, parse_cluster_nodes, parse_info

WORK = REPO / ".cache" / "bench" / "redis"
NETWORK = "bench-redis"
PREFIX = "bench-redis"
HOSTS = 3
PORTS = [7000, 7001]
BASELINE_PORT = 6390


# The role's default redis_cluster_node_timeout, read from roles/redis/defaults/main.yml (one source).
DEPLOYED_TIMEOUT = int(
    re.search(
        r"^redis_cluster_node_timeout:\s*(\d+)",
        (REPO / "roles" / "redis" / "defaults" / "main.yml").read_text(encoding="utf-8"),
        re.MULTILINE,
    ).group(1)
)
# The lowest redis_cluster_node_timeout roles/redis/tasks/validate.yml accepts.
ROLE_TIMEOUT_FLOOR = 1000
SEED_OPS = (80000, 120000)
SEED_FAILOVER = 1.0
# How long the acknowledged-write counter runs before a kill.
ACK_WARMUP_SECONDS = 1.0
UNIT = "redis-node@{port}.service"
AUTH_FILE = "/root/.bench-redis-app"  # inside the container, 0600 root
# roles/redis's own TLS files (redis_tls_generate_ca: a private CA on bench-redis-1): every node's
# certificate is also a client certificate (serverAuth + clientAuth), so redis-benchmark and the
# host's client present one of them.
TLS_DIR = "/etc/redis/tls"
TLS_BENCH_ARGS = [
    "--tls",
    "--cacert",
    f"{TLS_DIR}/ca.crt",
    "--cert",
    f"{TLS_DIR}/node.crt",
    "--key",
    f"{TLS_DIR}/node.key",
]
# What each kind of failover series does, for the table and the method (zh-CN, English).
MODES = {
    "crash": {
        "label": "kill -9, crash hook (as deployed)",
        "zh": "“崩溃”系列：在主机仍然在线时以 `kill -9` 杀死主节点进程，角色按部署方式运行：其 ExecStopPost 钩子"
        "（`redis_crash_failover`）立即以 `CLUSTER FAILOVER FORCE` 让副本接管，systemd 的 `Restart=on-failure`"
        "再把进程拉起为副本；每次 kill 的钩子日志行保存在 JSON 中。计时从 `kill -9` 返回（进程已无法应答）时开始。",
        "en": "*crash* series: the master's process is killed with `kill -9` on a host that stays up, the role as"
        " deployed: its ExecStopPost hook (`redis_crash_failover`) makes the replica take over at once with"
        " `CLUSTER FAILOVER FORCE`, and systemd's `Restart=on-failure` brings the process back as a replica; the"
        " hook's journal lines of every kill are in the JSON. The clock starts when `kill -9` returns (the"
        " process can no longer answer).",
    },
    "host-lost": {
        "label": "host lost (container paused)",
        "zh": "“主机丢失”系列：用 `podman pause` 冻结主节点所在的整个容器（主机上所有进程停止，套接字无响应，"
        "钩子不会运行），写入恢复后再解冻；只有集群自身的故障切换（节点超时、多数主节点判定、副本选举）起作用。"
        "计时从 `podman pause` 返回（冻结完成）时开始，该命令的耗时记录在 JSON 中（`pause_command_seconds`），"
        "即数字最多可能偏短的量。",
        "en": "*host lost* series: the master's whole container is frozen with `podman pause` (every process of the"
        " host stops, its sockets go silent, no hook runs) and unpaused once writes succeed again; only the"
        " cluster's own failover (node timeout, a majority of masters, the replica's election) acts. The clock"
        " starts when `podman pause` returns (the freeze is complete); its duration is in the JSON"
        " (`pause_command_seconds`), the most a figure can be short by.",
    },
}

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
    """Fresh containers; NET_ADMIN (their own network namespace only) lets the network stress shape eth0."""
    remove()
    sh(["podman", "network", "create", NETWORK])
    for name in names():
        sh(
            [
                *("podman", "run", "-d", "--name", name, "--hostname", name, "--network", NETWORK, "--no-hosts"),
                *("--cap-add", "NET_ADMIN", "--systemd", "always", IMAGE, "/sbin/init"),
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


def write_files(tls):
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
                        # TLS on as the lab and molecule/redis deploy it (a private CA of the
                        # role's on bench-redis-1), or off for the comparison; the page says which.
                        "redis_tls_enabled": tls,
                        "redis_tls_generate_ca": tls,
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


def phase(tls, pw, deploy_it):
    """The cluster deployed with TLS on or off (fresh containers unless deploy_it is false): (cluster, seconds)."""
    write_files(tls)
    seconds = None
    if deploy_it:
        create()
        time.sleep(3)  # systemd up
        print(f"==> deploying roles/redis, TLS {'on' if tls else 'off'}", flush=True)
        seconds = deploy()
    cluster = Cluster(addresses(), pw, tls_context() if tls else None)
    cluster.wait_healthy()
    return cluster, seconds


# ---------------------------------------------------------------- cluster


def tls_context():
    """A client TLS context from the role's CA and bench-redis-1's node certificate (copied 0600 under WORK)."""
    folder = WORK / "tls"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name in ("ca.crt", "node.crt", "node.key"):
        content = in_container(names()[0], f"cat {TLS_DIR}/{name}").stdout
        fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
    context = ssl.create_default_context(cafile=str(folder / "ca.crt"))
    context.load_cert_chain(str(folder / "node.crt"), str(folder / "node.key"))
    return context


class Cluster:
    """Ops-user queries from the host to the instances' platform addresses (over TLS when context is set)."""

    def __init__(self, ips, pw, context=None):
        self.ips = ips  # container -> ip
        self.host_of = {ip: name for name, ip in ips.items()}
        self.pw = pw
        self.context = context

    def call(self, ip, port, *args, timeout=2.0):
        with Resp(
            ip, port, timeout=timeout, context=self.context, user="ops", password=self.pw["redis_ops_password"]
        ) as conn:
            return conn.call(*args)

    def all_instances(self):
        return [(ip, port) for ip in self.ips.values() for port in PORTS]

    def nodes(self, ip, port):
        """CLUSTER NODES as that instance sees it, each node with the container it runs in ("host")."""
        return [
            {**node, "host": self.host_of.get(node["ip"], node["ip"])}
            for node in parse_cluster_nodes(self.call(ip, port, "CLUSTER", "NODES"))
        ]

    def masters(self):
        """Masters with slots, as the first instance that answers sees them (a restarted one may be LOADING)."""
        for ip, port in self.all_instances():
            try:
                nodes = self.nodes(ip, port)
            except (OSError, RespError):
                continue
            return sorted(
                (n for n in nodes if n["role"] == "master" and n["slots"]), key=lambda n: (n["host"], n["port"])
            )
        raise RespError("no instance answers CLUSTER NODES")

    def problems(self):
        """[] when every instance sees cluster_state ok, all slots ok, 3 masters with 1 replica each, no bad flag."""
        issues = []
        for ip, port in self.all_instances():
            where = f"{self.host_of[ip]}:{port}"
            try:
                info = parse_info(self.call(ip, port, "CLUSTER", "INFO"))
                nodes = self.nodes(ip, port)
            except (OSError, RespError) as exc:
                issues.append(f"{where}: {exc}")
                continue
            if info.get("cluster_state") != "ok" or info.get("cluster_slots_ok") != CLUSTER_SLOTS:
                issues.append(f"{where}: cluster_state not ok")
            bad = [n for n in nodes if not healthy(n)]
            if bad:
                issues.append(f"{where}: sees {len(bad)} failing/disconnected nodes")
            masters = [n for n in nodes if n["role"] == "master" and n["slots"]]
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


def benchmark_cmd(port, key, argv, args, pipeline, auth, cluster=False, tls=False):
    requests = args.requests if pipeline == 1 else args.requests_p16
    words = ["redis-benchmark", *(TLS_BENCH_ARGS if tls else []), "-h", "127.0.0.1", "-p", str(port)]
    words += ["-n", str(requests)]
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


def auth_method(name, port, key, args, tls):
    """REDISCLI_AUTH if this redis-benchmark honours it, else -a "$(cat file)" inside the container."""
    probe = argparse.Namespace(requests=10, requests_p16=10, clients=1, keyspace=10)
    for method in ("env", "argv"):
        rps, _err = run_benchmark(name, benchmark_cmd(port, key, COMMANDS[0][1], probe, 1, method, tls=tls))
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


def throughput(cluster, pw, args, tls):
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
    auth = auth_method(name, local["port"], key, args, tls)
    targets = {
        "baseline": lambda argv, p: benchmark_cmd(BASELINE_PORT, key, argv, args, p, "none"),
        "deployed": lambda argv, p: benchmark_cmd(local["port"], key, argv, args, p, auth, tls=tls),
        "cluster": lambda argv, p: benchmark_cmd(
            local["port"], "app:{tag}", argv, args, p, auth, cluster=True, tls=tls
        ),
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
        "tls": tls,
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
            self.conns[address] = Resp(
                *address, timeout=0.5, context=self.cluster.context, user="app", password=self.password
            )
        return self.conns[address]

    def drop(self, address):
        conn = self.conns.pop(address, None)
        if conn:
            conn.close()

    def send(self, *command, wait_ms=None):
        """command on the owner of the key's slot (MOVED followed): (reply, None) or (None, the error).

        With wait_ms, WAIT 1 wait_ms follows on the same connection and the reply is the number of
        replicas that acknowledged (0: the write is on the master only).
        """
        for _ in range(4):
            try:
                conn = self.conn(self.target)
                reply = conn.call(*command)
                self.owner = self.target
                if wait_ms is not None:
                    reply = int(conn.call("WAIT", 1, wait_ms))
                return reply, None
            except RespError as exc:
                if str(exc).startswith("MOVED"):
                    ip, _, port = str(exc).split()[2].rpartition(":")
                    self.target = (ip, int(port))
                    continue
                return None, str(exc)
            except OSError as exc:
                self.drop(self.target)
                # Ask another instance who owns the slot now.
                others = [a for a in self.cluster.all_instances() if a != self.target]
                self.target = others[int(time.monotonic() * 100) % len(others)]
                return None, str(exc) or type(exc).__name__
        return None, "MOVED more than 3 times"

    def write(self):
        return self.send("SET", self.key, "x")[1] is None

    def state_ok(self):
        try:
            return parse_info(self.conn(self.observer).call("CLUSTER", "INFO")).get("cluster_state") == "ok"
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


class AckWriter(Writer):
    """Counts the writes a client was told succeeded, then which of them survived the kill (issue 23).

    Keys app:{tag}:ack:<run>:<n> in the victim's slots, back to back (no pause: the writes at risk are
    the last ones before the kill, and a dense stream samples that moment best); odd n plain
    (acknowledged by the master), even n followed by WAIT 1 100 (acknowledged when a replica has it;
    WAIT 0 means the client was told it is on the master only, counted apart). lost() reads them back
    after the layout is restored.
    """

    def __init__(self, cluster, pw, tag, first):
        super().__init__(cluster, pw, f"app:{{{tag}}}:ack", first, first)
        self.run_id = secrets.token_hex(4)
        self.acked = {"plain": [], "wait": []}
        self.master_only = 0  # SET acknowledged, WAIT 1 100 answered 0

    def run(self):
        n = 0
        while not self.stop_event.is_set():
            n += 1
            key = f"{self.key}:{self.run_id}:{n}"
            if n % 2:
                _reply, error = self.send("SET", key, str(n))
                if error is None:
                    self.acked["plain"].append(key)
            else:
                replicas, error = self.send("SET", key, str(n), wait_ms=100)
                if error is None and replicas >= 1:
                    self.acked["wait"].append(key)
                elif error is None:
                    self.master_only += 1
            if error is not None:
                time.sleep(0.01)  # the slot has no master now: ask again shortly, as the failover writer does

    def lost(self):
        """Per kind, how many acknowledged keys are missing now (MGET of 500 at a time, one slot)."""
        missing = {}
        for kind, keys in self.acked.items():
            missing[kind] = 0
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                values, error = self.send("MGET", *chunk)
                if error is not None:
                    sys.exit(f"error: reading back the acknowledged writes failed: {error}")
                missing[kind] += sum(1 for v in values if v is None)
        for address in list(self.conns):
            self.drop(address)
        return missing


def set_timeout(cluster, ms):
    for ip, port in cluster.all_instances():
        cluster.call(ip, port, "CONFIG", "SET", "cluster-node-timeout", ms)


def node_timeouts(cluster):
    """The cluster-node-timeout values (ms) the six instances report now: the page judges a series by them."""
    return sorted(
        {
            int(cluster.call(ip, port, "CONFIG", "GET", "cluster-node-timeout")[1])
            for ip, port in cluster.all_instances()
        }
    )


def restore(cluster, victim, started_by_us):
    """The killed instance back as master of its slots; every node sees a healthy cluster."""
    unit = UNIT.format(port=victim["port"])
    if started_by_us:
        in_container(victim["host"], f"systemctl reset-failed {unit}; systemctl start {unit}")
    deadline = time.monotonic() + 180
    asked = 0.0
    while time.monotonic() < deadline:
        try:
            info = parse_info(cluster.call(victim["ip"], victim["port"], "INFO", "replication"))
            back = info.get("role") == "master" and any(m["id"] == victim["id"] for m in cluster.masters())
        except (OSError, RespError):
            time.sleep(0.5)
            continue
        if back:
            break
        if info.get("master_link_status") == "up" and time.monotonic() - asked > 10:
            with contextlib.suppress(OSError, RespError):
                cluster.call(victim["ip"], victim["port"], "CLUSTER", "FAILOVER")
                asked = time.monotonic()
        time.sleep(0.5)
    else:
        sys.exit(f"error: {victim['host']}:{victim['port']} did not become master again within 180 s")
    cluster.wait_healthy()
    time.sleep(2)


def strike(victim, mode):
    """Kill the victim's process (crash) or freeze its whole container (host-lost).

    Returns (the clock reading the failover time counts from, extra fields for the kill's record). The
    clock starts when the victim can no longer answer, so that a write already under way cannot count as
    the recovery: just after `kill -9` returns (SIGKILL is delivered by then), in the same shell; and
    when `podman pause` returns (the freeze is complete), whose own duration is recorded: a host-lost
    figure can be short by at most that much.
    """
    if mode == "host-lost":
        asked = time.time()
        sh(["podman", "pause", victim["host"]])
        frozen = time.time()
        return frozen, {"pause_command_seconds": round(frozen - asked, 3)}
    unit = UNIT.format(port=victim["port"])
    out = in_container(victim["host"], f'pid="$(systemctl show -P MainPID {unit})" && kill -9 "$pid" && date +%s.%N')
    return float(out.stdout.split()[-1]), {}


def hook_lines(victim, killed):
    """What the role's crash hook logged for this kill (the unit's journal since the kill)."""
    unit = UNIT.format(port=victim["port"])
    out = in_container(
        victim["host"],
        f"journalctl -u {unit} -o cat --no-pager --since @{int(killed) - 1} | grep redis-crash-failover || true",
    )
    return [line for line in out.stdout.splitlines() if line.strip()]


def kill_once(cluster, pw, victim, mode):
    tag = tag_in(victim["slots"])
    key = f"app:{{{tag}}}:failover"
    observer_ip = next(ip for name, ip in cluster.ips.items() if name != victim["host"])
    writer = Writer(cluster, pw, key, (victim["ip"], victim["port"]), (observer_ip, PORTS[0]))
    writer.start()
    counter = AckWriter(cluster, pw, tag, (victim["ip"], victim["port"]))
    counter.start()
    # The counter in full swing before the strike: a second of acknowledged writes.
    time.sleep(ACK_WARMUP_SECONDS)
    if not counter.acked["plain"] or not counter.acked["wait"]:
        sys.exit(f"error: the acknowledged-write counter got no answer from {victim['host']}:{victim['port']}")
    deadline = time.monotonic() + 20
    while not writer.recovered_after(0) and time.monotonic() < deadline:
        time.sleep(0.05)
    if not writer.recovered_after(0):
        sys.exit(f"error: no successful write to {victim['host']}:{victim['port']} before the kill")
    killed, extra = strike(victim, mode)
    deadline = time.monotonic() + 300
    while (recovered := writer.recovered_after(killed)) is None and time.monotonic() < deadline:
        time.sleep(0.02)
    writer.stop_event.set()
    writer.join()
    counter.stop_event.set()
    counter.join()
    if mode == "host-lost":
        sh(["podman", "unpause", victim["host"]])
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
        **extra,
    }
    if record["promoted_replica"]:
        wait_demoted(cluster, victim)
    restore(cluster, victim, started_by_us=False)
    lost = counter.lost()
    record["acked_writes"] = {
        "plain": len(counter.acked["plain"]),
        "wait": len(counter.acked["wait"]),
        "wait_master_only": counter.master_only,
    }
    record["lost_acked_writes"] = lost
    if mode == "crash":
        # The process is back, so its ExecStopPost (the hook) has returned: systemd restarts only after it.
        record["hook"] = hook_lines(victim, killed)
        record["hook_forced"] = any("CLUSTER FAILOVER FORCE sent" in line for line in record["hook"])
    return record


def wait_demoted(cluster, victim):
    """The old master, back (restarted or unpaused), has learnt that its replica took over: it is a replica.

    Until then it may still call itself master (its nodes.conf, or its frozen view), and restore() would
    take that stale answer for the layout being back.
    """
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, RespError):
            if parse_info(cluster.call(victim["ip"], victim["port"], "INFO", "replication")).get("role") == "slave":
                return
        time.sleep(0.2)
    sys.exit(f"error: {victim['host']}:{victim['port']} did not rejoin as a replica within 120 s")


def series(cluster, pw, mode, timeout_ms, kills):
    print(f"==> failover series: {mode}, cluster-node-timeout {timeout_ms} ms, {kills} kills", flush=True)
    set_timeout(cluster, timeout_ms)
    cluster.wait_healthy()
    records = []
    for i in range(kills):
        masters = cluster.masters()
        victim = masters[i % len(masters)]
        # A restarted instance reads its configuration file again: the series' timeout on all six,
        # read back and kept with the kill (the page publishes a series only when every kill saw it).
        set_timeout(cluster, timeout_ms)
        seen = node_timeouts(cluster)
        record = {**kill_once(cluster, pw, victim, mode), "node_timeouts_ms": seen}
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


# ---------------------------------------------------------------- stress (spurious failovers)

# A UDP sender paced to a byte rate, run in each container during the network stress: together with
# the tbf qdisc on eth0 it keeps that queue full, so every packet of the host waits up to the
# qdisc's latency and what does not fit is dropped (a congested link).
FLOOD = """
import socket, sys, time
peer, rate = sys.argv[1], int(sys.argv[2])
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
payload = b"x" * 1000
due = time.monotonic()
while True:
    try:
        sock.sendto(payload, (peer, 9))
    except OSError:
        pass
    due += len(payload) / rate
    pause = due - time.monotonic()
    if pause > 0:
        time.sleep(pause)
    elif pause < -1:
        due = time.monotonic()
"""
# A transient unit per window (kind and timeout in its name), stopped and proved gone after it.
STRESS_UNIT = "bench-stress-{kind}-{timeout_ms}"


def stress_start(kind, timeout_ms, cluster, args):
    """CPU: busy loops in every container (more runnable tasks than cores); network: each container's
    egress shaped by tbf and kept full by a paced UDP sender to the next container."""
    hosts = names()
    unit = STRESS_UNIT.format(kind=kind, timeout_ms=timeout_ms)
    for i, name in enumerate(hosts):
        if kind == "cpu":
            loops = f"for i in $(seq {args.cpu_loops}); do (while :; do :; done) & done; wait"
            in_container(name, f"systemd-run --quiet --collect --unit {unit} sh -c {shlex.quote(loops)}")
        else:
            peer = cluster.ips[hosts[(i + 1) % len(hosts)]]
            rate = args.net_rate_kbit * 1000 // 8
            in_container(
                name,
                f"tc qdisc replace dev eth0 root tbf rate {args.net_rate_kbit}kbit burst 16kb"
                f" latency {args.net_latency_ms}ms && systemd-run --quiet --collect --unit {unit}"
                f" python3 -c {shlex.quote(FLOOD)} {peer} {int(rate * args.net_flood)}",
            )


def stress_stop(kind, timeout_ms):
    """Stop the load and prove it gone (a leftover would load every later figure); for the network stress,
    the qdisc's counters too: (packets sent, packets dropped)."""
    sent = dropped = 0
    unit = STRESS_UNIT.format(kind=kind, timeout_ms=timeout_ms)
    for name in names():
        for _ in range(30):
            in_container(name, f"systemctl kill --signal=KILL {unit}; systemctl stop {unit}", check=False)
            state = in_container(name, f"systemctl is-active {unit}", check=False).stdout.strip()
            if state in ("inactive", "failed", "unknown"):
                break
            time.sleep(1)
        else:
            sys.exit(f"error: the {kind} stress ({unit}) in {name} would not stop; its figures would be loaded")
        if kind == "network":
            out = in_container(name, "tc -s qdisc show dev eth0 && tc qdisc del dev eth0 root", check=False).stdout
            words = out.replace(",", " ").replace("(", " ").replace(")", " ").split()
            with contextlib.suppress(ValueError, IndexError):
                sent += int(words[words.index("Sent") + 3])
                dropped += int(words[words.index("dropped") + 1])
    return sent, dropped


def current_epoch(cluster):
    """The highest cluster_current_epoch any instance reports (each failover election raises it)."""
    epochs = []
    for ip, port in cluster.all_instances():
        with contextlib.suppress(OSError, RespError):
            epochs.append(int(parse_info(cluster.call(ip, port, "CLUSTER", "INFO")).get("cluster_current_epoch", 0)))
    if not epochs:
        sys.exit("error: no instance answers CLUSTER INFO")
    return max(epochs)


def restore_layout(cluster, masters):
    """Every original master is master again (CLUSTER FAILOVER on those that became replicas)."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        now = {m["id"] for m in cluster.masters()}
        back = [m for m in masters if m["id"] not in now]
        if not back:
            cluster.wait_healthy()
            return
        for m in back:
            with contextlib.suppress(OSError, RespError):
                cluster.call(m["ip"], m["port"], "CLUSTER", "FAILOVER")
        time.sleep(3)
    sys.exit("error: the original masters did not take their slots back within 180 s")


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else None


def stress_window(cluster, pw, kind, timeout_ms, args):
    """args.stress_seconds of CPU or network stress with no fault injected: how many failovers it causes.

    Every 0.5 s every instance's CLUSTER NODES is read: a node that was a replica and now holds slots is
    a promotion; a node flagged fail? (suspected by that observer) or fail (agreed by a majority) is
    counted per observer. The cluster's currentEpoch before and after counts elections (a replica that
    starts one raises it, win or lose). A writer on the host keeps writing one key meanwhile: its
    latency and failures show what the stress did to a client.
    """
    print(f"==> stress: {kind}, cluster-node-timeout {timeout_ms} ms, {args.stress_seconds} s", flush=True)
    set_timeout(cluster, timeout_ms)
    cluster.wait_healthy()
    masters = cluster.masters()
    original = {m["id"] for m in masters}
    epoch_before = current_epoch(cluster)
    target = masters[0]
    observer = next(ip for name, ip in cluster.ips.items() if name != target["host"])
    writer = Writer(
        cluster, pw, f"app:{{{tag_in(target['slots'])}}}:stress", (target["ip"], target["port"]), (observer, PORTS[0])
    )
    promoted, suspected, failed = set(), set(), set()
    stress_start(kind, timeout_ms, cluster, args)
    writer.start()
    started = time.monotonic()
    try:
        while time.monotonic() - started < args.stress_seconds:
            for ip, port in cluster.all_instances():
                try:
                    nodes = cluster.nodes(ip, port)
                except (OSError, RespError):
                    continue
                for n in nodes:
                    if n["role"] == "master" and n["slots"] and n["id"] not in original:
                        promoted.add(n["id"])
                    if "fail?" in n["flags"]:
                        suspected.add((f"{ip}:{port}", n["id"]))
                    if "fail" in n["flags"]:
                        failed.add(n["id"])
            time.sleep(0.5)
    finally:
        writer.stop_event.set()
        writer.join()
        sent, dropped = stress_stop(kind, timeout_ms)
    cluster.wait_healthy()
    epoch_after = current_epoch(cluster)
    restore_layout(cluster, masters)
    latencies = [end - start for start, end, ok in writer.timeline if ok]
    record = {
        "kind": kind,
        "cluster_node_timeout_ms": timeout_ms,
        "seconds": args.stress_seconds,
        "node_timeouts_ms": node_timeouts(cluster),
        "promotions": len(promoted),
        "elections": epoch_after - epoch_before,
        "nodes_failed": len(failed),
        "suspicions": len(suspected),
        "writes": len(writer.timeline),
        "failed_writes": sum(1 for _s, _e, ok in writer.timeline if not ok),
        "write_ms_p50": round(percentile(latencies, 0.5) * 1000, 1) if latencies else None,
        "write_ms_p99": round(percentile(latencies, 0.99) * 1000, 1) if latencies else None,
        "write_ms_max": round(max(latencies) * 1000, 1) if latencies else None,
    }
    if kind == "network":
        record |= {"packets_sent": sent, "packets_dropped": dropped}
    print(f"  {record}", flush=True)
    return record


# ---------------------------------------------------------------- report


def median(values):
    return round(statistics.median(values)) if values else None


def fmt(value):
    return "—" if value is None else f"{value:,.0f}"


def throughput_figures(t):
    """Per pipeline and command, from the raw runs: each target's median when its repetitions agree within
    SPREAD_LIMIT (else None, with the spread), and the deployed/baseline ratio when both are published."""
    out = {}
    for pl, per_cmd in t["results"].items():
        out[pl] = {}
        for command, r in per_cmd.items():
            runs = r["runs"]
            cells = {}
            for target, values in runs.items():
                ok = [v for v in values if v]
                cells[target] = {
                    "median": median(ok) if publishable(values) else None,
                    "spread": spread(values),
                    "n": len(ok),
                }
            ratio = None
            if cells["deployed"]["median"] is not None and cells["baseline"]["median"] is not None:
                pairs = [d / b for d, b in zip(runs["deployed"], runs["baseline"], strict=True) if d and b]
                ratio = round(statistics.median(pairs), 3) if pairs else None
            out[pl][command] = {"cells": cells, "ratio": ratio}
    return out


def failover_series(data):
    """Every failover series with its figures computed from its kills, and whether it is published."""
    out = []
    for s in data["failover"]:
        values = [k["seconds"] for k in s["kills"]]
        seen = [k.get("node_timeouts_ms") for k in s["kills"]]
        wrong = [i + 1 for i, t in enumerate(seen) if t is not None and t != [s["cluster_node_timeout_ms"]]]
        timeouts = (
            "not recorded"
            if any(t is None for t in seen)
            else f"kill(s) {', '.join(map(str, wrong))} saw another timeout"
            if wrong
            else "verified"
        )
        out.append(
            {
                "timeouts": timeouts,
                "mode": s["mode"],
                "timeout_ms": s["cluster_node_timeout_ms"],
                "budget": round(s["cluster_node_timeout_ms"] / 1000 + 1, 1),
                "kills": len(values),
                "min": min(values),
                "median": round(statistics.median(values), 3),
                "max": max(values),
                "promoted": sum(1 for k in s["kills"] if k["promoted_replica"]),
                "hook_forced": sum(1 for k in s["kills"] if k.get("hook_forced")),
                "spread": spread(values),
                "published": publishable(values) and not wrong,
            }
        )
    return out


def verdicts(data):
    """Every conclusion of the page, computed from the raw runs and kills."""
    figures = throughput_figures(data["throughput"])
    ratios = [c["ratio"] for pl in figures.values() for c in pl.values()]
    published = [r for r in ratios if r is not None]
    cost = (
        round((1 - statistics.median(published)) * 100, 1) if published and len(published) * 2 >= len(ratios) else None
    )
    p1 = {c: figures["P1"][c]["cells"]["deployed"]["median"] for c in ("SET", "GET") if c in figures["P1"]}
    low, high = data.get("seed", {}).get("ops_per_second_per_node", SEED_OPS)
    if any(v is None for v in p1.values()) or not p1:
        seed = "not published"
    elif min(p1.values()) >= low:
        seed = "at or above"
    else:
        seed = "below"
    off = throughput_figures(data["throughput_tls_off"]) if data.get("throughput_tls_off") else None
    tls_ratios = []
    if off:
        for pl, per_cmd in figures.items():
            for command, f in per_cmd.items():
                on_m = f["cells"]["deployed"]["median"]
                off_m = off.get(pl, {}).get(command, {}).get("cells", {}).get("deployed", {}).get("median")
                f["tls_ratio"] = round(on_m / off_m, 3) if on_m and off_m else None
                f["off"] = off.get(pl, {}).get(command)
                tls_ratios.append(f["tls_ratio"])
    tls_published = [r for r in tls_ratios if r is not None]
    tls_cost = (
        round((1 - statistics.median(tls_published)) * 100, 1)
        if tls_published and len(tls_published) * 2 >= len(tls_ratios)
        else None
    )
    series = failover_series(data)
    target = data.get("seed", {}).get("failover_seconds_max", SEED_FAILOVER)
    # Lost-host series are judged against "node timeout + 1 s"; the seed's 1 s on the crash path's median.
    fo = [s for s in series if s["mode"] == "host-lost" and s["published"]]
    crash = next((s for s in series if s["mode"] == "crash" and s["published"]), None)
    return {
        "ratios_published": len(published),
        "ratios": len(ratios),
        "cost_percent": cost,
        "seed_ops": seed,
        "seed_range": (low, high),
        "p1_setget": p1,
        "failover_target": target,
        "failover_meets_seed": crash is not None and crash["median"] <= target,
        "crash": crash,
        "failover_published": fo,
        "within_budget": [s for s in fo if s["median"] <= s["budget"]],
        "over_budget": [s for s in fo if s["median"] > s["budget"]],
        "series": series,
        "figures": figures,
        "tls_measured": off is not None,
        "tls_cost_percent": tls_cost,
        "tls_ratios_published": len(tls_published),
        "tls_ratios": len(tls_ratios),
        "acked": acked_loss(data),
        "stress": stress_verdict(data, series),
    }


def acked_loss(data):
    """Per failover series: writes acknowledged during its kills and how many of them were gone after."""
    out = []
    for s in data["failover"]:
        kills = [k for k in s["kills"] if "acked_writes" in k]
        if not kills:
            continue
        out.append(
            {
                "mode": s["mode"],
                "timeout_ms": s["cluster_node_timeout_ms"],
                "kills": len(kills),
                "plain": sum(k["acked_writes"]["plain"] for k in kills),
                "plain_lost": sum(k["lost_acked_writes"]["plain"] for k in kills),
                "wait": sum(k["acked_writes"]["wait"] for k in kills),
                "wait_lost": sum(k["lost_acked_writes"]["wait"] for k in kills),
                "master_only": sum(k["acked_writes"]["wait_master_only"] for k in kills),
            }
        )
    return out


def stress_verdict(data, series):
    """The stress windows per timeout, and the timeout they justify: the lowest one (fastest failover) at
    or above the role's floor whose every window saw no promotion and no election, and whose host-lost
    series is published. None when no timeout qualifies (or the run had no stress)."""
    windows = data.get("stress", [])
    floor = data.get("deployment", {}).get("role_timeout_floor_ms", 1000)
    published = {s["timeout_ms"] for s in series if s["mode"] == "host-lost" and s["published"]}
    by_timeout = {}
    for w in windows:
        by_timeout.setdefault(w["cluster_node_timeout_ms"], []).append(w)
    rows = []
    for ms in sorted(by_timeout):
        ws = by_timeout[ms]
        spurious = sum(w["promotions"] for w in ws)
        elections = sum(w["elections"] for w in ws)
        verified = all(w.get("node_timeouts_ms") == [ms] for w in ws)
        row = {
            "timeout_ms": ms,
            "spurious": spurious,
            "elections": elections,
            "complete": {w["kind"] for w in ws} == {"cpu", "network"} and verified,
            "series_published": ms in published,
        }
        row["qualifies"] = (
            spurious == 0 and elections == 0 and row["complete"] and row["series_published"] and ms >= floor
        )
        rows.append(row)
    qualified = [r["timeout_ms"] for r in rows if r["qualifies"]]
    deployed = data.get("deployment", {}).get("node_timeout_ms", DEPLOYED_TIMEOUT)
    return {
        "windows": windows,
        "rows": rows,
        "floor": floor,
        "recommended": min(qualified) if qualified else None,
        "deployed": deployed,
    }


def _tables(v):
    """The throughput and failover table rows."""

    def cell(c):
        if c["n"] == 0:
            return "—"
        if c["median"] is None:
            return f"not published ({c['spread']}× apart)"
        return fmt(c["median"])

    def ratio(value):
        return "—" if value is None else f"{value:.2f}"

    none = {"n": 0}
    rows = []
    for pl in ("P1", "P16"):
        for command, f in v["figures"][pl].items():
            cells = f["cells"]
            off = (f.get("off") or {}).get("cells", {})
            rows.append(
                f"| {command} | {pl[1:]} | {cell(cells['baseline'])} | {cell(off.get('deployed', none))} "
                f"| {cell(cells['deployed'])} | {ratio(f.get('tls_ratio'))} | {ratio(f['ratio'])} "
                f"| {cell(off.get('cluster', none))} | {cell(cells['cluster'])} |"
            )
    fo_rows = []
    for s in v["series"]:
        label = MODES[s["mode"]]["label"]
        figures = f"{s['min']:.2f} | {s['median']:.2f} | {s['max']:.2f}" if s["published"] else "not published | — | —"
        fo_rows.append(
            f"| {label} | {s['timeout_ms']} | {s['kills']} | {figures} | {s['promoted']}/{s['kills']} | {s['budget']} "
            f"| {s['timeouts']} |"
        )
    return rows, fo_rows


def _head(*columns):
    """A markdown table's header and separator lines."""
    return "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns)


def _loss_rows(v):
    return [
        f"| {MODES[a['mode']]['label']} | {a['timeout_ms']} | {a['kills']} | {a['plain']:,} | {a['plain_lost']:,} "
        f"| {a['wait']:,} | {a['wait_lost']:,} | {a['master_only']:,} |"
        for a in v["acked"]
    ]


def _stress_rows(v):
    rows = []
    for w in v["stress"]["windows"]:
        latency = (
            "—" if w["write_ms_p50"] is None else f"{w['write_ms_p50']} / {w['write_ms_p99']} / {w['write_ms_max']}"
        )
        dropped = (
            f"{w['packets_dropped']:,} of {w['packets_sent'] + w['packets_dropped']:,}"
            if w["kind"] == "network"
            else "—"
        )
        rows.append(
            f"| {w['cluster_node_timeout_ms']} | {w['kind']} | {w['seconds']} | {w['promotions']} | {w['elections']} "
            f"| {w['nodes_failed']} | {w['suspicions']} | {w['failed_writes']:,} / {w['writes']:,} | {latency} "
            f"| {dropped} |"
        )
    return rows


def _loss_text(v):
    """The acknowledged-write conclusion (zh-CN, English), computed."""
    if not v["acked"]:
        return "本次运行没有统计确认写入。", "This run did not count acknowledged writes."
    zh, en = [], []
    for a in v["acked"]:
        label = f"{a['mode']} {a['timeout_ms']} ms"
        zh.append(
            f"{label}：普通写入确认 {a['plain']:,} 次、丢失 {a['plain_lost']:,} 次；"
            f"WAIT 1 100 确认 {a['wait']:,} 次、丢失 {a['wait_lost']:,} 次"
        )
        en.append(
            f"{label}: {a['plain_lost']:,} of {a['plain']:,} plain acknowledged writes lost, "
            f"{a['wait_lost']:,} of {a['wait']:,} WAIT-acknowledged"
        )
    lost_plain = sum(a["plain_lost"] for a in v["acked"])
    lost_wait = sum(a["wait_lost"] for a in v["acked"])
    return (
        "确认写入丢失（每次 kill 后按键读回）：" + "；".join(zh) + f"。合计普通 {lost_plain:,}、WAIT {lost_wait:,}。",
        "Acknowledged writes lost (read back by key after each kill): "
        + "; ".join(en)
        + f". In all: {lost_plain:,} plain, {lost_wait:,} WAIT.",
    )


def _stress_text(v, data):
    """The node-timeout choice (zh-CN, English), computed from the stress windows and host-lost series."""
    st = v["stress"]
    if not st["windows"]:
        return "本次运行没有压力测试。", "This run had no stress windows."
    settings = data.get("stress_settings", {})
    per = "; ".join(
        f"{r['timeout_ms']} ms: {r['spurious']} promotion(s), {r['elections']} election(s)" for r in st["rows"]
    )
    per_zh = "；".join(f"{r['timeout_ms']} ms：提升 {r['spurious']} 次、选举 {r['elections']} 次" for r in st["rows"])
    rec, deployed = st["recommended"], st["deployed"]
    if rec is None:
        choice_en = (
            f"no measured timeout at or above the role's floor of {st['floor']} ms stayed free of spurious"
            " failovers with a published host-lost series: the default is not chosen by this run"
        )
        choice_zh = (
            f"没有不低于角色下限 {st['floor']} ms 的超时在压力下无误切换且其主机丢失系列可发布：本次不据此选择默认值"
        )
    else:
        agree = rec == deployed
        choice_en = (
            f"the fastest failover with no spurious failover under both stresses is at {rec} ms"
            f" (lowest qualifying timeout at or above the role's floor of {st['floor']} ms); this run deployed"
            f" {deployed} ms (the role's default when it ran)"
            + (
                ""
                if agree
                else "; the role's default is kept equal to this run's choice by tests/test_benchmark_pages.py"
            )
        )
        choice_zh = (
            f"两种压力下均无误切换且故障切换最快的是 {rec} ms（不低于角色下限 {st['floor']} ms 的最低合格值）；"
            f"本次运行部署的是 {deployed} ms（运行时的角色默认值）"
            + ("" if agree else "；tests/test_benchmark_pages.py 使角色默认值与本次选择保持一致")
        )
    stress_en = (
        f"{settings.get('seconds')} s per window; CPU: {settings.get('cpu_loops_per_container')} busy loops in each"
        f" container; network: each container's eth0 shaped to {settings.get('net_rate_kbit')} kbit/s (tbf, queue"
        f" latency {settings.get('net_latency_ms')} ms) and loaded to {settings.get('net_flood')}× that rate by a"
        " paced UDP sender (queueing delay; drops only when the queue overflows: last column)"
    )
    stress_zh = (
        f"每个窗口 {settings.get('seconds')} 秒；CPU：每个容器 {settings.get('cpu_loops_per_container')} 个忙循环；"
        f"网络：每个容器的 eth0 限速 {settings.get('net_rate_kbit')} kbit/s"
        f"（tbf，队列时延 {settings.get('net_latency_ms')} ms），"
        f"并由 UDP 流量占用该速率的 {settings.get('net_flood')} 倍"
        "（排队时延；队列溢出时才丢包，见最后一列）"
    )
    return (
        f"误切换（无故障注入，{stress_zh}）：{per_zh}；{choice_zh}。",
        f"Spurious failovers (no fault injected; {stress_en}): {per}; {choice_en}.",
    )


def _throughput_text(data, v):
    """The throughput conclusions (zh-CN, English), computed."""
    m = data["machine"]
    cores = m["nproc"]
    low, high = v["seed_range"]
    seed_ref = f"{low // 1000}–{high // 1000}k"
    p1 = " / ".join(f"{c} {fmt(x)}" for c, x in v["p1_setget"].items()) or "—"
    if v["cost_percent"] is None:
        cost_zh = (
            f"不发布：{v['ratios']} 个部署/基线比值中只有 {v['ratios_published']} 个来自重复测量相差不超过 "
            f"{SPREAD_LIMIT:.0f} 倍的数字，需要在空闲机器上重新运行。"
        )
        cost_en = (
            f"not published: only {v['ratios_published']} of the {v['ratios']} deployed/baseline ratios come from "
            f"figures whose repetitions agree within {SPREAD_LIMIT:.0f}×; re-run needed on an idle machine."
        )
    else:
        cost_zh = f"约 {v['cost_percent']}%（{v['ratios']} 个比值中 {v['ratios_published']} 个可发布，取其中位数）。"
        cost_en = (
            f"about {v['cost_percent']}% (median of the {v['ratios_published']} publishable ratios of {v['ratios']})."
        )
    seed_zh = {"below": f"低于 {seed_ref} 的参考值", "at or above": f"达到 {seed_ref} 的参考值"}.get(
        v["seed_ops"], "不发布（重复测量相差过大）"
    )
    seed_en = {
        "below": f"below the seed's {seed_ref} reference",
        "at or above": f"at or above the seed's {seed_ref}",
    }.get(v["seed_ops"], "not published (repetitions too far apart)")
    busy = m["load_average_at_start"][0] > cores
    where_zh = (
        f"客户端与六个服务器共用同一台 {cores} 核机器"
        + (f"，且开始时负载 {m['load_average_at_start'][0]} 高于核数" if busy else "")
        + "，这不是种子文件所指的生产服务器"
    )
    where_en = (
        f"the client and all six servers share one {cores}-core machine"
        + (f", whose load ({m['load_average_at_start'][0]}) was above its cores at the start" if busy else "")
        + "; these are not the production servers the seed means"
    )
    return {
        "p1": p1,
        "cost_zh": cost_zh,
        "cost_en": cost_en,
        "seed_zh": seed_zh,
        "seed_en": seed_en,
        "where_zh": where_zh,
        "where_en": where_en,
    }


def _crash_text(v):
    """The crash path's conclusion (English, zh-CN), computed; empty when the run had no crash series."""
    crash = [s for s in v["series"] if s["mode"] == "crash"]
    if not crash:
        return "", ""
    s, target = crash[0], v["failover_target"]
    if not s["published"]:
        return (
            f"Crash path (kill -9, hook): not published (see below); the ≤ {target:g} s goal is not judged.",
            f"崩溃路径（kill -9，钩子）：不发布（见下文），不判定 ≤ {target:g} 秒的目标。",
        )
    figures = f"{s['min']:.2f}/{s['median']:.2f}/{s['max']:.2f} s"
    if s["median"] <= target:
        goal_en, goal_zh = f"median within the {target:g} s goal", f"中位数达到 ≤ {target:g} 秒的目标"
    else:
        missed = s["median"] - target
        goal_en = f"median {missed:.2f} s over the {target:g} s goal"
        goal_zh = f"中位数比 ≤ {target:g} 秒的目标多 {missed:.2f} 秒"
    return (
        f"Crash path (kill -9 of a master's process, the role's hook): {figures} over {s['kills']} kills, {goal_en};"
        f" the hook forced the failover in {s['hook_forced']} of {s['kills']} kills, a replica served the slot"
        f" after {s['promoted']} of them.",
        f"崩溃路径（kill -9 主节点进程，角色的钩子）：{s['kills']} 次 {figures}，{goal_zh}；"
        f"{s['kills']} 次中钩子强制切换 {s['hook_forced']} 次，{s['promoted']} 次由副本接管该槽。",
    )


def _failover_text(v):
    """The failover conclusions (zh-CN, English), computed."""
    fo_text = (
        "; ".join(
            f"{s['timeout_ms']} ms → {s['min']:.2f}/{s['median']:.2f}/{s['max']:.2f} s" for s in v["failover_published"]
        )
        or "no published series"
    )
    fo_text = f"host lost: {fo_text}"
    meets = v["failover_meets_seed"]
    over = ", ".join(f"{s['timeout_ms']} ms (median {s['median']:.2f} s > {s['budget']} s)" for s in v["over_budget"])
    within = ", ".join(f"{s['timeout_ms']} ms" for s in v["within_budget"])
    budget_en = (
        (f"Above node timeout + 1 s at {over}. " if over else "")
        + (f"Within node timeout + 1 s at {within}." if within else "")
    ).strip()
    budget_zh = (f"超过“节点超时 + 1 秒”：{over}。" if over else "") + (
        f"在“节点超时 + 1 秒”之内：{within}。" if within else ""
    )
    crash_en, crash_zh = _crash_text(v)
    withheld = []
    for s in v["series"]:
        if s["published"]:
            continue
        why_en, why_zh = [], []
        if s["spread"] > SPREAD_LIMIT:
            why_en.append(
                f"its kills disagree by {s['spread']}× (more than {SPREAD_LIMIT:.0f}×: {s['min']:.2f}–{s['max']:.2f} s)"
            )
            why_zh.append(f"各次结果相差 {s['spread']} 倍（超过 {SPREAD_LIMIT:.0f} 倍）")
        if s["timeouts"] not in ("verified", "not recorded"):
            why_en.append(f"{s['timeouts']} than its {s['timeout_ms']} ms")
            why_zh.append(f"有的 kill 时节点超时不是 {s['timeout_ms']} ms")
        withheld.append(
            f"\n**不发布 / Not published:** {s['mode']} 系列 {s['timeout_ms']} ms：{'；'.join(why_zh)}，需要重新运行。"
            f" The {s['mode']} series at {s['timeout_ms']} ms: {'; '.join(why_en)}; re-run needed.\n"
        )
    withheld_en = "".join(withheld)
    unrecorded = [s for s in v["series"] if s["timeouts"] == "not recorded"]
    timeouts_en = (
        "This run did not record the cluster-node-timeout in force at each kill (last column): a series'"
        " timeout is the one the script set, not one it read back."
        if unrecorded
        else "Before every kill the script read the timeout back from all six instances (last column)."
    )
    timeouts_zh = (
        "本次运行没有记录每次 kill 时实际生效的节点超时（见表最后一列）：系列的超时是脚本设置的值，而不是读回的值。"
        if unrecorded
        else "每次 kill 前脚本从六个实例读回节点超时（见表最后一列）。"
    )
    modes = list(dict.fromkeys(s["mode"] for s in v["series"]))
    target = v["failover_target"]
    return {
        "fo_text": fo_text,
        "meets": meets,
        "meets_zh": f"{'达到' if meets else '未达到'}种子文件 ≤ {target:g} 秒的目标（判定依据为崩溃路径的中位数）。",
        "meets_en": f"the seed's ≤ {target:g} s, judged on the crash path's median: {'met' if meets else 'not met'}.",
        "method_zh": "\n".join(MODES[m]["zh"] for m in modes),
        "method_en": "\n".join(MODES[m]["en"] for m in modes),
        "budget_zh": budget_zh,
        "budget_en": budget_en,
        "crash_zh": crash_zh,
        "crash_en": crash_en,
        "withheld": withheld_en,
        "timeouts_zh": timeouts_zh,
        "timeouts_en": timeouts_en,
    }


def markdown(data):
    t = data["throughput"]
    v = verdicts(data)
    m = data["machine"]
    deployment = data.get("deployment", {"hosts": HOSTS, "ports": PORTS, "node_timeout_ms": DEPLOYED_TIMEOUT})

    # Runs from before this field existed deployed without TLS.
    tls_text = (
        "on (clients, replication, cluster bus; `redis_tls_enabled: true` with the role's own CA, as the lab and"
        " molecule/redis deploy it)"
        + (
            "; the TLS-off throughput comes from a second deployment of the same role with `redis_tls_enabled: false`"
            if v["tls_measured"]
            else ""
        )
        if deployment.get("tls", False)
        else "off (`redis_tls_enabled: false`; the lab and molecule/redis run with TLS on, not measured here)"
    )
    rows, fo_rows = _tables(v)
    tp = _throughput_text(data, v)
    fo = _failover_text(v)
    loss_zh, loss_en = _loss_text(v)
    stress_zh, stress_en = _stress_text(v, data)
    if v["tls_cost_percent"] is not None:
        tls_zh = (
            f"TLS 对单节点吞吐的代价：约 {v['tls_cost_percent']}%（{v['tls_ratios']} 个 TLS 开/关比值中"
            f" {v['tls_ratios_published']} 个可发布，取其中位数；两次部署相隔数分钟，比值为两者中位数之比）。"
        )
        tls_en = (
            f"TLS costs about {v['tls_cost_percent']}% of per-node throughput (median of the"
            f" {v['tls_ratios_published']} publishable TLS on/off ratios of {v['tls_ratios']}; the two deployments ran"
            " minutes apart, so each ratio is of the two medians)."
        )
    elif v["tls_measured"]:
        tls_zh = "TLS 的代价：不发布（可发布的开/关比值不足一半），需要重新运行。"
        tls_en = "TLS cost: not published (fewer than half of the on/off ratios are publishable); re-run needed."
    else:
        tls_zh, tls_en = "本次运行没有测量 TLS 关闭时的吞吐。", "This run did not measure throughput with TLS off."
    tp_head = _head(
        "command",
        "pipeline",
        "baseline",
        "deployed TLS off",
        "deployed TLS on",
        "TLS on / off",
        "TLS on / baseline",
        "cluster TLS off",
        "cluster TLS on",
    )
    loss_head = _head(
        "kill",
        "node timeout (ms)",
        "kills",
        "plain acknowledged",
        "plain lost",
        "WAIT 1 100 acknowledged",
        "WAIT lost",
        "WAIT answered 0 (master only)",
    )
    stress_head = _head(
        "node timeout (ms)",
        "stress",
        "seconds",
        "promotions",
        "elections",
        "nodes marked fail",
        "suspicions (fail?)",
        "failed writes / writes",
        "write ms p50 / p99 / max",
        "packets dropped",
    )
    loss_rows = "\n".join(_loss_rows(v)) or "| — | — | — | — | — | — | — | — |"
    stress_rows = "\n".join(_stress_rows(v)) or "| — | — | — | — | — | — | — | — | — | — |"
    p16 = t.get("requests_pipeline_16")
    p16_text = f"-n {p16}" if p16 else "-n not recorded"
    errors = "\n".join(f"- `{k}`: {e}" for k, e in t["errors"].items()) or "- none"
    deployed = (
        f"deployed in {data['deploy_seconds']} s"
        if data.get("deploy_seconds")
        else "deployed by an earlier run of the script on the same containers (--reuse)"
    )
    auth_zh = (
        "redis-benchmark 不读取 REDISCLI_AUTH，因此密码写入容器内仅 root 可读的文件，在容器内的 `sh -c` 中以"
        ' `-a "$(cat 文件)"` 传入（不出现在宿主机命令行与日志中；运行期间在容器内的进程参数中可见）'
        if "ignores" in t["auth"]
        else "经 REDISCLI_AUTH 环境变量传入"
    )
    duration = f" This run took {round(data['duration_seconds'] / 60)} min." if data.get("duration_seconds") else ""
    return f"""# Redis 集群基准 / Redis Cluster benchmark (issue 4)

由 `scripts/bench/redis.py` 根据 `redis.json` 生成（`--report` 不运行任何东西即可重建）；请勿手工修改。
Generated by `scripts/bench/redis.py` from `redis.json` (`--report` rebuilds it without running anything);
do not edit by hand. Measured on {data["date"]}.

- 本次命令 / this run: `{data["command"]}`
- {machine_line(m)}
- Versions: kernel {m["kernel"]}; {m["ansible"]}; {m["podman"]}; image {m["image"]}; {data["redis_version"]}.
- 部署 / deployment: roles/redis on {deployment["hosts"]} containers × ports {deployment["ports"]}
  (one replica per master, each on another host), cluster-node-timeout {deployment["node_timeout_ms"]} ms,
  TLS {tls_text},
  {deployed}; the role's acceptance checks passed before measuring.
- 发布规则 / publication rule: a figure whose repetitions disagree by more than {SPREAD_LIMIT:.0f}× is not
  published ("not published", re-run needed); every repetition is in `redis.json`.

## 中文

**方法。** 吞吐：在 {t["container"]} 容器内用 `redis-benchmark` 分别压测 (a) 部署的集群中该容器上的主节点
（应用用户 `app`，键 `{t["key_prefix"]}:…` 的哈希标签落在该主节点的槽内，所有请求由这一个节点处理，即单节点数字），
(b) 同一容器中脚本启动的默认 `redis-server --port {BASELINE_PORT} --save '' --appendonly no`（无持久化、无 ACL）；
相同命令、-c {t["clients"]}、-r {t["keyspace"]}，流水线 1（-n {t["requests"]}）与 16（{p16_text}），
基线与部署背靠背各 {t["reps"]} 次；ops/s 取中位数，比值为每轮比值的中位数；
(c) 为 `redis-benchmark --cluster` 经三个主节点的整体数字。
部署按实验室方式开启 TLS（客户端、复制、集群总线），redis-benchmark 以节点证书做客户端证书；
为比较，脚本先在另一组新容器上以 `redis_tls_enabled: false` 部署同一角色，测同样的吞吐，再删除。
密码：{auth_zh}。
故障切换：每次选一个主节点（轮流），主机上的写入程序以 `app` 用户每 10 ms 写一次落在该主节点槽内的键
（跟随 MOVED）；故障切换时间 = 从 kill 到该键写入再次成功且另一主机上节点的 `CLUSTER INFO` 为 `cluster_state:ok`。
{fo["method_zh"]}
之后旧主节点须以副本身份重新加入，再用 `CLUSTER FAILOVER` 恢复原布局，全部节点健康后才进行下一次。
cluster-node-timeout 通过 `CONFIG SET` 在六个实例上设置（即角色变量 `redis_cluster_node_timeout`），
每次 kill 前重设。
确认写入：每次 kill 前约一秒起，另一个写入程序不间断地向同一主节点的槽写入新键，奇数键为普通写入（主节点确认），
偶数键写后执行 `WAIT 1 100`（至少一个副本确认才算确认；返回 0 即“只在主节点上”，单独计数）；
布局恢复后按键读回，缺失的即为丢失的确认写入。
误切换：每个节点超时下，不注入故障，分别施加 CPU 压力与网络拥塞（本机内核未编译 netem
——`CONFIG_NET_SCH_NETEM` 未设置且不支持模块——因此以 tbf 限速加按速率发送的 UDP 流量模拟拥塞链路：
排队时延，队列溢出时丢包，而非固定时延），每 0.5 秒读取全部实例的 `CLUSTER NODES`，统计副本被提升（提升）、
`cluster_current_epoch` 的增加（选举，无论成败）以及被标记 fail?/fail 的节点；期间主机上的写入程序记录写入延迟。

**结论（由本次数字计算）。** 加固、持久化与 TLS（按部署）相对默认实例的吞吐代价：{tp["cost_zh"]}
{tls_zh}
流水线 1 时单节点（TLS 开）{tp["p1"]} ops/s，{tp["seed_zh"]}；{tp["where_zh"]}。
故障切换（可发布系列的最小/中位/最大）：{fo["fo_text"]}；
{fo["meets_zh"]}
{fo["budget_zh"]}
{fo["crash_zh"]}
{loss_zh}
{stress_zh}

## English

**Method.** Throughput: inside container {t["container"]}, `redis-benchmark` against (a) *deployed* — the
cluster master instance of that container, as the application ACL user `app`, keys `{t["key_prefix"]}:…`
whose hash tag lies in that master's slots, so one node serves every request (a per-node figure) — and
(b) *baseline* — a default `redis-server --port {BASELINE_PORT} --save '' --appendonly no` the script
starts in the same container (no persistence, no ACL). Same commands, -c {t["clients"]}, -r {t["keyspace"]},
pipeline 1 (-n {t["requests"]}) and 16 ({p16_text}), baseline and deployed back to back, {t["reps"]}
repetitions; ops/s are medians, the ratio is the median of the per-repetition ratios. (c) *cluster* is
`redis-benchmark --cluster` over all three masters.
The cluster runs with TLS on (clients, replication, cluster bus) as the lab deploys it; redis-benchmark
presents a node certificate as its client certificate. For the comparison the script first deploys the same
role with `redis_tls_enabled: false` on fresh containers of its own, measures the same throughput, and removes
them.
Password: {t["auth"]}; never on the host's command line or in a log, visible in the container's
process list while redis-benchmark runs.
Failover: a master is chosen (each in turn) while a writer on the host writes, as `app`, a key in that
master's slots every 10 ms (following MOVED). Failover time = from the kill until that write succeeds again
and `CLUSTER INFO` of a node on another host says `cluster_state:ok`.
{fo["method_en"]}
The old master must then rejoin as a replica, `CLUSTER FAILOVER` restores the layout, and every node must see
a healthy cluster before the next kill. cluster-node-timeout is set with `CONFIG SET` on all six instances
(what `redis_cluster_node_timeout` templates), again before every kill.
Acknowledged writes: during each kill a second writer puts new keys in the same master's slots back to back
(from about a second before the kill);
odd keys are plain writes (acknowledged by the master), even keys are followed by `WAIT 1 100` (acknowledged
only when a replica has it; a 0 answer — "on the master only" — is counted apart). Once the layout is
restored every acknowledged key is read back; a missing one is a lost acknowledged write.
Spurious failovers: at each node timeout, with no fault injected, a CPU stress and a network congestion
window each. This kernel has no netem (`CONFIG_NET_SCH_NETEM` is not set and modules are not supported), so
the congested link is tbf shaping loaded by paced UDP traffic: queueing delay, and drops when the queue
overflows, not a fixed delay.
Every 0.5 s every instance's `CLUSTER NODES` is read: a replica that takes slots (promotion), a rise of
`cluster_current_epoch` (an election, won or lost), and nodes flagged fail?/fail are counted; a writer on the
host records write latency meanwhile.

### Throughput (ops/s, median of {t["reps"]})

{tp_head}
{chr(10).join(rows)}

baseline = default `redis-server` (no persistence, no ACL, no TLS); deployed = the role's master instance
{t["deployed_instance"]}, as `app` (one master: a per-node figure); cluster = `redis-benchmark --cluster`
over the three masters (replication to the replicas included). TLS on / baseline pairs each repetition with
the baseline run next to it; TLS on / off is the ratio of the two deployments' medians. A ratio is shown only
when both of its figures are published.
Errors (a missing figure above):
{errors}

### Failover (seconds from the kill or pause until a write to the master's slots succeeds and the cluster is ok)

| kill | node timeout (ms) | kills | min | median | max | replica took over | timeout + 1 s | timeout at each kill |
|---|---|---|---|---|---|---|---|---|
{chr(10).join(fo_rows)}

Seed's target: ≤ {v["failover_target"]:g} s. Per-kill figures are in `redis.json`. {fo["timeouts_en"]}
{fo["timeouts_zh"]}
{fo["withheld"]}
### Acknowledged writes during the kills (summed over each series' kills)

{loss_head}
{loss_rows}

### Spurious failovers under stress (no fault injected)

{stress_head}
{stress_rows}

Suspicions count (observer, node) pairs seen flagged fail? during the window; a promotion or an election
is a failover (attempt) that no fault called for. Packets: the tbf qdiscs' counters of the three containers.

**Verdict (computed from this run's figures).** Throughput cost of hardening, persistence and TLS (as
deployed) against a default instance: {tp["cost_en"]} {tls_en}
Per node with TLS on, pipeline 1: {tp["p1"]} ops/s, {tp["seed_en"]}; {tp["where_en"]}.
Failover (min/median/max of the published series): {fo["fo_text"]}; {fo["meets_en"]}
{fo["budget_en"]}
{fo["crash_en"]}
{loss_en}
{stress_en}

Background (Redis Cluster's documented design, not measured here): a replica promotes itself only after
cluster-node-timeout, failure reports from a majority of masters and its election delay, so a failover
always takes longer than the node timeout; a timeout low enough for ≤ 1 s risks false failovers on a
loaded host or network. The crash path does not wait for that: the host whose process died knows at once.

## Re-run / 重新运行

```sh
source scripts/lib.sh
python3 scripts/bench/redis.py      # 3 reps; crash: 10 kills; host lost: 5 each at 5000,2000,1000,500 ms;
                                    # a 60 s CPU and a 60 s network stress window at each of those timeouts
python3 scripts/bench/redis.py --crash-kills 20 --kills 10 --timeouts 5000,1000 --reps 5
python3 scripts/bench/redis.py --report              # this page again from redis.json
```

Containers bench-redis-1..3 and network bench-redis are the script's own and are removed at the end
(`--keep` leaves them).{duration}
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
    parser.add_argument("--kills", type=int, default=5, help="kills per host-lost series (default 5)")
    parser.add_argument("--crash-kills", type=int, default=10, help="kills of the crash series (default 10; 0 skips)")
    parser.add_argument(
        "--timeouts",
        default="5000,2000,1000,500",
        help="cluster-node-timeout values (ms), one host-lost series each (default 5000,2000,1000,500)",
    )
    parser.add_argument(
        "--stress-seconds",
        type=int,
        default=60,
        help="seconds of each CPU / network stress window (default 60; 0 skips)",
    )
    parser.add_argument("--cpu-loops", type=int, default=8, help="busy loops per container, CPU stress (default 8)")
    parser.add_argument("--net-rate-kbit", type=int, default=10000, help="tbf rate of each eth0 (default 10000)")
    parser.add_argument("--net-latency-ms", type=int, default=100, help="tbf queue latency (default 100)")
    parser.add_argument(
        "--net-flood", type=float, default=0.9, help="paced UDP load as a fraction of the tbf rate (default 0.9)"
    )
    parser.add_argument("--keep", action="store_true", help="leave the containers running")
    parser.add_argument("--reuse", action="store_true", help="measure kept containers again (no create, no deploy)")
    parser.add_argument("--report", action="store_true", help="rebuild redis.md from redis.json, run nothing")
    return parser.parse_args()


def main():
    args = parse_args()
    if args.report:
        benchlib.report("redis", markdown)
        return
    if "CONTAINERS_CONF" not in os.environ:
        sys.exit("error: CONTAINERS_CONF is not set. Fix: `source scripts/lib.sh` first.")
    timeouts = [int(x) for x in args.timeouts.split(",") if x.strip()]
    started = time.monotonic()
    data = {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": "python3 scripts/bench/redis.py " + " ".join(sys.argv[1:]),
        "machine": benchlib.machine(),
        "seed": {"ops_per_second_per_node": list(SEED_OPS), "failover_seconds_max": SEED_FAILOVER},
        "deployment": {
            "hosts": HOSTS,
            "ports": PORTS,
            "node_timeout_ms": DEPLOYED_TIMEOUT,
            "tls": True,
            "role_timeout_floor_ms": ROLE_TIMEOUT_FLOOR,
        },
        "stress_settings": {
            "seconds": args.stress_seconds,
            "cpu_loops_per_container": args.cpu_loops,
            "net_rate_kbit": args.net_rate_kbit,
            "net_latency_ms": args.net_latency_ms,
            "net_flood": args.net_flood,
        },
    }
    pw = passwords(args.reuse)
    try:
        if not args.reuse:
            # TLS off first, throughput only, on containers of its own; then TLS on, as deployed.
            cluster, data["deploy_seconds_tls_off"] = phase(False, pw, deploy_it=True)
            print("==> throughput, TLS off", flush=True)
            data["throughput_tls_off"] = throughput(cluster, pw, args, tls=False)
        cluster, data["deploy_seconds"] = phase(True, pw, deploy_it=not args.reuse)
        data["redis_version"] = in_container(names()[0], "redis-server --version").stdout.strip().split(" sha=")[0]
        print("==> throughput, TLS on", flush=True)
        data["throughput"] = throughput(cluster, pw, args, tls=True)
        data["failover"] = []
        data["stress"] = []
        if args.crash_kills:
            data["failover"].append(series(cluster, pw, "crash", DEPLOYED_TIMEOUT, args.crash_kills))
        for ms in timeouts:
            data["failover"].append(series(cluster, pw, "host-lost", ms, args.kills))
            if args.stress_seconds:
                for kind in ("cpu", "network"):
                    data["stress"].append(stress_window(cluster, pw, kind, ms, args))
        set_timeout(cluster, DEPLOYED_TIMEOUT)
    finally:
        if not args.keep:
            remove()
    data["load_average_at_end"] = benchlib.load_now()
    data["duration_seconds"] = round(time.monotonic() - started)
    write_figures("redis", data, markdown(data))


if __name__ == "__main__":
    main()
