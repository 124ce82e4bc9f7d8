#!/usr/bin/env python3
"""The operators' audit trail (issue 22; GB/T 22239-2019 8.1.5.1-a, 8.1.5.2-a): who ran which playbook, when.

Reads the run records that plugins/callback/govops_run_record.py writes (one JSON
line per ansible-playbook run, monthly files runs-YYYY-MM.jsonl) and answers an
auditor's question, e.g. "every change to host db1 in the last 180 days":

    python3 scripts/run_records.py --host db1 --days 180
    python3 scripts/run_records.py --days 30 --all          # runs that changed nothing too
    python3 scripts/run_records.py --host db1 --json        # for machines

Rows: start (UTC), operator, playbook, commit (+ "dirty" when the working tree
had uncommitted changes), change ticket, check mode, result, and what changed
on the host(s) asked about. Exit status 0 with the rows; 2 when there is no
record file at all in the directory (nothing to judge is never "no changes").
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

DEFAULT_DIR = "/var/log/govops/runs"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--dir", default=DEFAULT_DIR, help=f"record directory (default {DEFAULT_DIR})")
    parser.add_argument("--host", action="append", default=[], help="only runs that changed this host (repeatable)")
    parser.add_argument("--days", type=int, default=180, help="runs started in the last N days (default 180)")
    parser.add_argument("--all", action="store_true", help="also runs that changed nothing")
    parser.add_argument("--json", action="store_true", help="the matching records as a JSON list")
    return parser.parse_args(argv)


def load(directory):
    """Every record of every runs-*.jsonl file, oldest file first; (records, files, unreadable lines)."""
    files = sorted(Path(directory).glob("runs-*.jsonl"))
    records, bad = [], []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                bad.append(f"{path.name}:{number}")
    return records, files, bad


def select(records, hosts, days, include_unchanged, now=None):
    """The records started within `days` that changed one of `hosts` (any host when none is given)."""
    now = now or datetime.datetime.now(datetime.UTC)
    since = now - datetime.timedelta(days=days)
    out = []
    for record in records:
        started = datetime.datetime.fromisoformat(record["started"])
        if started < since:
            continue
        changed = set(record.get("hosts_changed", []))
        if hosts and not changed & set(hosts):
            continue
        if not hosts and not changed and not include_unchanged:
            continue
        out.append(record)
    return sorted(out, key=lambda r: r["started"])


def row(record, hosts):
    source = record.get("source", {})
    commit = (source.get("commit") or "no-git")[:10] + (" dirty" if source.get("dirty") else "")
    changes = [c for c in record.get("changes", []) if not hosts or c["host"] in hosts]
    what = "; ".join(f"{c['host']}: {c['task']}" for c in changes[:5])
    if len(changes) > 5:
        what += f"; … {len(changes) - 5} more"
    return [
        record["started"].replace("+00:00", "Z"),
        record.get("operator", {}).get("user", "?"),
        Path(record.get("playbook", "?")).name,
        commit,
        record.get("change_ticket") or "—",
        "check" if record.get("check_mode") else "apply",
        record.get("result", "?"),
        what or "—",
    ]


def main(argv=None):
    args = parse_args(argv)
    records, files, bad = load(args.dir)
    if not files:
        print(
            f"error: no run records (runs-*.jsonl) in {args.dir}. Fix: pass --dir with the directory that "
            "ansible.cfg's [callback_govops_run_record] record_dir (or GOVOPS_RUN_RECORD_DIR) names on the "
            "controller that ran the playbooks.",
            file=sys.stderr,
        )
        return 2
    chosen = select(records, args.host, args.days, args.all)
    if args.json:
        print(json.dumps(chosen, ensure_ascii=False, indent=1))
        return 0
    scope = f"host(s) {', '.join(args.host)}" if args.host else "any host"
    print(f"运行记录 / Run records: {len(chosen)} run(s) changing {scope} in the last {args.days} days")
    print(f"({len(records)} record(s) in {len(files)} file(s) under {args.dir})")
    if bad:
        print(f"警告 / warning: {len(bad)} unreadable line(s): {', '.join(bad[:5])}")
    head = ["开始 started (UTC)", "操作员 operator", "剧本 playbook", "提交 commit", "变更单 ticket", "模式 mode"]
    head += ["结果 result", "变更 changes"]
    print(" | ".join(head))
    for record in chosen:
        print(" | ".join(row(record, args.host)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
