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
  - With I(offsite=true) it also checks the off-site repository (repo2) - its
    status, the newest full and differential backups in it against
    I(offsite_max_age_hours), and that its WAL archive is in step with repo1's
    (not more than I(offsite_max_wal_behind) segments behind).
  - With I(scope=pg), on a database host, reads C(pg_stat_archiver) and
    reports whether WAL archiving runs without failures and the archive lag -
    the age of the oldest commit not yet in the repository, i.e. the data a
    loss of the primary and its mirror would lose now (the measured RPO),
    against the RPO target. The commits are read from the unarchived WAL with
    pg_walinspect (roles/postgresql creates it), and the lag is 0 when none waits, however
    old the last archived segment is (an idle database). Without the
    extension the time since the last segment was archived is the bound.
    A mirror (in recovery) does not archive; it is skipped.
  - With I(scope=pg), the RPO budget - the server runs the I(archive_timeout)
    the role sets, and it fits the RPO target (a WAL segment may wait
    archive_timeout before it is switched and as long again for the push, so
    2 x archive_timeout <= I(rpo_target_seconds)); an archive lag beyond
    2 x archive_timeout, still within the target, is a C(warn) - the push is
    eating the margin.
  - With I(scope=offsite), on the off-site host, that every key allowed into
    the SFTP account is forced to C(sftp-server) with C(restrict) (no shell,
    no forwarding), and that the repository directory belongs to the account
    and is closed to others. Reports the newest file in the repository.
  - With I(scope=pg), on every database host, the size of C(pg_wal) against
    I(wal_budget_mb), and whether the file system holding it has room for
    the budget - WAL that cannot be archived is kept, so a long backup-host
    outage fills that disk.
  - Read-only; supports check mode. The task does not fail when a check fails;
    the results go to the acceptance report.
options:
  scope:
    description: repo on the repository host, pg on a database host, offsite on the off-site host.
    type: str
    choices: [repo, pg, offsite]
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
  offsite:
    description: There is an off-site repository, repo2 (scope repo).
    type: bool
    default: false
  offsite_max_age_hours:
    description: Backup type to the largest age in hours of its newest backup in repo2 (scope repo).
    type: dict
    default: {}
  offsite_path:
    description: repo2 directory on the off-site host (scope offsite).
    type: path
    default: /var/lib/pgbackrest-offsite
  offsite_user:
    description: SFTP account on the off-site host (scope offsite).
    type: str
    default: pgbackrest
  offsite_max_wal_behind:
    description: How many WAL segments repo2's archive may be behind repo1's (scope repo).
    type: int
    default: 2
  wal_budget_mb:
    description: How far pg_wal may grow in MiB while WAL cannot be archived (scope pg).
    type: int
    default: 8192
  port:
    description: Port of the cluster (scope pg).
    type: int
    default: 5432
  archive_timeout:
    description:
      - archive_timeout in seconds the role configures (C(pgbackrest_archive_timeout), scope pg). The server's
        running value must equal it, and twice it must fit in I(rpo_target_seconds).
    type: int
    default: 60
  rpo_target_seconds:
    description: RPO target in seconds the archive lag must stay within (scope pg).
    type: int
    default: 300
extends_documentation_fragment: [govops_check]
author: govops maintainers
"""

EXAMPLES = r"""
- name: Check the repository
  pgbackrest_check:
    scope: repo
    stanza: govops
    max_age_hours: {full: 192, diff: 30, incr: 3}
    timers: [pgbackrest-full.timer]
    offsite: true
    offsite_max_age_hours: {full: 192, diff: 30}
  register: pgbackrest_acceptance

- name: Check archiving and the WAL disk budget on a database host
  pgbackrest_check:
    scope: pg
    stanza: govops
    rpo_target_seconds: 300
    wal_budget_mb: 8192
