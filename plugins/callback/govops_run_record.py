"""Record every playbook run of this repository: who, from which commit, on which hosts, what changed (issue 22).

GB/T 22239-2019 8.1.5.1-a / 8.1.5.2-a: the administrators' own operations are
audited. This callback writes one JSON record per ansible-playbook run; an
auditor reads them with scripts/run_records.py ("every change to host X in the
last 180 days").
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: govops_run_record
type: notification
short_description: One audit record per playbook run (operator, commit, inventory, ticket, changes)
description:
  - Writes, when a playbook run ends, one JSON line to C(runs-YYYY-MM.jsonl) in O(record_dir) (directory 0750,
    file 0640) and a one-line summary to the controller's syslog (facility authpriv, tag C(govops-run)), from
    where the controller's own log forwarding takes it to the central log host.
  - The record holds the operator (the login name behind sudo, and the effective user), the controller, the
    repository commit and whether the working tree had uncommitted changes (and how many files), the
    playbook, inventory sources, limit, tags, check and diff mode, the change ticket (extra variable
    C(change_ticket), or the change id a role asks for), the names of the other extra variables (never their
    values, which may be secrets), per-host counts, and every task that reported a change (play, task name,
    action, host; no results). In check mode those are what the run would have changed
    (C(hosts_would_change)); C(hosts_changed) is then empty.
  - A run interrupted before its end (Ctrl-C, a crash of ansible-playbook) writes no record; the syslog line
    of the start (C(govops-run start ...)) shows it began.
options:
  record_dir:
    description: Directory of the monthly record files.
    default: /var/log/govops/runs
    env:
      - name: GOVOPS_RUN_RECORD_DIR
    ini:
      - section: callback_govops_run_record
        key: record_dir
  syslog:
    description: Also send the start and the summary to the controller's syslog (authpriv).
    type: bool
    default: true
    env:
      - name: GOVOPS_RUN_RECORD_SYSLOG
    ini:
      - section: callback_govops_run_record
        key: syslog
"""

import datetime
import getpass
import json
import os
import socket
import subprocess
import syslog
import uuid
from pathlib import Path

from ansible import context
from ansible.plugins.callback import CallbackBase

RECORD_VERSION = "govops-run/1"
# Where a run names its change ticket: the generic extra variable, then the change ids roles already ask for
# (playbooks/change_ticket.yml accepts the same).
TICKET_VARS = ("change_ticket", "patching_change_id", "db_restore_drill_change_id", "db_pitr_change_id")
# Recap counters kept per host, in Ansible's own names.
COUNTERS = ("ok", "changed", "failures", "unreachable", "skipped", "rescued", "ignored")


def _now():
    return datetime.datetime.now(datetime.UTC)


