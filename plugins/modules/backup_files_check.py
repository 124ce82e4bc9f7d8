#!/usr/bin/python
# Acceptance checks for roles/backup_files. Read-only: safe in check mode, changes nothing.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: backup_files_check
short_description: Verify the restic file backups of a host and the repositories on the backup host
description:
  - With I(scope=client), on a host that backs up, opens its restic
    repository with the key (C(restic cat config) decrypts the repository's
    config, so the SFTP path, the pinned host key and the password all work),
    proves that the repository refuses a wrong password (restic encrypts
    every repository; without the key nothing can be read), reports the age
    of the newest snapshot of every set against its limit, whether the
    backup and check timers are active, the result of the last scheduled
    backup and of the last scheduled C(restic check).
  - With I(scope=repo), on the backup host, for every client account reports
    whether sshd confines it to SFTP in its own chroot (C(sshd -T -C user=...) shows
    ForceCommand internal-sftp, ChrootDirectory, no TTY, no forwarding, let in
    by AllowGroups); whether the chroot is root's and the repository the
    account's alone (0700), and whether the repository is encrypted at rest
    (its config file is ciphertext, not JSON) and holds snapshots.
  - restic runs with C(--no-lock --no-cache), so nothing is written to the
    repository or the cache. Supports check mode. The task does not fail when
    a check fails; the results go to the acceptance report.
options:
  scope:
    description: client on a host that backs up, repo on the backup host.
    type: str
    choices: [client, repo]
    required: true
  sets:
    description: The host's sets, each with name and max_age_hours (scope client).
    type: list
    elements: dict
    default: []
  env_file:
    description: restic's environment file (RESTIC_REPOSITORY, RESTIC_PASSWORD_FILE) (scope client).
    type: path
    default: /etc/backup_files/restic.env
  timers:
    description: systemd timers that must be active (scope client).
    type: list
    elements: str
    default: []
  backup_service:
    description: The scheduled backup unit whose last result is reported (scope client).
    type: str
    default: backup-files.service
  check_service:
    description: The restic check unit whose last result is reported (scope client).
    type: str
    default: backup-files-check.service
  accounts:
    description: Client name to its account on the backup host (scope repo).
    type: dict
    default: {}
  repo_root:
    description: Directory holding one chroot per account (scope repo).
    type: path
    default: /srv/restic
  sftp_group:
    description: Group of the client accounts (scope repo).
    type: str
    default: sftpbackup
extends_documentation_fragment: [govops_check]
author: govops maintainers
"""

EXAMPLES = r"""
- name: Check this host's backups
  backup_files_check:
    scope: client
    sets: [{name: config, max_age_hours: 30}, {name: redis, max_age_hours: 30}]
    timers: [backup-files.timer, backup-files-check.timer]
  register: backup_files_acceptance

- name: Check the repositories on the backup host
  backup_files_check:
    scope: repo
    accounts: {redis1: restic-redis1}
  register: backup_files_acceptance
"""

RETURN = r"""
checks: {description: One item per check, in order (fields under NOTES)., returned: always, type: list, elements: dict}
summary: {description: Checks per status and the total (NOTES)., returned: always, type: dict}
figures:
  description: >-
    Figures for the acceptance report - per set the newest snapshot, its time,
    age in seconds and the number of snapshots, and the repository format
    version (scope client); per account the snapshot count and the bytes
    stored (scope repo).
  returned: always
  type: dict
"""

import json
import os
import re
import secrets
import stat
import time
from datetime import datetime

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.govops_checks import CheckList, last_run, run, sshd_settings, timers_verdict

RESTIC = ["restic", "--no-lock", "--no-cache"]
# restic's exit code for a wrong password or no matching key (0.17 and later).
EXIT_WRONG_PASSWORD = 12
# sshd -T keys (lower case) and the values an SFTP-only, chrooted account needs.
SFTP_ONLY = {
    "forcecommand": "internal-sftp",
    "permittty": "no",
    "allowtcpforwarding": "no",
    "allowagentforwarding": "no",
    "x11forwarding": "no",
    "permittunnel": "no",
}


# The scheduled units whose last run is judged: check id, the option naming the unit, titles.
LAST_RUNS = (
    ("backup_files.last_backup", "backup_service", "最近一次计划备份结果", "Result of the last scheduled backup"),
    (
        "backup_files.repo_check",
        "check_service",
        "最近一次仓库校验(restic check)结果",
        "Result of the last scheduled restic check",
    ),
)


def parse_env_file(text):
    """KEY=value lines of a systemd EnvironmentFile; comments and blank lines ignored."""
    env = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        env[key.strip()] = value
    return env


def parse_time(text):
    """Seconds since the epoch of a restic timestamp (RFC 3339, nanoseconds, Z or an offset)."""
    match = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?$", text.strip())
    if not match:
        raise ValueError(f"not a restic timestamp: {text!r}")
    base, fraction, zone = match.groups()
    stamp = datetime.fromisoformat(base + ("+00:00" if zone in (None, "Z") else zone))
    return stamp.timestamp() + (float("0." + fraction) if fraction else 0.0)


def set_name(snapshot):
    """The set a snapshot belongs to (its set:<name> tag), or None."""
    for tag in snapshot.get("tags") or []:
        if tag.startswith("set:"):
            return tag[4:]
    return None


def newest_per_set(snapshots):
    """Set name -> {id, time, epoch, count} of its newest snapshot (any kind of run)."""
    newest = {}
    for snapshot in snapshots:
        name = set_name(snapshot)
        if name is None:
            continue
        epoch = parse_time(snapshot["time"])
        entry = newest.setdefault(name, {"count": 0, "epoch": None})
        entry["count"] += 1
        if entry["epoch"] is None or epoch > entry["epoch"]:
            entry.update(id=snapshot.get("short_id") or snapshot.get("id", "")[:8], time=snapshot["time"], epoch=epoch)
    return newest


def set_age(newest, name, now):
    """Age in seconds of the set's newest snapshot, or None when it has none."""
    entry = newest.get(name)
    if not entry or entry["epoch"] is None:
        return None
    return max(0.0, now - entry["epoch"])