"""

RETURN = r"""
checks: {description: One item per check, in order (fields under NOTES)., returned: always, type: list, elements: dict}
summary: {description: Checks per status and the total (NOTES)., returned: always, type: dict}
figures:
  description: >-
    Figures for the acceptance report - newest backup per type with its age
    (scope repo), the same for repo2 under offsite; archive lag seconds (the
    measured RPO), pending segments, pg_wal size and free space (scope pg).
  returned: always
  type: dict
"""

import json
import os
import pwd
import re
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.govops_checks import CheckList, last_run, psql_json, run, timers_verdict
from ansible.module_utils.govops_wal import lsn_to_int, segments_behind, wal_position, wal_segment_start

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
  'archive_timeout', (SELECT setting::int FROM pg_settings WHERE name = 'archive_timeout'),
  'archived_count', archived_count,
  'last_archived_wal', last_archived_wal,
  'last_archived_time', extract(epoch FROM last_archived_time)::float,
  'failed_count', failed_count,
  'last_failed_wal', last_failed_wal,
  'last_failed_time', extract(epoch FROM last_failed_time)::float,
  'ready', (SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'),
  'pg_wal_bytes', (SELECT coalesce(sum(size), 0) FROM pg_ls_waldir()),
  'data_directory', current_setting('data_directory'),
  'walinspect', EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_walinspect'))
FROM pg_stat_archiver
"""

# Commit records in the WAL not yet archived, from the first byte after the
# last archived segment (START) to what is flushed (pg_walinspect): how many,
# and the oldest one's commit time (the first field of its description).
UNARCHIVED_COMMITS_SQL = """
SELECT CASE WHEN 'START'::pg_lsn < pg_current_wal_flush_lsn() THEN
  (SELECT json_build_object('commits', count(*), 'oldest', extract(epoch FROM min(
     substring(description FROM '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+(?:[+-][0-9:]+)?')::timestamptz))::float)
   FROM pg_get_wal_records_info('START'::pg_lsn, pg_current_wal_flush_lsn())
   WHERE resource_manager = 'Transaction' AND record_type LIKE 'COMMIT%')
  ELSE json_build_object('commits', 0, 'oldest', NULL) END
"""


def parse_info(text, stanza):
    """The stanza's entry of `pgbackrest --output=json info`, or None."""
    data = json.loads(text)
    for entry in data:
        if entry.get("name") == stanza:
            return entry
    return None


def repo_key(item):
    """Repository index of a backup or archive entry of the info JSON (1 when pgBackRest omits it)."""
    return (item.get("database") or {}).get("repo-key", 1)


def newest_backups(entry, repo=1):
    """Backup type -> the newest backup of that type in repository `repo` (dict from the info JSON)."""
    newest = {}
    for backup in entry.get("backup", []):
        if repo_key(backup) != repo:
            continue
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


def archive_max(entry, repo):
    """Newest WAL segment in repository `repo`'s archive (the newest database id), or None."""
    names = [a.get("max") for a in entry.get("archive", []) if repo_key(a) == repo and a.get("max")]
    return max(names, key=lambda name: wal_position(name) or (-1, -1)) if names else None


def repo_status(entry, repo):
    """(code, message) of repository `repo` in the stanza's info; (None, 'not configured') when absent."""
    for item in entry.get("repo", []):
        if item.get("key") == repo:
            status = item.get("status", {})
            return status.get("code"), status.get("message", "")
    return None, "not configured"


def wal_budget(wal_bytes, free_bytes, budget_mb):
    """Status and text of the WAL disk budget check.

    fail: pg_wal is over the budget, or the file system could not hold pg_wal
    growing to the budget; warn: over 80 % of it; pass otherwise.
    """
    budget = budget_mb * 1024 * 1024
    room = wal_bytes + free_bytes
    text = (
        f"pg_wal {wal_bytes / 2**20:.0f} MiB of a {budget_mb} MiB budget (pgbackrest_wal_budget_mb); "
        f"{free_bytes / 2**20:.0f} MiB free on its file system"
    )
    if wal_bytes > budget:
        return "fail", text + ". Fix: bring the backup host back (WAL is kept until archived), then find why it grew."
    if room < budget:
        return "fail", text + ". Fix: the file system cannot hold the budget - enlarge it or lower the budget."
    if wal_bytes > 0.8 * budget:
        return "warn", text + "; over 80 % of the budget: is archiving stuck?"
    return "pass", text


