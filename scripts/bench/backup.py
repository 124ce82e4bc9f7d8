#!/usr/bin/env python3
"""Backup benchmark on the lab: backup and restore times and sizes, a plain copy, replication lag under load.

Issue 6 asks, for a generated dataset of a few GB (pgbench) on the lab: the
time and size of a full and of an incremental backup, the restore time and
throughput against a plain copy of the same data in the same run (the
physical limit of the machine) as a ratio, and the replication lag under
pgbench load. On the lab (./govops lab: db1 primary, db2 mirror, backup1 the
repository, offsite1 the off-site repository):

1. load: pgbench's tables on the primary in a database of their own, with
   the filler of scripts/bench/restore_drill.py (hex digests, about 2:1 with
   zstd; --data pgbench for pgbench's blanks, about 20:1);
2. full backup to repo1 (backup1), taken from the mirror;
3. pgbench's read-write script on the primary for --load-seconds while the
   mirror's lag is read once a second on the primary (pg_stat_replication:
   bytes not yet replayed, replay_lag);
4. incremental backup to repo1: what the load changed;
5. full backup to repo2, the off-site repository over SFTP (when there is
   one; --no-offsite skips it);
6. restore of the newest backup (the incremental with its full) into a
   scratch directory on db2, files only, against a plain copy of the same
   database files db1 -> db2 (tar through a pipe) onto the same disk;
7. clean-up: scratch directories removed, the bench database dropped (unless
   --keep-data). The backups stay until retention expires them.

    source scripts/lib.sh && python3 scripts/bench/backup.py [--scale 200] [--load-seconds 120]
    python3 scripts/bench/backup.py --report   # the page again from backup.json, nothing run

Writes docs/benchmarks/backup.json and backup.md. The page is markdown(data)
of the JSON alone: every result on it is computed from the figures of the
run, and what the run did not record is not said.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import in_container, load_now, machine, machine_line, mib_per_s, report, timed, write_figures
from restore_drill import (
    BACKUP,
    DATABASE,
    DRILL_HOST,
    PRIMARY,
    SCRATCH,
    STANZA,
    copy_files,
    load,
    repository_sentence,
    repository_settings,
    sql,
)

RESTORE_DIR = f"{SCRATCH}-restore"
LAG_SQL = (
    "SELECT extract(epoch FROM clock_timestamp())::numeric(14,3), "
    "coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0)::bigint, "
    "coalesce(extract(epoch FROM replay_lag), 0)::numeric(10,3) "
    "FROM pg_stat_replication ORDER BY application_name LIMIT 1"
)


def newest_backup(repo):
    info = json.loads(
        in_container(BACKUP, "pgbackrest", f"pgbackrest --stanza={STANZA} --repo={repo} --output=json info")
    )
    return info[0]["backup"][-1]


def backup(repo, kind, work):
    in_container(
        BACKUP,
        "pgbackrest",
        f"pgbackrest --stanza={STANZA} --repo={repo} --type={kind} --log-level-console=info backup",
        log=work / f"backup-repo{repo}-{kind}.log",
    )
    return newest_backup(repo)


def load_with_lag(seconds, clients, work):
    """pgbench on the primary for `seconds`, the mirror's lag read once a second meanwhile."""
    argv = ["podman", "exec", "-i", "-u", "postgres", PRIMARY, "psql", "-XAtq", "-F", " "]
    watcher = subprocess.Popen(  # noqa: S603 - fixed argv
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    # A fixed number of samples: psql stops by itself, nothing is left running in the container.
    watcher.stdin.write(f"{LAG_SQL} \\watch i=1 c={seconds + 5}\n")
    watcher.stdin.close()
    lsn_before = sql("SELECT pg_current_wal_lsn()")
    try:
        out = in_container(
            PRIMARY,
            "postgres",
            f"pgbench -n -c {clients} -j {min(clients, 2)} -T {seconds} {DATABASE}",
            log=work / "pgbench-load.log",
        )
    finally:
        samples_text = watcher.stdout.read()
        watcher.wait(timeout=60)
    wal_bytes = int(sql(f"SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '{lsn_before}')"))
    tps = next((float(line.split()[2]) for line in out.splitlines() if line.startswith("tps = ")), None)
    samples = []
    for line in samples_text.splitlines():
        fields = line.split()
        if len(fields) == 3:
            samples.append({"t": float(fields[0]), "bytes": int(fields[1]), "replay_lag_s": float(fields[2])})
    return {"tps": tps, "clients": clients, "seconds": seconds, "wal_bytes": wal_bytes, "samples": samples}


def lag_summary(samples):
    def spread(values):
        if not values:
            return None
        ordered = sorted(values)
        return {
            "median": round(statistics.median(ordered), 3),
            "p95": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 3),
            "max": round(ordered[-1], 3),
        }

    return {
        "samples": len(samples),
        "bytes": spread([s["bytes"] for s in samples]),
        "replay_lag_seconds": spread([s["replay_lag_s"] for s in samples]),
    }


