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
   the next kill.

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
import secrets
import shlex
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
DEPLOYED_TIMEOUT = 5000  # the role's default redis_cluster_node_timeout
SEED_OPS = (80000, 120000)
SEED_FAILOVER = 1.0
UNIT = "redis-node@{port}.service"
AUTH_FILE = "/root/.bench-redis-app"  # inside the container, 0600 root
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
                        # The role's default; the page says so (deployment.tls).
                        "redis_tls_enabled": False,
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


# ---------------------------------------------------------------- cluster


class Cluster:
    """Ops-user queries from the host to the instances' platform addresses."""

    def __init__(self, ips, pw):
        self.ips = ips  # container -> ip
        self.host_of = {ip: name for name, ip in ips.items()}
        self.pw = pw

    def call(self, ip, port, *args, timeout=2.0):
        with Resp(ip, port, timeout=timeout, user="ops", password=self.pw["redis_ops_password"]) as conn:
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
            self.conns[address] = Resp(*address, timeout=0.5, user="app", password=self.password)
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
    }


def _tables(v):
    """The throughput and failover table rows."""

    def cell(c):
        if c["n"] == 0:
            return "—"
        if c["median"] is None:
            return f"not published ({c['spread']}× apart)"
        return fmt(c["median"])

    rows = []
    for pl in ("P1", "P16"):
        for command, f in v["figures"][pl].items():
            cells = f["cells"]
            ratio = "—" if f["ratio"] is None else f"{f['ratio']:.2f}"
            rows.append(
                f"| {command} | {pl[1:]} | {cell(cells['baseline'])} | {cell(cells['deployed'])} | {ratio} "
                f"| {cell(cells['cluster'])} |"
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

    # The script has never turned TLS on; runs from before this field existed deployed without it too.
    tls_text = (
        "on (clients, replication, cluster bus)"
        if deployment.get("tls", False)
        else "off (`redis_tls_enabled: false`; the lab and molecule/redis run with TLS on, not measured here)"
    )
    rows, fo_rows = _tables(v)
    tp = _throughput_text(data, v)
    fo = _failover_text(v)
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
密码：{auth_zh}。
故障切换：每次选一个主节点（轮流），主机上的写入程序以 `app` 用户每 10 ms 写一次落在该主节点槽内的键
（跟随 MOVED）；故障切换时间 = 从 kill 到该键写入再次成功且另一主机上节点的 `CLUSTER INFO` 为 `cluster_state:ok`。
{fo["method_zh"]}
之后旧主节点须以副本身份重新加入，再用 `CLUSTER FAILOVER` 恢复原布局，全部节点健康后才进行下一次。
cluster-node-timeout 通过 `CONFIG SET` 在六个实例上设置（即角色变量 `redis_cluster_node_timeout`），
每次 kill 前重设。

**结论（由本次数字计算）。** 加固与持久化相对默认实例的吞吐代价：{tp["cost_zh"]}
流水线 1 时单节点 {tp["p1"]} ops/s，{tp["seed_zh"]}；{tp["where_zh"]}。
故障切换（可发布系列的最小/中位/最大）：{fo["fo_text"]}；
{fo["meets_zh"]}
{fo["budget_zh"]}
{fo["crash_zh"]}

## English

**Method.** Throughput: inside container {t["container"]}, `redis-benchmark` against (a) *deployed* — the
cluster master instance of that container, as the application ACL user `app`, keys `{t["key_prefix"]}:…`
whose hash tag lies in that master's slots, so one node serves every request (a per-node figure) — and
(b) *baseline* — a default `redis-server --port {BASELINE_PORT} --save '' --appendonly no` the script
starts in the same container (no persistence, no ACL). Same commands, -c {t["clients"]}, -r {t["keyspace"]},
pipeline 1 (-n {t["requests"]}) and 16 ({p16_text}), baseline and deployed back to back, {t["reps"]}
repetitions; ops/s are medians, the ratio is the median of the per-repetition ratios. (c) *cluster* is
`redis-benchmark --cluster` over all three masters.
Password: {t["auth"]}; never on the host's command line or in a log, visible in the container's
process list while redis-benchmark runs.
Failover: a master is chosen (each in turn) while a writer on the host writes, as `app`, a key in that
master's slots every 10 ms (following MOVED). Failover time = from the kill until that write succeeds again
and `CLUSTER INFO` of a node on another host says `cluster_state:ok`.
{fo["method_en"]}
The old master must then rejoin as a replica, `CLUSTER FAILOVER` restores the layout, and every node must see
a healthy cluster before the next kill. cluster-node-timeout is set with `CONFIG SET` on all six instances
(what `redis_cluster_node_timeout` templates), again before every kill.

### Throughput (ops/s, median of {t["reps"]})

| command | pipeline | baseline | deployed (1 master) | deployed / baseline | cluster (3 masters) |
|---|---|---|---|---|---|
{chr(10).join(rows)}

baseline = default `redis-server` (no persistence, no ACL); deployed = the role's master instance
{t["deployed_instance"]}, as `app`; cluster = `redis-benchmark --cluster` over the three masters
(replication to the replicas included). A ratio is shown only when both of its figures are published.
Errors (a missing figure above):
{errors}

### Failover (seconds from the kill or pause until a write to the master's slots succeeds and the cluster is ok)

| kill | node timeout (ms) | kills | min | median | max | replica took over | timeout + 1 s | timeout at each kill |
|---|---|---|---|---|---|---|---|---|
{chr(10).join(fo_rows)}

Seed's target: ≤ {v["failover_target"]:g} s. Per-kill figures are in `redis.json`. {fo["timeouts_en"]}
{fo["timeouts_zh"]}
{fo["withheld"]}
**Verdict (computed from this run's figures).** Throughput cost of hardening and persistence against a
default instance: {tp["cost_en"]} Per node, pipeline 1: {tp["p1"]} ops/s, {tp["seed_en"]}; {tp["where_en"]}.
Failover (min/median/max of the published series): {fo["fo_text"]}; {fo["meets_en"]}
{fo["budget_en"]}
{fo["crash_en"]}

Background (Redis Cluster's documented design, not measured here): a replica promotes itself only after
cluster-node-timeout, failure reports from a majority of masters and its election delay, so a failover
always takes longer than the node timeout; a timeout low enough for ≤ 1 s risks false failovers on a
loaded host or network. The crash path does not wait for that: the host whose process died knows at once.

## Re-run / 重新运行

```sh
source scripts/lib.sh
python3 scripts/bench/redis.py      # 3 reps; crash: 10 kills; host lost: 5 each at 5000,2000,1000,500 ms
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
        "deployment": {"hosts": HOSTS, "ports": PORTS, "node_timeout_ms": DEPLOYED_TIMEOUT, "tls": False},
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
        if args.crash_kills:
            data["failover"].append(series(cluster, pw, "crash", DEPLOYED_TIMEOUT, args.crash_kills))
        for ms in timeouts:
            data["failover"].append(series(cluster, pw, "host-lost", ms, args.kills))
        set_timeout(cluster, DEPLOYED_TIMEOUT)
    finally:
        if not args.keep:
            remove()
    data["load_average_at_end"] = benchlib.load_now()
    data["duration_seconds"] = round(time.monotonic() - started)
    write_figures("redis", data, markdown(data))


if __name__ == "__main__":
    main()