def unarchived_start(stats):
    """The WAL position just after the last archived segment ('X/Y'), or None.

    A backup history file (<segment>.<offset>.backup, archived after a backup)
    names the segment its backup started in: every segment up to that one is
    archived, so the position after it is a safe start (later segments, if
    archived too, are only read again).
    """
    name = stats.get("last_archived_wal") or ""
    if re.fullmatch(r"[0-9A-F]{24}\.[0-9A-F]{8}\.backup", name):
        name = name[:24]
    start = wal_segment_start(name, stats["segment_size"])
    if start is None:
        return None
    end = start + stats["segment_size"]
    return f"{end >> 32:X}/{end & 0xFFFFFFFF:X}"


def archive_lag(stats, unarchived_commits=None, oldest_commit=None):
    """Seconds of committed data written but not yet archived (the measured RPO), or None when unknown.

    Nothing is at risk when the current WAL position is at the end of the last
    archived segment, or when the WAL after it holds no commit record
    (``unarchived_commits`` 0, read with pg_walinspect): an idle database's
    last archived segment grows old while nothing committed waits. Otherwise
    the age of the oldest unarchived commit (``oldest_commit``, epoch seconds,
    from pg_walinspect) is the lag; without it, the time since the last
    segment was archived is the bound reported.
    """
    now = stats["now"]
    last_time = stats.get("last_archived_time")
    if last_time is None:
        return None
    start = wal_segment_start(stats.get("last_archived_wal"), stats["segment_size"])
    current = lsn_to_int(stats.get("current_lsn"))
    if start is not None and current is not None and current == start + stats["segment_size"]:
        return 0.0
    if unarchived_commits == 0:
        return 0.0
    if unarchived_commits and oldest_commit is not None:
        return max(0.0, now - oldest_commit)
    return max(0.0, now - last_time)


def archive_timeout_problems(running, configured, rpo_target):
    """Why the archive_timeout in force cannot hold the RPO target (empty when it can).

    running: the server's archive_timeout in seconds (None when unknown);
    configured: the role's pgbackrest_archive_timeout. A WAL segment may wait
    archive_timeout before it is switched and about as long again for the
    push, so the budget is 2 x archive_timeout <= the RPO target (the rule of
    roles/pgbackrest/tasks/validate.yml, checked here on the running server).
    """
    problems = []
    if running is None:
        return [f"archive_timeout unknown (pgbackrest_archive_timeout is {configured} s)"]
    if running != configured:
        problems.append(
            f"the server runs archive_timeout {running} s, the role sets {configured} s "
            "(pgbackrest_archive_timeout): reload PostgreSQL or correct the setting"
        )
    if running <= 0:
        problems.append(
            "archive_timeout 0: with little traffic a WAL segment is never switched, so the RPO is unbounded"
        )
    elif 2 * running > rpo_target:
        problems.append(
            f"2 x archive_timeout {running} s = {2 * running} s exceeds the RPO target {rpo_target} s "
            "(pgbackrest_rpo_target_seconds): a segment may wait archive_timeout, the push as long again"
        )
    return problems


def rpo_status(lag, rpo_target, archive_timeout):
    """(status, text) of the measured archive lag against the RPO budget.

    fail: unknown, or beyond the RPO target; warn: within the target but
    beyond 2 x archive_timeout (the switch plus the push took longer than
    their share of the budget: archiving falls behind); pass otherwise.
    """
    if lag is None:
        return "fail", "archive lag unknown (nothing archived yet)"
    budget = 2 * archive_timeout if archive_timeout and archive_timeout > 0 else None
    text = f"WAL not yet in the repository: {lag:.1f} s; RPO target {rpo_target} s" + (
        f", budget 2 x archive_timeout = {budget} s" if budget else ", no archive_timeout budget"
    )
    if lag > rpo_target:
        return "fail", text + " - the RPO target is missed"
    if budget is None:
        return "fail", text + " - without archive_timeout the lag is bounded by traffic, not by the platform"
    if lag > budget:
        return "warn", text + " - beyond the archive_timeout budget: archiving falls behind, the target is at risk"
    return "pass", text


