#!/usr/bin/python
# Acceptance checks for roles/pgbackrest. Read-only: safe in check mode, changes nothing.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: pgbackrest_check
short_description: Verify pgBackRest backups and WAL archiving of the platform database
description:
  - With I(scope=repo), on the repository (backup) host, reads
    C(pgbackrest --output=json info) as the repository account and reports
    whether the stanza is healthy, the repository is encrypted, the newest
    full, differential and incremental backups are younger than the schedule
    allows (a newer full backup also satisfies the differential and
    incremental schedules), the WAL archive is present, the backup and verify
    timers are active and the last scheduled verify succeeded.
  - With I(scope=pg), on a database host, reads C(pg_stat_archiver) and
    reports whether WAL archiving runs without failures and the archive lag -
    the age of the oldest WAL not yet in the repository, i.e. the data a loss
    of the primary and its mirror would lose now (the measured RPO), against
    the RPO target. A mirror (in recovery) does not archive; it is skipped.
  - Read-only; supports check mode. The task does not fail when a check fails;
    the results go to the acceptance report.
options:
  scope:
    description: repo on the repository host, pg on a database host.
    type: str
    choices: [repo, pg]
    required: true
  stanza:
    description: pgBackRest stanza.
    type: str
    required: true
  repo_user:
    description: Account that owns the repository (scope repo).
    type: str
    default: pgbackrest
  cipher_type:
    description: Expected repository cipher (scope repo).
    type: str
    default: aes-256-cbc
  max_age_hours:
    description: Backup type (full, diff, incr) to the largest age in hours of its newest backup (scope repo).
    type: dict
    default: {}
  timers:
    description: systemd timers that must be active (scope repo).
    type: list
    elements: str
    default: []
  port:
    description: Port of the cluster (scope pg).
    type: int
    default: 5432
  archive_timeout:
    description: Configured archive_timeout in seconds (scope pg).
    type: int
    default: 60
  rpo_target_seconds:
    description: RPO target in seconds the archive lag must stay within (scope pg).
    type: int
    default: 300
author: govops maintainers
"""

EXAMPLES = r"""
- name: Check the repository
  pgbackrest_check:
    scope: repo
    stanza: govops
    max_age_hours: {full: 192, diff: 30, incr: 3}
    timers: [pgbackrest-full.timer]
  register: pgbackrest_acceptance
"""

RETURN = r"""
checks:
  description: One item per check, in the order they ran.
  returned: always
  type: list
  elements: dict
summary:
  description: Counts per status and the total.
  returned: always
  type: dict
figures:
  description: >-
    Figures for the acceptance report - newest backup per type with its age
    (scope repo); archive lag seconds (the measured RPO), pending segments
    (scope pg).
  returned: always
  type: dict
