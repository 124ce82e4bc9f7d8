#!/usr/bin/env python3
"""Restore drill benchmark on the lab: drill RTO for a database of a few GB, against a plain copy.

Issue 7 asks for the drill's RTO on a database of a few GB, and for the
restore's throughput against a plain copy of the same data in the same run.
On the lab (./govops lab, db1 primary, db2 mirror, backup1 the repository):

1. load: pgbench's tables on the primary, in a database of its own (--scale
   200 is about 3 GiB); the mirror streams them, the WAL is archived to
   backup1. pgbench's own rows (--data pgbench) have a blank filler column that
   compresses about 20:1, which flatters a compressed backup; the default
   (--data digests) fills it with hex digests, which compress about 2:1, closer
   to business records;
2. backup: a full pgBackRest backup on backup1 (timed: the backup rate);
3. drill: playbooks/db_restore_drill.yml restores it on the mirror, beside its
   own cluster, and checks the marker row and pgbench_accounts' row count;
   its record gives the restore time, the recovery time and the RTO;
4. plain copies, in the same run, onto the same disk of the drill host:
   a. the backup set as stored (compressed, encrypted: the bytes the restore
      reads), backup1 -> db2 over SSH as the pgBackRest account, tar;
   b. the database files as they are on disk (uncompressed), db1 -> db2,
      tar through a pipe;
5. clean-up: the copies are removed, the bench database is dropped (unless
   --keep-data). The full backup stays in the repository until retention
   expires it.

    source scripts/lib.sh && python3 scripts/bench/restore_drill.py [--scale 200]
    python3 scripts/bench/restore_drill.py --report   # the page again from the JSON, nothing run

Writes docs/benchmarks/restore_drill.json and restore_drill.md. The page is
markdown(data) of the JSON alone: every result on it is computed from the
figures of the run, and what the run did not record is not said.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (
    in_container,
    lab_playbook,
    load_now,
    machine,
    machine_line,
    met,
    mib_per_s,
    report,
    sh,
    timed,
    write_figures,
)

PRIMARY, DRILL_HOST, BACKUP = "govops-db1", "govops-db2", "govops-backup1"
DATABASE = "govops_bench_drill"
PG_DATA = "/var/lib/postgresql/17/main"
SCRATCH = "/var/tmp/govops-bench-copy"  # noqa: S108 - on the drill host (a lab container), not here
STANZA = "govops"
PGBACKREST_CONF = "/etc/pgbackrest/pgbackrest.conf"
# The repository settings a page may state, read from the backup host's
# pgbackrest.conf at run time (never the passphrases: only these keys are read).
REPOSITORY_KEYS = (
    "compress-type",
    "process-max",
    "backup-standby",
    "repo1-cipher-type",
    "repo1-bundle",
    "repo1-block",
    "repo2-type",
    "repo2-cipher-type",
    "repo2-bundle",
)


def sql(query, database="postgres"):
    return in_container(PRIMARY, "postgres", f"psql -XAtq -d {database} -c {json.dumps(query)}")


# pgbench's layout, with a filler of hex digests (84 characters, about 2:1 with zstd).
DIGEST_ROWS = """
INSERT INTO pgbench_branches (bid, bbalance) SELECT g, 0 FROM generate_series(1, {scale}) g;
INSERT INTO pgbench_tellers (tid, bid, tbalance) SELECT g, (g - 1) / 10 + 1, 0 FROM generate_series(1, {scale} * 10) g;
INSERT INTO pgbench_accounts (aid, bid, abalance, filler)
  SELECT g, (g - 1) / 100000 + 1, 0, md5(g::text) || md5((g * 7)::text) || left(md5((g * 13)::text), 20)
  FROM generate_series(1, {scale} * 100000) g;