def archiving_healthy(stats):
    """No archive failure since the last success."""
    failed = stats.get("last_failed_time")
    archived = stats.get("last_archived_time")
    return stats.get("archived_count", 0) > 0 and (failed is None or (archived is not None and archived >= failed))


# Where a backup-age check looks: the local repository (repo1) or the off-site one (repo2).
REPOSITORIES = {
    1: {"id": "pgbackrest.backup", "zh": "", "en": "", "where": ""},
    2: {"id": "pgbackrest.offsite.backup", "zh": "异地仓库", "en": " in the off-site repository", "where": " in repo2"},
}


def check_backup_ages(checks, entry, repo, max_age_hours, now):
    """One check per backup type of `max_age_hours` (type -> hours) in repository `repo` (1 local, 2 off-site).

    Each passes when the newest backup that satisfies the type's schedule is
    younger than the limit. Returns the figures: type -> {label, age_seconds}.
    """
    names = REPOSITORIES[repo]
    newest = newest_backups(entry, repo)
    figures = {}
    for kind, limit_hours in sorted(max_age_hours.items()):
        age, label = schedule_age(newest, kind, now)
        zh, en = TYPE_NAMES.get(kind, (kind, kind))
        figures[kind] = {"label": label, "age_seconds": None if age is None else round(age)}
        checks.verdict(
            f"{names['id']}.{kind}",
            f"{names['zh']}最新{zh}备份在计划周期内",
            f"Newest {en} backup{names['en']} within its schedule",
            age is not None and age <= limit_hours * 3600,
            f"newest backup{names['where']} satisfying the {kind} schedule: {label or 'none'}"
            + (f", {age / 3600:.2f} h old" if age is not None else "")
            + f"; limit {limit_hours} h",
            None if age is None else round(age),
        )
    return figures


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
    figures["backups"] = check_backup_ages(checks, entry, 1, params["max_age_hours"], now)
    archives = [a for a in entry.get("archive", []) if repo_key(a) == 1]
    ranges = [f"{a.get('min')}..{a.get('max')}" for a in archives if a.get("max")]
    checks.verdict(
        "pgbackrest.archive",
        "WAL 归档存在于仓库",
        "WAL archive in the repository",
        bool(ranges),
        f"archive ranges: {', '.join(ranges) or 'none'}",
        archive_max(entry, 1),
    )
    if params["offsite"]:
        figures["offsite"] = check_offsite(checks, params, entry, now)
    if params["timers"]:
        timers_verdict(
            checks, "pgbackrest.timers", "备份与校验定时任务已启用", "Backup and verify timers active", params["timers"]
        )
        last_run(
            checks,
            "pgbackrest.verify",
            "最近一次仓库校验(verify)结果",
            "Result of the last scheduled verify",
            "pgbackrest-verify.service",
        )
    return figures


def check_offsite(checks, params, entry, now):
    """Checks of repo2, the off-site repository: reachable, backups on schedule, WAL in step with repo1."""
    code, message = repo_status(entry, 2)
    checks.verdict(
        "pgbackrest.offsite.repo",
        "异地备份仓库(repo2)可达且正常",
        "Off-site repository (repo2) reachable and healthy",
        code == 0,
        f"repo2 status: {message or code}",
        code,
    )
    figures = {"backups": check_backup_ages(checks, entry, 2, params["offsite_max_age_hours"], now)}
    local, offsite = archive_max(entry, 1), archive_max(entry, 2)
    behind = segments_behind(local, offsite)
    figures.update({"archive_max": offsite, "segments_behind": behind})
    checks.verdict(
        "pgbackrest.offsite.archive",
        "异地仓库 WAL 归档与本地仓库同步",
        "Off-site WAL archive in step with the local one",
        behind is not None and behind <= params["offsite_max_wal_behind"],
        f"newest WAL: repo1 {local or 'none'}, repo2 {offsite or 'none'}; "
        f"repo2 is {'?' if behind is None else behind} segment(s) behind (limit {params['offsite_max_wal_behind']})",
        behind,
    )
    return figures