def restore(work):
    in_container(
        DRILL_HOST,
        "postgres",
        f"rm -rf {RESTORE_DIR} && mkdir -m 700 -p {RESTORE_DIR} && "
        f"pgbackrest --stanza={STANZA} --repo=1 --pg1-path={RESTORE_DIR} --log-level-console=info restore && "
        f"sync -f {RESTORE_DIR}",
        log=work / "restore.log",
    )
    return int(in_container(DRILL_HOST, "root", f"du -sb {RESTORE_DIR} | cut -f1"))


def sized(backup_info):
    info = backup_info["info"]
    return {
        "label": backup_info["label"],
        "type": backup_info["type"],
        "size": info["size"],
        "delta": info["delta"],
        "repo_size": info["repository"]["size"],
        "repo_delta": info["repository"]["delta"],
    }


def share(part, whole):
    """part / whole as a rounded percentage."""
    return round(100 * part / whole) if whole else None


def markdown(data):
    b, load_run = data["backups"], data["load"]
    lag = lag_summary(data["lag_samples"])
    gib = 2**30
    rows = []
    for key, name in (
        ("full", "全量备份 full backup -> repo1 (backup1, SSH)"),
        ("incr", "增量备份 incremental backup -> repo1, after the load"),
        ("offsite_full", "异地全量备份 full backup -> repo2 (offsite1, SFTP)"),
    ):
        if key not in b:
            continue
        item = b[key]
        rows.append(
            f"| {name} | {item['seconds']} | {item['delta'] / gib:.2f} | {item['repo_delta'] / gib:.2f} | "
            f"{mib_per_s(item['delta'], item['seconds'])} |"
        )
    r, copy = data["restore"], data["plain_copy"]
    ratio = round(r["seconds"] / copy["seconds"], 2) if copy["seconds"] else None
    full = b["full"]
    newest = "the incremental with its full" if "incr" in b else "the full"
    settings = data.get("repository") or {}
    incr_lines = []
    if "incr" in b:
        incr = b["incr"]
        pct = share(incr["delta"], full["delta"])
        size_word = "nearly as much as" if pct >= 90 else "more than half of" if pct > 50 else "a fraction of"
        incr_lines = [
            f"增量备份读取的数据为全量备份的 {pct} % / the incremental backup read {incr['delta'] / gib:.2f} GiB "
            f"after the load, {pct} % of the {full['delta'] / gib:.2f} GiB the full backup read: {size_word} "
            "the full one."
            + (
                " Block-level incremental (repo1-block) was off in this run, so it copied every file "
                "that changed in full."
                if settings and settings.get("repo1-block", "n") != "y"
                else ""
            ),
            "",
        ]
    lines = [
        "# 备份基准 / Backup benchmark",
        "",
        "Generated by `scripts/bench/backup.py` from `backup.json` (`--report` rebuilds it without running "
        "anything); do not edit by hand.",
        "",
        f"Measured {data['measured_at']} on the lab (pgbench layout, scale {data['scale']}, filler: {data['data']}).",
        "",
        machine_line(data["machine"], data.get("load_average_at_end")),
        "",
        f"Database `{DATABASE}`: {data['database_bytes'] / gib:.2f} GiB (whole cluster "
        f"{data['cluster_bytes'] / gib:.2f} GiB); the full backup read "
        f"{full['delta'] / full['repo_delta']:.1f} bytes for every byte it stored."
        + (f" {repository_sentence(settings)}" if settings else ""),
        "",
        "| 备份 Backup | 秒 Seconds | GiB read (changed) | GiB stored | MiB/s |",
        "| --- | --- | --- | --- | --- |",
        *rows,
        "",
        "| 恢复 Restore (files only, db2) | 秒 Seconds | MiB/s |",
        "| --- | --- | --- |",
        f"| pgBackRest restore of the newest backup ({newest}, backup1 -> db2) | {r['seconds']} | "
        f"{mib_per_s(r['bytes'], r['seconds'])} |",
        f"| 直接复制 plain copy of the database files (db1 -> db2, tar through a pipe) | "
        f"{copy['seconds']} | {mib_per_s(copy['bytes'], copy['seconds'])} |",
        "",
        f"恢复耗时为直接复制同一批数据库文件的 **{ratio}** 倍 / the restore took **{ratio}x** the time of the "
        f"plain copy of the same database files ({'faster' if ratio < 1 else 'slower' if ratio > 1 else 'as fast'}).",
        "",
        *incr_lines,
        "## 负载下的复制延迟 / Replication lag under load",
        "",
        f"pgbench's read-write script (TPC-B like), {load_run['clients']} clients for {load_run['seconds']} s: "
        f"{load_run['tps']:.0f} transactions/s, {load_run['wal_bytes'] / 2**20:.0f} MiB of WAL. The mirror's lag, read "
        f"on the primary once a second ({lag['samples']} samples):",
        "",
        "| 延迟 Lag | median | p95 | max |",
        "| --- | --- | --- | --- |",
        f"| bytes not yet replayed | {lag['bytes']['median']:.0f} | {lag['bytes']['p95']:.0f} | "
        f"{lag['bytes']['max']:.0f} |"
        if lag["bytes"]
        else "| bytes not yet replayed | - | - | - |",
        f"| replay_lag (s) | {lag['replay_lag_seconds']['median']} | {lag['replay_lag_seconds']['p95']} | "
        f"{lag['replay_lag_seconds']['max']} |"
        if lag["replay_lag_seconds"]
        else "| replay_lag (s) | - | - | - |",
        "",
        "Figures, the lag samples included: `backup.json`.",
        "",
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=200, help="pgbench scale; 200 is about 3 GiB (default 200)")
    parser.add_argument("--data", choices=["digests", "pgbench"], default="digests", help="filler (see restore_drill)")
    parser.add_argument("--load-seconds", type=int, default=120, help="pgbench load between the backups (120)")
    parser.add_argument("--clients", type=int, default=4, help="pgbench clients during the load (4)")
    parser.add_argument("--no-offsite", action="store_true", help="skip the full backup to repo2")
    parser.add_argument("--keep-data", action="store_true", help="keep the bench database on the primary")
    parser.add_argument("--report", action="store_true", help="rebuild the page from backup.json, run nothing")
    args = parser.parse_args()
    if args.report:
        report("backup", markdown)
        return 0
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    info = machine()
    settings = repository_settings()
    offsite = not args.no_offsite and "repo2-type" in settings
    backups = {}
    with tempfile.TemporaryDirectory(prefix="govops-backup-bench-") as tmp:
        work = Path(tmp)
        try:
            load_seconds, _ = timed(
                f"load: scale {args.scale}, {args.data} on db1", lambda: load(args.scale, args.data, work)
            )
            database_bytes = int(sql(f"SELECT pg_database_size('{DATABASE}')"))
            cluster_bytes = int(sql("SELECT sum(pg_database_size(datname)) FROM pg_database"))
            seconds, newest = timed("full backup to repo1", lambda: backup(1, "full", work))
            backups["full"] = {"seconds": seconds, **sized(newest)}
            _, load_run = timed(
                f"pgbench load, {args.clients} clients, {args.load_seconds} s, lag sampled",
                lambda: load_with_lag(args.load_seconds, args.clients, work),
            )
            seconds, newest = timed("incremental backup to repo1", lambda: backup(1, "incr", work))
            backups["incr"] = {"seconds": seconds, **sized(newest)}
            if offsite:
                seconds, newest = timed("full backup to repo2 (off-site, SFTP)", lambda: backup(2, "full", work))
                backups["offsite_full"] = {"seconds": seconds, **sized(newest)}
            restore_seconds, restore_bytes = timed("restore of the newest backup on db2", lambda: restore(work))
            copy_seconds, copy_bytes = timed("plain copy: the database files db1 -> db2", copy_files)
        finally:
            in_container(DRILL_HOST, "root", f"rm -rf {RESTORE_DIR} {SCRATCH}-files")
            if not args.keep_data:
                sql(f"DROP DATABASE IF EXISTS {DATABASE}")
    data = {
        "benchmark": "backup",
        "measured_at": started,
        "scale": args.scale,
        "data": args.data,
        "machine": info,
        "load_average_at_end": load_now(),
        "repository": settings,
        "load_seconds": load_seconds,
        "database_bytes": database_bytes,
        "cluster_bytes": cluster_bytes,
        "backups": backups,
        "load": {k: v for k, v in load_run.items() if k != "samples"},
        "lag": lag_summary(load_run["samples"]),
        "lag_samples": load_run["samples"],
        "restore": {"seconds": restore_seconds, "bytes": restore_bytes},
        "plain_copy": {"seconds": copy_seconds, "bytes": copy_bytes},
        "ratios": {"restore_vs_plain_copy": round(restore_seconds / copy_seconds, 2) if copy_seconds else None},
    }
    write_figures("backup", data, markdown(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