def sftp_problems(settings, chroot, group):
    """What lets an account do more than SFTP inside its chroot (empty when confined)."""
    problems = [
        f"{key} {settings.get(key, 'unset')} (want {want})"
        for key, want in SFTP_ONLY.items()
        if settings.get(key, "").split(" ")[0] != want
    ]
    if settings.get("chrootdirectory") not in (chroot, chroot.rsplit("/", 1)[0] + "/%u"):
        problems.append(f"chrootdirectory {settings.get('chrootdirectory', 'unset')} (want {chroot})")
    allowed = settings.get("allowgroups", "").split()
    if allowed and group not in allowed:
        problems.append(f"allowgroups {' '.join(allowed)} lacks {group}: the client is refused")
    return problems


def looks_encrypted(data):
    """True when a restic file's bytes are ciphertext: not JSON, not mostly printable text."""
    if not data:
        return False
    try:
        json.loads(data.decode("utf-8"))
        return False
    except (UnicodeDecodeError, ValueError):
        pass
    printable = sum(1 for byte in data if 32 <= byte < 127 or byte in (9, 10, 13))
    return printable / len(data) < 0.9


def restic_env(env_file):
    with open(env_file, encoding="utf-8") as handle:
        return parse_env_file(handle.read())


def check_client(checks, params):
    figures = {"sets": {}}
    try:
        env = restic_env(params["env_file"])
    except OSError as exc:
        checks.add("backup_files.repository", "备份仓库可访问", "Repository reachable", "fail", f"{exc}")
        return figures
    os.environ.update(env)
    repository = env.get("RESTIC_REPOSITORY", "unset")
    rc, out, err = run([*RESTIC, "cat", "config"], timeout=120)
    config = {}
    if rc == 0:
        try:
            config = json.loads(out)
        except ValueError:
            config = {}
    figures["repository_version"] = config.get("version")
    checks.verdict(
        "backup_files.repository",
        "备份仓库可访问且密钥有效",
        "Repository reachable, key valid",
        bool(config.get("id")),
        f"restic cat config on {repository}: "
        + (
            f"repository {config['id'][:8]}, format version {config.get('version')}"
            if config.get("id")
            else f"rc {rc}: {(err or out).strip()[:300]}"
        ),
        config.get("version"),
    )
    # A random password must be refused: restic encrypts every repository,
    # and this shows that this one cannot be opened without its key.
    wrong = {key: value for key, value in os.environ.items() if key != "RESTIC_PASSWORD_FILE"}
    wrong["RESTIC_PASSWORD"] = secrets.token_urlsafe(24)
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(wrong)
    try:
        wrong_rc, _out, wrong_err = run([*RESTIC, "cat", "config"], timeout=120)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    refused = wrong_rc == EXIT_WRONG_PASSWORD or "wrong password" in wrong_err
    checks.verdict(
        "backup_files.encrypted",
        "备份仓库已加密(无密钥无法读取)",
        "Repository encrypted (unreadable without the key)",
        bool(config.get("id")) and refused,
        f"opened with the key: {'yes' if config.get('id') else 'no'}; with a random password: "
        + ("refused (wrong password or no key found)" if refused else f"rc {wrong_rc}: {wrong_err.strip()[:200]}"),
        "refused" if refused else wrong_rc,
    )
    if not config.get("id"):
        return figures
    rc, out, err = run([*RESTIC, "snapshots", "--json"], timeout=300)
    try:
        newest = newest_per_set(json.loads(out)) if rc == 0 else None
    except (ValueError, KeyError):
        newest = None
    now = time.time()
    for entry in params["sets"]:
        name, limit = entry["name"], float(entry["max_age_hours"])
        age = None if newest is None else set_age(newest, name, now)
        found = (newest or {}).get(name, {})
        figures["sets"][name] = {
            "snapshot": found.get("id"),
            "time": found.get("time"),
            "age_seconds": None if age is None else round(age),
            "snapshots": found.get("count", 0),
        }
        checks.verdict(
            f"backup_files.set.{name}",
            f"文件集 {name} 最新快照在时限内",
            f"Newest snapshot of set {name} within its limit",
            age is not None and age <= limit * 3600,
            (
                f"restic snapshots failed, rc {rc}: {(err or out).strip()[:200]}"
                if newest is None
                else f"newest snapshot of set {name}: {found.get('id') or 'none'}"
                + (f" at {found['time'][:19]}, {age / 3600:.2f} h old" if age is not None else "")
                + f"; {found.get('count', 0)} snapshot(s); limit {limit:g} h"
            ),
            None if age is None else round(age),
        )
    if params["timers"]:
        timers_verdict(
            checks,
            "backup_files.timers",
            "备份与校验定时任务已启用",
            "Backup and check timers active",
            params["timers"],
        )
    for check_id, option, zh, en in LAST_RUNS:
        last_run(checks, check_id, zh, en, params[option])
    return figures