"""


def load(scale, data, work):
    if sql("SELECT pg_is_in_recovery()") != "f":
        sys.exit("error: db1 is not the primary. Fix: switch back (./govops failover -e db_failover_mode=switchover).")
    sql(f"DROP DATABASE IF EXISTS {DATABASE}")
    sql(f"CREATE DATABASE {DATABASE}")
    if data == "pgbench":
        in_container(PRIMARY, "postgres", f"pgbench -q -i -s {scale} {DATABASE}", log=work / "pgbench.log")
    else:
        in_container(PRIMARY, "postgres", f"pgbench -q -i -I dt -s {scale} {DATABASE}", log=work / "pgbench.log")
        in_container(
            PRIMARY,
            "postgres",
            f"psql -XAtq -v ON_ERROR_STOP=1 -d {DATABASE} <<'SQL'\n{DIGEST_ROWS.format(scale=scale)}SQL",
            log=work / "digests.log",
        )
        in_container(PRIMARY, "postgres", f"pgbench -q -i -I vp -s {scale} {DATABASE}", log=work / "pgbench-vp.log")
    # The mirror must hold everything before the backup is taken from it.
    in_container(
        PRIMARY,
        "postgres",
        "lsn=$(psql -XAtq -c 'SELECT pg_current_wal_lsn()'); for i in $(seq 600); do "
        '[ "$(psql -XAtq -c "SELECT bool_and(replay_lsn >= \'$lsn\') FROM pg_stat_replication")" = t ] && exit 0; '
        "sleep 1; done; echo 'the mirror did not catch up in 600 s' >&2; exit 1",
    )


def repository_settings():
    """The REPOSITORY_KEYS of the backup host's pgbackrest.conf, as the run found them (first occurrence)."""
    pattern = "|".join(REPOSITORY_KEYS)
    lines = in_container(BACKUP, "root", f"grep -E '^({pattern})=' {PGBACKREST_CONF} || true")
    found = {}
    for line in lines.splitlines():
        key, _, value = line.partition("=")
        found.setdefault(key.strip(), value.strip())
    return found


def repository_sentence(settings, repo=1):
    """What the recorded settings say about a repository; "" when the run recorded none."""
    if not settings:
        return ""
    parts = []
    if settings.get("compress-type"):
        parts.append(f"compression {settings['compress-type']}")
    cipher = settings.get(f"repo{repo}-cipher-type")
    if cipher:
        parts.append("no encryption" if cipher == "none" else f"encryption {cipher}")
    if settings.get("process-max"):
        parts.append(f"process-max {settings['process-max']}")
    standby = settings.get("backup-standby")
    if standby:
        parts.append("backups taken from the mirror" if standby == "y" else "backups taken from the primary")
    return "Repository settings at the run (pgbackrest.conf): " + ", ".join(parts) + "." if parts else ""


def backup(work):
    in_container(
        BACKUP,
        "pgbackrest",
        f"pgbackrest --stanza={STANZA} --type=full --log-level-console=info backup",
        log=work / "backup.log",
    )
    info = json.loads(in_container(BACKUP, "pgbackrest", f"pgbackrest --stanza={STANZA} --output=json info"))
    return info[0]["backup"][-1]


def drill(work, evidence):
    extra = work / "drill-vars.json"
    extra.write_text(
        json.dumps(
            {
                "db_restore_drill_change_id": "BENCH-restore-drill",
                "db_restore_drill_operator": "scripts/bench/restore_drill.py",
                "db_restore_drill_evidence_dir": str(evidence),
                "db_restore_drill_tables": [{"database": DATABASE, "table": "pgbench_accounts"}],
            }
        ),
        encoding="utf-8",
    )
    lab_playbook("playbooks/db_restore_drill.yml", {}, work / "drill.log", extra_files=[extra])
    records = sorted(evidence.glob("drill-*.json"))
    if not records:
        sys.exit(f"error: the drill wrote no record in {evidence}")
    return json.loads(records[-1].read_text(encoding="utf-8"))


def copy_backup_set(label):
    """The stored backup set, backup host -> drill host over SSH, onto the drill host's disk."""
    repo_host = in_container(DRILL_HOST, "root", "sed -n 's/^repo1-host=//p' /etc/pgbackrest/pgbackrest.conf | head -1")
    in_container(
        DRILL_HOST,
        "postgres",
        f"rm -rf {SCRATCH}-set && mkdir -p {SCRATCH}-set && "
        f"ssh pgbackrest@{repo_host} tar -C /var/lib/pgbackrest/backup/{STANZA}/{label} -cf - . "
        f"| tar -C {SCRATCH}-set -xf - && sync -f {SCRATCH}-set",
    )
    return int(in_container(DRILL_HOST, "root", f"du -sb {SCRATCH}-set | cut -f1"))