"""

import json
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.govops_checks import CheckList, run

# Which backup types satisfy the schedule of each type: a newer full backup
# is as good as a differential or an incremental.
COVERS = {"full": ("full",), "diff": ("full", "diff"), "incr": ("full", "diff", "incr")}
TYPE_NAMES = {"full": ("全量", "full"), "diff": ("差异", "differential"), "incr": ("增量", "incremental")}

ARCHIVER_SQL = """
SELECT json_build_object(
  'in_recovery', pg_is_in_recovery(),
  'now', extract(epoch FROM now())::float,
  'current_lsn', CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END,
  'segment_size', (SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size'),
  'archive_mode', current_setting('archive_mode'),
  'archive_timeout', current_setting('archive_timeout'),
  'archived_count', archived_count,
  'last_archived_wal', last_archived_wal,
  'last_archived_time', extract(epoch FROM last_archived_time)::float,
  'failed_count', failed_count,
  'last_failed_wal', last_failed_wal,
  'last_failed_time', extract(epoch FROM last_failed_time)::float,
  'ready', (SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'))
FROM pg_stat_archiver
"""


def parse_info(text, stanza):
    """The stanza's entry of `pgbackrest --output=json info`, or None."""
    data = json.loads(text)
    for entry in data:
        if entry.get("name") == stanza:
            return entry
    return None


def newest_backups(entry):
    """Backup type -> the newest backup of that type (dict from the info JSON)."""
    newest = {}
    for backup in entry.get("backup", []):
        kind = backup.get("type")
        stop = backup.get("timestamp", {}).get("stop", 0)
        if kind not in newest or stop > newest[kind]["timestamp"]["stop"]:
            newest[kind] = backup
    return newest


def schedule_age(newest, kind, now):
    """Age in seconds of the newest backup that satisfies `kind`'s schedule, and its label."""
    candidates = [newest[k] for k in COVERS[kind] if k in newest]
    if not candidates:
        return None, None
    best = max(candidates, key=lambda backup: backup["timestamp"]["stop"])
    return max(0.0, now - best["timestamp"]["stop"]), best["label"]


def repo_ciphers(entry):
    return sorted({repo.get("cipher", "none") for repo in entry.get("repo", [])})


def wal_segment_start(name, segment_size):
    """Start LSN (bytes) of a WAL file name like 000000010000000000000003; None for .history and others."""
    if not name or len(name) != 24:
        return None
    try:
        log, seg = int(name[8:16], 16), int(name[16:24], 16)
    except ValueError:
        return None
    return (log << 32) + seg * segment_size


def lsn_to_int(lsn):
    if not lsn:
        return None
    high, _, low = str(lsn).partition("/")
    return (int(high, 16) << 32) + int(low, 16)


def archive_lag(stats):
    """Seconds of WAL written but not yet archived (the measured RPO), or None when unknown.

    Nothing is at risk when the current WAL position is at the end of the last
    archived segment. Otherwise the oldest unarchived WAL was written after
    the last archived segment was completed, so the lag is at most the time
    since it was archived; that upper bound is what is reported.
    """
    now = stats["now"]
    last_time = stats.get("last_archived_time")
    if last_time is None:
        return None
    start = wal_segment_start(stats.get("last_archived_wal"), stats["segment_size"])
    current = lsn_to_int(stats.get("current_lsn"))
    if start is not None and current is not None and current == start + stats["segment_size"]:
        return 0.0
    return max(0.0, now - last_time)


def archiving_healthy(stats):
    """No archive failure since the last success."""
    failed = stats.get("last_failed_time")
    archived = stats.get("last_archived_time")
    return stats.get("archived_count", 0) > 0 and (failed is None or (archived is not None and archived >= failed))


def check_repo(checks, params):
    figures = {}
    argv = ["runuser", "-u", params["repo_user"], "--", "pgbackrest", f"--stanza={params['stanza']}"]
    rc, out, err = run([*argv, "--output=json", "--log-level-file=off", "info"], timeout=120)
    entry = None
    if rc == 0:
        try:
            entry = parse_info(out, params["stanza"])
        except ValueError as exc:
            err = f"unreadable JSON: {exc}"
    status = (entry or {}).get("status", {})
    checks.verdict(
        "pgbackrest.stanza",
        "备份仓库状态正常",
        "Stanza healthy",
        entry is not None and status.get("code") == 0,
        f"pgbackrest info: {status.get('message') if entry else (err or out).strip()[:300]}",
        status.get("code"),
    )
    if entry is None:
        return figures
    ciphers = repo_ciphers(entry)
    checks.verdict(
        "pgbackrest.encrypted",
        "备份仓库已加密",
        "Repository encrypted",
        ciphers == [params["cipher_type"]] and params["cipher_type"] != "none",
        f"repository cipher(s): {', '.join(ciphers) or 'unknown'}; expected {params['cipher_type']}",
        ", ".join(ciphers),
    )
    now = time.time()
    newest = newest_backups(entry)
    figures["backups"] = {}
    for kind, limit_hours in sorted(params["max_age_hours"].items()):
        age, label = schedule_age(newest, kind, now)
        zh, en = TYPE_NAMES.get(kind, (kind, kind))
        figures["backups"][kind] = {"label": label, "age_seconds": None if age is None else round(age)}
        checks.verdict(
            f"pgbackrest.backup.{kind}",
            f"最新{zh}备份在计划周期内",
            f"Newest {en} backup within its schedule",
            age is not None and age <= limit_hours * 3600,
            f"newest backup satisfying the {kind} schedule: {label or 'none'}"
            + (f", {age / 3600:.2f} h old" if age is not None else "")
            + f"; limit {limit_hours} h",
            None if age is None else round(age),
        )
    archives = entry.get("archive", [])
    ranges = [f"{a.get('min')}..{a.get('max')}" for a in archives if a.get("max")]
    checks.verdict(
        "pgbackrest.archive",
        "WAL 归档存在于仓库",
        "WAL archive in the repository",
        bool(ranges),
        f"archive ranges: {', '.join(ranges) or 'none'}",
        archives[-1].get("max") if ranges else None,
    )
    if params["timers"]:
        inactive = []
        for timer in params["timers"]:
            _rc, state, _err = run(["systemctl", "is-active", timer])
            if state.strip() != "active":
                inactive.append(f"{timer} {state.strip() or 'unknown'}")
        checks.verdict(
            "pgbackrest.timers",
            "备份与校验定时任务已启用",
            "Backup and verify timers active",
            not inactive,
            f"{len(params['timers']) - len(inactive)}/{len(params['timers'])} timers active"
            + (f"; not active: {', '.join(inactive)}" if inactive else ""),
            len(params["timers"]) - len(inactive),
        )
        _rc, shown, _err = run(
            ["systemctl", "show", "-p", "Result", "-p", "ExecMainExitTimestamp", "pgbackrest-verify.service"]
        )
        fields = dict(line.partition("=")[::2] for line in shown.splitlines())
        ran = bool(fields.get("ExecMainExitTimestamp"))
        checks.add(
            "pgbackrest.verify",
            "最近一次仓库校验(verify)结果",
            "Result of the last scheduled verify",
            ("pass" if fields.get("Result") == "success" else "fail") if ran else "warn",
            f"pgbackrest-verify.service: Result={fields.get('Result', 'unknown')}, last run "
            f"{fields.get('ExecMainExitTimestamp') or 'never (first run on its schedule)'}",
            fields.get("Result") if ran else None,
        )
    return figures


def check_pg(checks, params):
    argv = ["runuser", "-u", "postgres", "--", "psql", "-X", "-A", "-t", "-q", "-p", str(params["port"])]
    rc, out, err = run([*argv, "-d", "postgres", "-c", ARCHIVER_SQL])
    try:
        stats = json.loads(out) if rc == 0 else None
    except ValueError:
        stats = None
    if stats is None:
        checks.add("pgbackrest.archiving", "WAL 归档运行", "WAL archiving runs", "fail", (err or out).strip()[:300])
        return {}
    if stats["in_recovery"]:
        checks.add(
            "pgbackrest.archiving",
            "WAL 归档运行",
            "WAL archiving runs",
            "skip",
            "mirror in recovery: the primary archives; this host archives once promoted",
        )
        return {}
    healthy = archiving_healthy(stats) and stats["archive_mode"] == "on"
    checks.verdict(
        "pgbackrest.archiving",
        "WAL 归档连续无失败",
        "WAL archiving continuous, no failure",
        healthy,
        f"archive_mode {stats['archive_mode']}; {stats['archived_count']} archived, last {stats['last_archived_wal']}; "
        f"{stats['failed_count']} failed, last {stats['last_failed_wal'] or 'none'}; "
        f"{stats['ready']} segment(s) waiting",
        stats["archived_count"],
    )
    lag = archive_lag(stats)
    figures = {"archive_lag_seconds": None if lag is None else round(lag, 1), "pending_segments": stats["ready"]}
    checks.verdict(
        "pgbackrest.rpo",
        "归档延迟(实测 RPO)在目标内",
        "Archive lag (measured RPO) within target",
        lag is not None and lag <= params["rpo_target_seconds"],
        f"WAL not yet in the repository: {'unknown' if lag is None else f'{lag:.1f} s'} "
        f"({stats['ready']} completed segment(s) waiting); RPO target {params['rpo_target_seconds']} s, "
        f"archive_timeout {stats['archive_timeout']}",
        figures["archive_lag_seconds"],
    )
    return figures


def main():
    module = AnsibleModule(
        argument_spec={
            "scope": {"type": "str", "required": True, "choices": ["repo", "pg"]},
            "stanza": {"type": "str", "required": True},
            "repo_user": {"type": "str", "default": "pgbackrest"},
            "cipher_type": {"type": "str", "default": "aes-256-cbc"},
            "max_age_hours": {"type": "dict", "default": {}},
            "timers": {"type": "list", "elements": "str", "default": []},
            "port": {"type": "int", "default": 5432},
            "archive_timeout": {"type": "int", "default": 60},
            "rpo_target_seconds": {"type": "int", "default": 300},
        },
        supports_check_mode=True,
    )
    checks = CheckList()
    check = check_repo if module.params["scope"] == "repo" else check_pg
    figures = check(checks, module.params)
    module.exit_json(changed=False, figures=figures, **checks.result())


if __name__ == "__main__":
    main()