def check_wal_budget(checks, params, stats):
    """pg_wal against the WAL disk budget, on every database host (a mirror is a primary tomorrow)."""
    wal_dir = os.path.join(stats["data_directory"], "pg_wal")
    try:
        fs = os.statvfs(wal_dir)
        free = fs.f_bavail * fs.f_frsize
    except OSError as exc:
        checks.add("pgbackrest.wal_budget", "WAL 磁盘预算", "WAL disk budget", "fail", f"cannot stat {wal_dir}: {exc}")
        return {}
    status, text = wal_budget(stats["pg_wal_bytes"], free, params["wal_budget_mb"])
    checks.add(
        "pgbackrest.wal_budget",
        "pg_wal 在磁盘预算内(备份主机宕机时 WAL 保留不丢)",
        "pg_wal within its disk budget (WAL kept while the backup host is down)",
        status,
        text,
        stats["pg_wal_bytes"],
    )
    return {"pg_wal_bytes": stats["pg_wal_bytes"], "pg_wal_free_bytes": free}


SFTP_ONLY = ("restrict", 'command="/usr/lib/openssh/sftp-server"')


def sftp_only_keys(text):
    """(number of keys, keys not forced to SFTP) in an authorized_keys file's text."""
    keys, loose = 0, []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keys += 1
        options = line.split(" ssh-", 1)[0] if not line.startswith("ssh-") else ""
        if not all(option in options.split(",") for option in SFTP_ONLY):
            loose.append(line.rsplit(" ", 1)[-1])
    return keys, loose


def check_offsite_host(checks, params):
    """The off-site host: SFTP-only keys, the repository closed to others."""
    path = params["offsite_path"]
    try:
        account = pwd.getpwnam(params["offsite_user"])
        with open(os.path.join(path, ".ssh", "authorized_keys"), encoding="utf-8") as handle:
            keys, loose = sftp_only_keys(handle.read())
    except (KeyError, OSError) as exc:
        checks.add(
            "pgbackrest.offsite.sftp_only",
            "异地备份账号仅限 SFTP",
            "Off-site account SFTP only",
            "fail",
            str(exc)[:300],
        )
        return {}
    checks.verdict(
        "pgbackrest.offsite.sftp_only",
        "异地备份账号仅限 SFTP",
        "Off-site account SFTP only",
        keys > 0 and not loose,
        f"{keys} key(s) in {params['offsite_user']}'s authorized_keys; "
        + (f"not forced to sftp-server with restrict: {', '.join(loose)}" if loose else "all forced to sftp-server"),
        keys - len(loose),
    )
    info = os.stat(path)  # exists: authorized_keys was read from inside it
    mode = info.st_mode & 0o777
    checks.verdict(
        "pgbackrest.offsite.directory",
        "异地备份仓库目录归属正确且不对他人开放",
        "Off-site repository owned by its account, closed to others",
        info.st_uid == account.pw_uid and not mode & 0o007,
        f"{path}: owner uid {info.st_uid} (account {account.pw_uid}), mode {mode:04o}",
        f"{mode:04o}",
    )
    newest = 0.0
    for root, _dirs, files in os.walk(os.path.join(path, "archive")):
        for name in files:
            newest = max(newest, os.path.getmtime(os.path.join(root, name)))
    return {"newest_file_age_seconds": round(time.time() - newest) if newest else None}