def account_dirs(repo_root, account):
    """(problems, repo path) of the chroot and repository directories of an account."""
    chroot = f"{repo_root}/{account}"
    repo = f"{chroot}/repo"
    problems = []
    for path, want_owner_root in ((repo_root, True), (chroot, True), (repo, False)):
        try:
            info = os.stat(path)
        except OSError as exc:
            problems.append(f"{path}: {exc.strerror}")
            continue
        mode = stat.S_IMODE(info.st_mode)
        if want_owner_root and (info.st_uid != 0 or mode & 0o022):
            problems.append(f"{path}: uid {info.st_uid} mode {mode:04o} (sshd wants root's, not group/other-writable)")
        if not want_owner_root and (info.st_uid == 0 or mode & 0o077):
            problems.append(f"{path}: uid {info.st_uid} mode {mode:04o} (want the account's, 0700)")
    return problems, repo


def repo_usage(repo):
    """(snapshot count, bytes) of a repository directory."""
    try:
        count = len(os.listdir(f"{repo}/snapshots"))
    except OSError:
        count = 0
    total = 0
    for folder, _dirs, files in os.walk(repo):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                continue
    return count, total


def check_repo(checks, params):
    figures = {"accounts": {}}
    root, group = params["repo_root"].rstrip("/"), params["sftp_group"]
    for client, account in sorted(params["accounts"].items()):
        rc, settings, error = sshd_settings(f"user={account},host={client},addr=127.0.0.1")
        problems = (
            sftp_problems(settings, f"{root}/{account}", group)
            if rc == 0
            else [f"sshd -T for {account}: {error[:200]}"]
        )
        dir_problems, repo = account_dirs(root, account)
        problems += dir_problems
        checks.verdict(
            f"backup_files.isolation.{client}",
            f"{client} 的备份账户仅限 SFTP 且隔离在自身目录",
            f"Account of {client}: SFTP only, confined to its own repository",
            not problems,
            "; ".join(problems)
            or f"{account}: internal-sftp, chroot {root}/{account}, no TTY or forwarding; repo/ 0700 its own",
            len(problems),
        )
        try:
            with open(f"{repo}/config", "rb") as handle:
                head = handle.read(4096)
        except OSError as exc:
            head, missing = b"", exc.strerror
        else:
            missing = None
        count, size = repo_usage(repo)
        figures["accounts"][account] = {"client": client, "snapshots": count, "bytes": size}
        encrypted = looks_encrypted(head)
        checks.verdict(
            f"backup_files.at_rest.{client}",
            f"{client} 的备份仓库静态加密且有快照",
            f"Repository of {client} encrypted at rest, with snapshots",
            encrypted and count > 0,
            (
                f"{repo}/config: {missing}"
                if missing
                else f"{repo}/config is {'ciphertext' if encrypted else 'readable text'} ({len(head)} bytes read)"
            )
            + f"; {count} snapshot(s), {size / 1048576:.1f} MiB stored",
            count,
        )
    return figures


def main():
    module = AnsibleModule(
        argument_spec={
            "scope": {"type": "str", "required": True, "choices": ["client", "repo"]},
            "sets": {"type": "list", "elements": "dict", "default": []},
            "env_file": {"type": "path", "default": "/etc/backup_files/restic.env"},
            "timers": {"type": "list", "elements": "str", "default": []},
            "backup_service": {"type": "str", "default": "backup-files.service"},
            "check_service": {"type": "str", "default": "backup-files-check.service"},
            "accounts": {"type": "dict", "default": {}},
            "repo_root": {"type": "path", "default": "/srv/restic"},
            "sftp_group": {"type": "str", "default": "sftpbackup"},
        },
        supports_check_mode=True,
    )
    checks = CheckList()
    check = check_client if module.params["scope"] == "client" else check_repo
    figures = check(checks, module.params)
    module.exit_json(changed=False, figures=figures, **checks.result())


if __name__ == "__main__":
    main()