def copy_files():
    """The database files as they are on the primary's disk, primary -> drill host, tar through a pipe."""
    target = f"{SCRATCH}-files"
    in_container(DRILL_HOST, "postgres", f"rm -rf {target} && mkdir -p {target}")
    # A live data directory: tar exits 1 when a file changed while it was read; that is fine for a
    # measure of copy speed (this copy is never started).
    tar = f"tar -C {PG_DATA} --exclude=./pg_wal --warning=no-file-changed --warning=no-file-removed -cf - ."
    source = f"podman exec -u postgres {PRIMARY} bash -c '{tar}; [ $? -le 1 ]'"
    sink = f"podman exec -i -u postgres {DRILL_HOST} bash -ec 'tar -C {target} -xf - && sync -f {target}'"
    sh(["bash", "-o", "pipefail", "-c", f"{source} | {sink}"])
    return int(in_container(DRILL_HOST, "root", f"du -sb {target} | cut -f1"))


def markdown(data):
    f, c = data["figures"], data["plain_copies"]
    size, stored = data["backup"]["size"], data["backup"]["repo_size"]
    vs_files = round(f["restore_seconds"] / c["files"]["seconds"], 2)
    vs_set = round(f["restore_seconds"] / c["backup_set"]["seconds"], 2)
    settings = repository_sentence(data.get("repository"))
    failed = [check["id"] for check in data["drill"]["checks"] if check["status"] != "pass"]
    rto_met = f["rto_seconds"] is not None and f["rto_seconds"] <= f["rto_target_seconds"]
    rpo_met = f.get("rpo_seconds") is not None and f["rpo_seconds"] <= f["rpo_target_seconds"]
    lines = [
        "# 恢复演练基准 / Restore drill benchmark",
        "",
        "Generated by `scripts/bench/restore_drill.py` from `restore_drill.json` "
        "(`--report` rebuilds it without running anything); do not edit by hand.",
        "",
        f"Measured {data['measured_at']} on the lab (pgbench layout, scale {data['scale']}, "
        f"filler: {data.get('data', 'pgbench')}).",
        "",
        machine_line(data["machine"], data.get("load_average_at_end")),
        "",
        f"Database `{DATABASE}`: {data['database_bytes'] / 2**30:.2f} GiB "
        f"(whole cluster {data['cluster_bytes'] / 2**30:.2f} GiB). Full backup `{data['backup']['label']}`: "
        f"{size / 2**30:.2f} GiB of files stored as {stored / 2**30:.2f} GiB ({size / stored:.1f}:1), "
        f"taken in {data['backup_seconds']} s ({mib_per_s(size, data['backup_seconds'])} MiB/s)."
        + (f" {settings}" if settings else ""),
        "",
        "| 步骤 Step | 秒 Seconds | MiB/s (files) |",
        "| --- | --- | --- |",
        f"| 恢复文件 pgBackRest restore (backup1 -> db2) | {f['restore_seconds']} | "
        f"{mib_per_s(size, f['restore_seconds'])} |",
        f"| 回放与启动 recovery and start | {f['recovery_seconds']} | - |",
        f"| **演练 RTO drill RTO** (to a usable database) | **{f['rto_seconds']}** | "
        f"{mib_per_s(size, f['rto_seconds'])} |",
        f"| 直接复制备份集 plain copy of the stored set (SSH, tar) | {c['backup_set']['seconds']} | "
        f"{mib_per_s(size, c['backup_set']['seconds'])} "
        f"({mib_per_s(c['backup_set']['bytes'], c['backup_set']['seconds'])} as stored) |",
        f"| 直接复制数据文件 plain copy of the database files (tar, pipe) | {c['files']['seconds']} | "
        f"{mib_per_s(c['files']['bytes'], c['files']['seconds'])} |",
        "",
        "MiB/s are of the database files (the restored size) unless marked otherwise.",
        "",
        "## 结论 / Verdicts (computed from the figures above)",
        "",
        f"- 演练 / drill: {'**通过 / pass**' if data['drill']['verdict'] == 'pass' else '**不通过 / FAIL**'} — "
        f"{len(data['drill']['checks']) - len(failed)}/{len(data['drill']['checks'])} 项检查通过 / checks passed"
        + (f" (failed: {', '.join(failed)})" if failed else "")
        + ".",
        f"- RTO {f['rto_seconds']} s，目标 / target {f['rto_target_seconds']:.0f} s: {met(rto_met)}.",
        f"- RPO {f.get('rpo_seconds')} s（演练标记从提交到异机备份库 / the drill's marker, from its commit to the "
        f"off-host repository），目标 / target {f['rpo_target_seconds']:.0f} s: {met(rpo_met)}.",
        f"- 恢复耗时为直接复制未压缩文件的 {vs_files} 倍、直接复制备份集的 {vs_set} 倍 / the restore took "
        f"{vs_files}x the time of a plain copy of the uncompressed files "
        f"({'faster' if vs_files < 1 else 'slower' if vs_files > 1 else 'as fast'}) and {vs_set}x that of "
        f"the stored set ({'faster' if vs_set < 1 else 'slower' if vs_set > 1 else 'as fast'}).",
        "",
        "Figures: `restore_drill.json`; the drill's own record is in it (`drill`).",
        "",
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=200, help="pgbench scale; 200 is about 3 GiB (default 200)")
    parser.add_argument(
        "--data",
        choices=["digests", "pgbench"],
        default="digests",
        help="filler of the rows: hex digests, about 2:1 compressible (default), or pgbench's blanks, about 20:1",
    )
    parser.add_argument("--keep-data", action="store_true", help="keep the bench database on the primary")
    parser.add_argument("--report", action="store_true", help="rebuild the page from restore_drill.json, run nothing")
    args = parser.parse_args()
    if args.report:
        report("restore_drill", markdown)
        return 0
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    info = machine()
    settings = repository_settings()
    with tempfile.TemporaryDirectory(prefix="govops-drill-bench-") as tmp:
        work = Path(tmp)
        evidence = work / "records"
        try:
            what = f"load: scale {args.scale}, {args.data} on db1"
            load_seconds, _ = timed(what, lambda: load(args.scale, args.data, work))
            database_bytes = int(sql(f"SELECT pg_database_size('{DATABASE}')"))
            cluster_bytes = int(sql("SELECT sum(pg_database_size(datname)) FROM pg_database"))
            backup_seconds, newest = timed("full backup on backup1", lambda: backup(work))
            _, record = timed("restore drill on db2 (playbooks/db_restore_drill.yml)", lambda: drill(work, evidence))
            set_seconds, set_bytes = timed(
                "plain copy: the stored backup set", lambda: copy_backup_set(newest["label"])
            )
            files_seconds, files_bytes = timed("plain copy: the database files", copy_files)
        finally:
            in_container(DRILL_HOST, "root", f"rm -rf {SCRATCH}-set {SCRATCH}-files")
            if not args.keep_data:
                sql(f"DROP DATABASE IF EXISTS {DATABASE}")
    figures = record["figures"]
    data = {
        "benchmark": "restore_drill",
        "measured_at": started,
        "scale": args.scale,
        "data": args.data,
        "machine": info,
        "load_average_at_end": load_now(),
        "repository": settings,
        "load_seconds": load_seconds,
        "database_bytes": database_bytes,
        "cluster_bytes": cluster_bytes,
        "backup": {
            "label": newest["label"],
            "size": newest["info"]["size"],
            "repo_size": newest["info"]["repository"]["size"],
        },
        "backup_seconds": backup_seconds,
        "figures": figures,
        "plain_copies": {
            "backup_set": {"seconds": set_seconds, "bytes": set_bytes},
            "files": {"seconds": files_seconds, "bytes": files_bytes},
        },
        "ratios": {
            "restore_vs_plain_set": round(figures["restore_seconds"] / set_seconds, 2),
            "restore_vs_plain_files": round(figures["restore_seconds"] / files_seconds, 2),
        },
        "verdict": record["verdict"],
        "checks": len(record["checks"]),
        "checks_passed": sum(1 for c in record["checks"] if c["status"] == "pass"),
        "drill": record,
    }
    if record["verdict"] != "pass":
        print(f"warning: the drill failed: {record['reason']}", file=sys.stderr)
    write_figures("restore_drill", data, markdown(data))
    return 0 if record["verdict"] == "pass" else 1


if __name__ == "__main__":
    sys.exit(main())
