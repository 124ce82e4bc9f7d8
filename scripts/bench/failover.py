#!/usr/bin/env python3
"""Failover benchmark on the lab: RTO and data loss of database failovers and switchovers.

For each mirror mode (async, sync) it runs, alternately, a failover (the
primary's container is killed while a client writes numbered rows through
HAProxy) and a planned switchover, each followed by the rejoin of the old
primary, and reads the figures from the records playbooks/db_failover.yml and
playbooks/db_rejoin.yml write:

- RTO: from the kill (handed to the playbook as the moment the outage was
  detected, so no detection delay is counted) / the playbook's start
  (switchover) to a write through the application path; the record's
  timeline (fence, promote, repoint, restart, write) is kept per run;
- loss: acknowledged rows missing on the new primary (the client's count), and
  for a switchover the WAL bytes the mirror had not replayed (must be 0);
- rejoin: time until the old primary streams again, and its method (pg_rewind / clone).

Needs the lab converged (./govops lab) with db1 primary and db2 mirror, and
leaves it so (an even number of switches per mode; async at the end).

    source scripts/lib.sh && python3 scripts/bench/failover.py [--runs 3]
    python3 scripts/bench/failover.py --report   # the page again from failover.json, nothing run

Writes docs/benchmarks/failover.json and failover.md. The page is
markdown(data) of the JSON alone: every verdict on it is computed from the
runs, and a series whose runs disagree by more than 3x is not published.
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
from benchlib import load_now, machine, machine_line, met, publishable, report, sh, spread, write_figures

PRIMARY, MIRROR = "db1", "db2"
# The contract's targets (seed 003; roles/db_failover's defaults, 30 and 5 minutes), used for
# runs whose records did not carry them.
RTO_TARGET_SECONDS = 1800.0
RPO_TARGET_SECONDS = 300.0


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
        "rto_measured_from": record["figures"].get("rto_measured_from"),
        "rto_target_seconds": record["figures"].get("rto_target_seconds"),
        "rpo_target_seconds": record["figures"].get("rpo_target_seconds"),
        "rpo_seconds_bound": record["figures"]["rpo"].get("seconds_bound"),
        "timeline": {row["step"]: row["since_start_seconds"] for row in record.get("timeline", [])},
        "acked_rows": writer["acked"],
        "acked_rows_lost": len(writer["lost"]),
        "wal_bytes_lost": record["figures"]["rpo"]["bytes"],
        "rejoin_seconds": rejoin["figures"]["rto_seconds"],
        "rejoin_method": rejoin["outcome"]["method"],
        "diverged_commits": rejoin["outcome"].get("diverged_commits"),
    }
    print(f"  {tag}: {json.dumps(figures)}", flush=True)
    return figures


def stats(values):
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
                    "rto_seconds": stats([r["rto_seconds"] for r in chosen]),
                    "acked_rows_lost": stats([r["acked_rows_lost"] for r in chosen]),
                    "wal_bytes_lost": stats([r["wal_bytes_lost"] for r in chosen]),
                    "rejoin_seconds": stats([r["rejoin_seconds"] for r in chosen]),
                    "rejoin_methods": sorted({r["rejoin_method"] for r in chosen}),
                }
    return out


def rto_covers(runs, kind):
    """What the RTO of these runs covers, from their records (the script's method when a record did not say)."""
    recorded = sorted({r.get("rto_measured_from") for r in runs if r.get("rto_measured_from")})
    start = " / ".join(recorded) if recorded else ("outage detected" if kind == "failover" else "playbook start")
    if kind == "failover":
        return (
            f"from `{start}` — the script hands the kill time to the playbook as the detection time, so no "
            "detection delay is counted — to the first write accepted through the application path"
        )
    return f"from `{start}` to the first write accepted through the application path"


def markdown(data):
    runs = data["runs"]
    summary = summarise(runs)

    def cell(values):
        s = stats(values)
        return "-" if not s else f"{s['min']} / {s['median']} / {s['max']}"

    def timed_cell(values):
        values = [v for v in values if v is not None]
        if not values:
            return "-"
        if not publishable(values):
            return f"not published: runs {spread(values)}x apart, re-run needed"
        return cell(values)

    counts = sorted({len([r for r in runs if f"{r['mode']}/{r['kind']}" == key]) for key in summary})
    per_kind = (
        f"{counts[0]} run{'' if counts[0] == 1 else 's'}" if len(counts) == 1 else f"{counts[0]}-{counts[-1]} runs"
    )
    lines = [
        "# 数据库故障切换基准 / Database failover benchmark",
        "",
        "Generated by `scripts/bench/failover.py` from `failover.json` (`--report` rebuilds it without running "
        "anything); do not edit by hand.",
        "",
        f"Measured {data['measured_at']} on the lab, {per_kind} per mirror mode and kind.",
        "",
        machine_line(data["machine"], data.get("load_average_at_end")),
        "",
        "方法 / Method: a client writes numbered rows, one per transaction, through HAProxy on the first "
        "application host and counts the rows acknowledged to it. Failover: the primary's container is "
        "killed. Switchover: planned. Each is followed by the rejoin of the old primary. "
        f"RTO of a failover: {rto_covers([r for r in runs if r['kind'] == 'failover'], 'failover')}; "
        f"of a switchover: {rto_covers([r for r in runs if r['kind'] == 'switchover'], 'switchover')}. "
        "Rejoin: until the old primary streams from the new one. Figures are min / median / max; a timed "
        "series whose runs disagree by more than 3x is not published.",
        "",
        "| 模式 Mode | runs | RTO (s) | 丢失的已确认行 acked rows lost | WAL 丢失 bytes lost | 重新加入 rejoin (s) "
        "| method | rows acknowledged per run |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for key, s in summary.items():
        chosen = [r for r in runs if f"{r['mode']}/{r['kind']}" == key]
        wal = [r["wal_bytes_lost"] for r in chosen]
        lines.append(
            f"| {key} | {len(chosen)} | {timed_cell([r['rto_seconds'] for r in chosen])} "
            f"| {cell([r['acked_rows_lost'] for r in chosen])} "
            f"| {cell(wal) if any(v is not None for v in wal) else 'unknown (the killed primary cannot be asked)'} "
            f"| {timed_cell([r['rejoin_seconds'] for r in chosen])} | {', '.join(s['rejoin_methods'])} "
            f"| {cell([r['acked_rows'] for r in chosen])} |"
        )
    steps = [r for r in runs if r.get("timeline")]
    if steps:
        names = list(dict.fromkeys(k for r in steps for k in r["timeline"]))
        lines += [
            "",
            "各步骤 / RTO by step (median seconds since the start of the RTO, from the records' timelines):",
            "",
            "| 模式 Mode | " + " | ".join(names) + " |",
            "| --- |" + " --- |" * len(names),
        ]
        for key in summary:
            chosen = [r for r in steps if f"{r['mode']}/{r['kind']}" == key]
            if chosen:
                cells = [stats([r["timeline"].get(n) for r in chosen]) for n in names]
                lines.append(f"| {key} | " + " | ".join("-" if c is None else str(c["median"]) for c in cells) + " |")
    rto_target = max((r.get("rto_target_seconds") or RTO_TARGET_SECONDS) for r in runs)
    rto_values = [r["rto_seconds"] for r in runs]
    rto_ok = all(
        v is not None and v <= (r.get("rto_target_seconds") or RTO_TARGET_SECONDS)
        for v, r in zip(rto_values, runs, strict=True)
    )
    sync_lost = [r["acked_rows_lost"] for r in runs if r["mode"] == "sync"]
    async_lost = [r["acked_rows_lost"] for r in runs if r["mode"] == "async"]
    switch_wal = [r["wal_bytes_lost"] for r in runs if r["kind"] == "switchover"]
    lines += [
        "",
        "## 结论 / Verdicts (computed from the runs above)",
        "",
        f"- RTO: every run at most {rto_target:.0f} s (seed 003: 30 min): {met(rto_ok)} "
        f"(slowest {max(v for v in rto_values if v is not None)} s).",
    ]
    if sync_lost:
        lines.append(
            f"- 同步模式不丢失已确认的行 / sync mode loses no acknowledged row: {met(not any(sync_lost))} "
            f"({sum(sync_lost)} lost over {len(sync_lost)} runs)."
        )
    if async_lost:
        lines.append(
            f"- 异步模式丢失的已确认行 / acknowledged rows lost in async mode: {sum(async_lost)} over "
            f"{len(async_lost)} runs (no target: async mode may lose what the mirror had not received)."
        )
    if switch_wal:
        lines.append(
            f"- 计划切换零丢失 / a switchover loses no WAL: "
            f"{met(all(v == 0 for v in switch_wal))} ({len(switch_wal)} switchovers)."
        )
    bounds = [r for r in runs if r["kind"] == "failover" and r.get("rpo_seconds_bound") is not None]
    if bounds:
        worst = max(r["rpo_seconds_bound"] for r in bounds)
        ok = all(r["rpo_seconds_bound"] <= (r.get("rpo_target_seconds") or RPO_TARGET_SECONDS) for r in bounds)
        lines.append(
            f"- 故障切换的 RPO 上界 / failover RPO bound (the mirror's last replayed commit before the outage was "
            f"detected): at most {worst} s over {len(bounds)} failovers, target "
            f"{max((r.get('rpo_target_seconds') or RPO_TARGET_SECONDS) for r in bounds):.0f} s: {met(ok)}."
        )
    lines += [
        f"- 重新加入方式 / rejoin method: {', '.join(sorted({r['rejoin_method'] for r in runs}))}"
        f" ({len(runs)} rejoins).",
        "",
        "Every run: `failover.json` (`runs`).",
        "",
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per mode and kind (default 3)")
    parser.add_argument("--modes", default="async,sync", help="mirror modes to measure (default async,sync)")
    parser.add_argument("--report", action="store_true", help="rebuild the page from failover.json, run nothing")
    args = parser.parse_args()
    if args.report:
        report("failover", markdown)
        return
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
        "machine": info,
        "load_average_at_end": load_now(),
        "summary": summarise(runs),
        "runs": runs,
    }
    write_figures("failover", data, markdown(data))


if __name__ == "__main__":
    main()