def _git(directory, *args):
    """Output of git in the playbook's repository, or None when it is not one (or git is missing)."""
    try:
        proc = subprocess.run(  # noqa: S603
            ["git", "-C", str(directory), *args],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None


def source_of(directory):
    """The commit the run came from and whether the working tree differed from it."""
    top = _git(directory, "rev-parse", "--show-toplevel")
    if top is None:
        return {"repository": None, "commit": None, "branch": None, "dirty": None, "dirty_files": None}
    top = top.strip()
    commit = (_git(top, "rev-parse", "HEAD") or "").strip() or None
    branch = (_git(top, "rev-parse", "--abbrev-ref", "HEAD") or "").strip() or None
    status = _git(top, "status", "--porcelain", "--untracked-files=normal")
    changed = [line for line in (status or "").splitlines() if line.strip()]
    return {
        "repository": top,
        "commit": commit,
        "branch": branch,
        "dirty": bool(changed) if status is not None else None,
        "dirty_files": len(changed) if status is not None else None,
    }


def operator():
    """The person behind the run: the login name behind sudo when there is one, and the effective user."""
    effective = getpass.getuser()
    login = os.environ.get("SUDO_USER") or effective
    return {"user": login, "effective_user": effective, "controller": socket.getfqdn()}


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "govops_run_record"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._record = None
        self._started = None
        self._play = None
        self._extra_read = False

    # -------------------------------------------------------------- events

    def v2_playbook_on_start(self, playbook):
        self._started = _now()
        path = Path(playbook._file_name).resolve()
        args = context.CLIARGS
        self._record = {
            "record": RECORD_VERSION,
            "run_id": str(uuid.uuid4()),
            "started": self._started.isoformat(timespec="seconds"),
            "operator": operator(),
            "source": source_of(path.parent),
            "playbook": str(path),
            "inventory": [str(Path(i).resolve()) if os.path.exists(i) else i for i in args.get("inventory") or ()],
            "limit": args.get("subset"),
            "tags": sorted(t for t in args.get("tags") or () if t != "all"),
            "skip_tags": sorted(args.get("skip_tags") or ()),
            "check_mode": bool(args.get("check")),
            "diff": bool(args.get("diff")),
            "change_ticket": None,
            "change_ticket_variable": None,
            "extra_var_names": [],
            "changes": [],
        }
        src = self._record["source"]
        self._syslog(
            f"govops-run start run_id={self._record['run_id']} user={self._record['operator']['user']}"
            f" playbook={path.name} commit={src['commit']} dirty={src['dirty']}"
        )

    def v2_playbook_on_play_start(self, play):
        self._play = play.get_name()
        if self._record is None or self._extra_read:
            return  # the first play reads the extra variables; they are the same for every play
        self._extra_read = True
        manager = getattr(play, "_variable_manager", None)
        extra = dict(getattr(manager, "extra_vars", None) or {})
        given = [(name, str(extra[name]).strip()) for name in TICKET_VARS if str(extra.get(name) or "").strip()]
        self._record["change_ticket"] = given[0][1] if given else None
        self._record["change_ticket_variable"] = given[0][0] if given else None
        # Names only: an extra variable's value may be a secret.
        self._record["extra_var_names"] = sorted(extra)

    def v2_runner_on_ok(self, result):
        if self._record is None or not result.is_changed():
            return
        self._record["changes"].append(
            {
                "host": result.host.get_name(),
                "play": self._play,
                "task": result.task.get_name(),
                "action": result.task.action,
                "check_mode": bool(self._record["check_mode"]),
            }
        )

    def v2_playbook_on_stats(self, stats):
        if self._record is None:
            return
        ended = _now()
        hosts = {}
        for host in sorted(stats.processed):
            summary = stats.summarize(host)
            hosts[host] = {name: int(summary.get(name, 0)) for name in COUNTERS}
        failed = any(h["failures"] or h["unreachable"] for h in hosts.values())
        touched = sorted({c["host"] for c in self._record["changes"]})
        self._record |= {
            "ended": ended.isoformat(timespec="seconds"),
            "duration_seconds": round((ended - self._started).total_seconds(), 1),
            "hosts": hosts,
            # A check-mode run changes nothing: what it would have changed is kept apart.
            "hosts_changed": [] if self._record["check_mode"] else touched,
            "hosts_would_change": touched if self._record["check_mode"] else [],
            "result": "failed" if failed else "ok",
        }
        where = self._write()
        record = self._record
        self._syslog(
            f"govops-run end run_id={record['run_id']} result={record['result']} user={record['operator']['user']}"
            f" playbook={Path(record['playbook']).name} commit={record['source']['commit']}"
            f" dirty={record['source']['dirty']} ticket={record['change_ticket']} check={record['check_mode']}"
            f" hosts_changed={','.join(record['hosts_changed']) or '-'} changes={len(record['changes'])}"
            f" record={where}"
        )

    # -------------------------------------------------------------- output

    def _write(self):
        """Append the record to this month's file; the path, or why it could not be written (also displayed)."""
        directory = Path(self.get_option("record_dir"))
        path = directory / f"runs-{_now():%Y-%m}.jsonl"
        try:
            directory.mkdir(mode=0o750, parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            with os.fdopen(fd, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(self._record, ensure_ascii=False, sort_keys=True) + "\n")
        except OSError as exc:
            self._display.warning(f"govops_run_record: the run record could not be written to {path}: {exc}")
            return f"not-written:{exc.__class__.__name__}"
        return str(path)

    def _syslog(self, message):
        if not self.get_option("syslog"):
            return
        syslog.openlog("govops-run", 0, syslog.LOG_AUTHPRIV)
        syslog.syslog(syslog.LOG_NOTICE, message)
        syslog.closelog()
