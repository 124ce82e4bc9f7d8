#!/usr/bin/env python3
"""Failover benchmark on the lab: RTO and data loss of database failovers and switchovers.

For each mirror mode (async, sync) it runs, alternately, a failover (the
primary's container is killed while a client writes numbered rows through
HAProxy) and a planned switchover, each followed by the rejoin of the old
primary, and reads the figures from the records playbooks/db_failover.yml and
playbooks/db_rejoin.yml write:

- RTO: outage detected (kill) / playbook start (switchover) -> a write through the application path;
- loss: acknowledged rows missing on the new primary (the client's count), and
  for a switchover the WAL bytes the mirror had not replayed (must be 0);
- rejoin: time until the old primary streams again, and its method (pg_rewind / clone).

Needs the lab converged (./govops lab) with db1 primary and db2 mirror, and
leaves it so (an even number of switches per mode; async at the end).

    source scripts/lib.sh && python3 scripts/bench/failover.py [--runs 2]

Writes docs/benchmarks/failover.json and failover.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import lab_playbook as playbook
from benchlib import machine, sh, write_figures

PRIMARY, MIRROR = "db1", "db2"


def newest(directory, prefix):
    files = sorted(Path(directory).glob(f"{prefix}-*.json"))
    if not files:
        sys.exit(f"error: no {prefix} record in {directory}")
    return json.loads(files[-1].read_text(encoding="utf-8"))


def wait_for_container(name, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sh(["podman", "exec", name, "systemctl", "is-system-running"], check=False).stdout.strip() in (
            "running",
            "degraded",
        ):
            return
        time.sleep(2)
    sys.exit(f"error: container {name} did not boot within {timeout} s")


def one_switch(kind, mode, old, new, work, index):
    """A failover or switchover from old to new, then the rejoin of old; the figures."""
    evidence = work / "records"
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    tag = f"{mode}-{kind}-{index}"
    result = work / f"{tag}-writer.json"
    playbook("scripts/bench/failover_writer.yml", {"bench_action": "start"}, logs / f"{tag}-writer-start.log")
    extra = {
        "db_failover_mode": kind,
        "db_failover_old_primary": old,
        "db_failover_new_primary": new,
        "db_failover_confirm": new,
        "db_failover_incident_id": f"BENCH-{tag}",
        "db_failover_reason": "benchmark",
        "db_failover_evidence_dir": evidence,
        "postgresql_mirror_mode": mode,
    }
    if kind == "failover":
        sh(["podman", "kill", f"govops-{old}"])
        extra["db_failover_detected_at"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    playbook("playbooks/db_failover.yml", extra, logs / f"{tag}.log")
    record = newest(evidence, kind)
    playbook(
        "scripts/bench/failover_writer.yml",
        {"bench_action": "stop", "bench_result": result},
        logs / f"{tag}-writer-stop.log",
    )
    writer = json.loads(result.read_text(encoding="utf-8"))
    if kind == "failover":
        sh(["podman", "start", f"govops-{old}"])
        wait_for_container(f"govops-{old}")
    rejoin_extra = {
        "db_failover_old_primary": old,
        "db_failover_new_primary": new,
        "db_failover_confirm": old,
        "db_failover_incident_id": f"BENCH-{tag}",
        "db_failover_reason": "benchmark rejoin",
        "db_failover_discard_reason": "benchmark: the client counts acknowledged rows",
        "db_failover_evidence_dir": evidence,
        "postgresql_mirror_mode": mode,
    }
    playbook("playbooks/db_rejoin.yml", rejoin_extra, logs / f"{tag}-rejoin.log")
    rejoin = newest(evidence, "rejoin")
    figures = {
        "mode": mode,
        "kind": kind,
        "from": old,
        "to": new,
        "rto_seconds": record["figures"]["rto_seconds"],
        "acked_rows": writer["acked"],
        "acked_rows_lost": len(writer["lost"]),
        "wal_bytes_lost": record["figures"]["rpo"]["bytes"],
        "rejoin_seconds": rejoin["figures"]["rto_seconds"],
        "rejoin_method": rejoin["outcome"]["method"],
        "diverged_commits": rejoin["outcome"].get("diverged_commits"),
    }
    print(f"  {tag}: {json.dumps(figures)}", flush=True)
    return figures


def spread(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"min": min(values), "median": statistics.median(values), "max": max(values), "n": len(values)}


def summarise(runs):
    out = {}
    for mode in ("async", "sync"):
        for kind in ("failover", "switchover"):
            chosen = [r for r in runs if r["mode"] == mode and r["kind"] == kind]
            if chosen:
                out[f"{mode}/{kind}"] = {
                    "rto_seconds": spread([r["rto_seconds"] for r in chosen]),
                    "acked_rows_lost": spread([r["acked_rows_lost"] for r in chosen]),
                    "wal_bytes_lost": spread([r["wal_bytes_lost"] for r in chosen]),
                    "rejoin_seconds": spread([r["rejoin_seconds"] for r in chosen]),
                    "rejoin_methods": sorted({r["rejoin_method"] for r in chosen}),
                }
    return out


def markdown(data):
    def cell(s):
        return "-" if not s else f"{s['min']} / {s['median']} / {s['max']}"

    lines = [
        "# 数据库故障切换基准 / Database failover benchmark",
        "",
        f"Measured {data['measured_at']} on the lab by `scripts/bench/failover.py` "
        f"({data['runs_per_kind']} run(s) per mode and kind). Machine: {data['machine']['nproc']} cores, "
        f"{data['machine']['ram_gib']} GiB, load at start {data['machine']['load_average_at_start']}.",
        "",
        *([f"Note: {data['note']}", ""] if data.get("note") else []),
        "A client writes one row per transaction through HAProxy on app1 (about 20 per second). "
        "Failover: the primary's container is killed, RTO runs from the kill to a write through "
        "the application path. Switchover: planned, RTO from the playbook's start. Each is followed "
        "by the rejoin of the old primary (pg_rewind). Figures are min / median / max.",
        "",
        "| 模式 Mode | RTO (s) | 丢失的已确认行 acked rows lost | WAL 丢失 bytes lost | 重新加入 rejoin (s) | method |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for key, s in data["summary"].items():
        lines.append(
            f"| {key} | {cell(s['rto_seconds'])} | {cell(s['acked_rows_lost'])} | {cell(s['wal_bytes_lost'])} "
            f"| {cell(s['rejoin_seconds'])} | {', '.join(s['rejoin_methods'])} |"
        )
    lines += [
        "",
        "Targets (seed 003): RTO <= 1800 s, RPO <= 300 s. A failover's WAL loss is unknown when the "
        "primary is killed (it cannot be asked); the client's count of acknowledged rows is the loss "
        "that matters. In sync mode it must be 0.",
        "",
        "Every run: `failover.json` (`runs`).",
        "",
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="runs per mode and kind (default 2)")
    parser.add_argument("--modes", default="async,sync", help="mirror modes to measure (default async,sync)")
    parser.add_argument("--note", default="", help="a sentence on the conditions of this run, kept with the figures")
    args = parser.parse_args()
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    info = machine()
    runs = []
    with tempfile.TemporaryDirectory(prefix="govops-failover-bench-") as tmp:
        work = Path(tmp)
        for mode in args.modes.split(","):
            print(f"==> {mode}: PostgreSQL in {mode} mode", flush=True)
            playbook(
                "playbooks/database.yml",
                {"postgresql_mirror_mode": mode},
                work / f"converge-{mode}.log",
            )
            old, new = PRIMARY, MIRROR
            for index in range(args.runs):
                for kind in ("failover", "switchover"):
                    runs.append(one_switch(kind, mode, old, new, work, index))
                    old, new = new, old
        if args.modes.split(",")[-1] != "async":
            playbook("playbooks/database.yml", {"postgresql_mirror_mode": "async"}, work / "converge-async.log")
    data = {
        "benchmark": "failover",
        "measured_at": started,
        "runs_per_kind": args.runs,
        "note": args.note,
        "machine": info,
        "summary": summarise(runs),
        "runs": runs,
    }
    write_figures("failover", data, markdown(data))


if __name__ == "__main__":
    main()