def check_pg(checks, params):
    stats, error = psql_json(ARCHIVER_SQL, params["port"])
    if stats is None:
        checks.add("pgbackrest.archiving", "WAL 归档运行", "WAL archiving runs", "fail", error[:300])
        return {}
    figures = check_wal_budget(checks, params, stats)
    running = stats.get("archive_timeout")
    problems = archive_timeout_problems(running, params["archive_timeout"], params["rpo_target_seconds"])
    figures["archive_timeout_seconds"] = running
    checks.verdict(
        "pgbackrest.archive_timeout",
        "archive_timeout 符合 RPO 预算",
        "archive_timeout in force fits the RPO budget",
        not problems,
        "; ".join(problems)
        or f"archive_timeout {running} s as the role sets (pgbackrest_archive_timeout); 2 x {running} s "
        f"<= RPO target {params['rpo_target_seconds']} s",
        running,
    )
    if stats["in_recovery"]:
        checks.add(
            "pgbackrest.archiving",
            "WAL 归档运行",
            "WAL archiving runs",
            "skip",
            "mirror in recovery: the primary archives; this host archives once promoted",
        )
        return figures
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
    commits, oldest = None, None
    commits_note = "pg_walinspect not installed: the age of the last archived segment is the bound"
    start = unarchived_start(stats)
    if stats.get("walinspect") and not start:
        commits_note = f"last archived {stats.get('last_archived_wal')} names no segment: its age is the bound"
    if stats.get("walinspect") and start:
        answer, error = psql_json(UNARCHIVED_COMMITS_SQL.replace("START", start), params["port"])
        if answer is None:
            commits_note = f"unarchived WAL not readable ({error}): the age of the last archived segment is the bound"
        else:
            commits, oldest = answer.get("commits"), answer.get("oldest")
            commits_note = f"{commits} commit(s) in the WAL after {start} not yet archived" + (
                f", the oldest {stats['now'] - oldest:.1f} s ago" if commits and oldest is not None else ""
            )
    lag = archive_lag(stats, commits, oldest)
    figures.update(
        {
            "archive_lag_seconds": None if lag is None else round(lag, 1),
            "pending_segments": stats["ready"],
            "unarchived_commits": commits,
        }
    )
    status, text = rpo_status(lag, params["rpo_target_seconds"], running)
    checks.add(
        "pgbackrest.rpo",
        "归档延迟(实测 RPO)在目标内",
        "Archive lag (measured RPO) within target",
        status,
        f"{text} ({stats['ready']} completed segment(s) waiting; {commits_note})",
        figures["archive_lag_seconds"],
    )
    return figures


def main():
    module = AnsibleModule(
        argument_spec={
            "scope": {"type": "str", "required": True, "choices": ["repo", "pg", "offsite"]},
            "stanza": {"type": "str", "required": True},
            "repo_user": {"type": "str", "default": "pgbackrest"},
            "cipher_type": {"type": "str", "default": "aes-256-cbc"},
            "max_age_hours": {"type": "dict", "default": {}},
            "timers": {"type": "list", "elements": "str", "default": []},
            "offsite": {"type": "bool", "default": False},
            "offsite_max_age_hours": {"type": "dict", "default": {}},
            "offsite_max_wal_behind": {"type": "int", "default": 2},
            "offsite_path": {"type": "path", "default": "/var/lib/pgbackrest-offsite"},
            "offsite_user": {"type": "str", "default": "pgbackrest"},
            "wal_budget_mb": {"type": "int", "default": 8192},
            "port": {"type": "int", "default": 5432},
            "archive_timeout": {"type": "int", "default": 60},
            "rpo_target_seconds": {"type": "int", "default": 300},
        },
        supports_check_mode=True,
    )
    checks = CheckList()
    check = {"repo": check_repo, "pg": check_pg, "offsite": check_offsite_host}[module.params["scope"]]
    figures = check(checks, module.params)
    module.exit_json(changed=False, figures=figures, **checks.result())


if __name__ == "__main__":
    main()
