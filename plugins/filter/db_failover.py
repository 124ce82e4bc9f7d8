# Filters for roles/db_failover: WAL positions as numbers, the failover plan
# (what will happen, what may be lost, what blocks it), the timeline switch
# point from a PostgreSQL history file, and the record an auditor reads.
# Plain Python on purpose: tests import it directly.
from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path

MiB = 1024 * 1024


def _module_utils(name):
    """plugins/module_utils/<name>.py, loaded by its path: the check modules' own code, shared with this filter.

    Ansible puts module_utils on the import path of modules only, not of the
    controller's plugins, so the file is loaded from beside this one.
    """
    path = Path(__file__).resolve().parent.parent / "module_utils" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"govops_filter_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_wal = _module_utils("govops_wal")
# The same LSN arithmetic as the check modules: '16/B374D848' -> 0x16B374D848, a - b in bytes.
pg_lsn_int = _wal.lsn_to_int
pg_lsn_diff = _wal.lsn_diff


def pg_timeline_switch(history, timeline):
    """Where the cluster left ``timeline``, from a timeline history file.

    Each line of ``0000000N.history`` is "<parent tli> <switch lsn> <reason>";
    returns the switch LSN of the line whose parent is ``timeline`` (None when
    the history does not leave that timeline).
    """
    for line in (history or "").splitlines():
        words = line.split()
        if len(words) >= 2 and words[0].isdigit() and int(words[0]) == int(timeline):
            return words[1]
    return None


def _state(probe):
    if not probe or not probe.get("reachable"):
        return "unreachable"
    if not probe.get("answered"):
        return "down"
    return "mirror" if probe.get("in_recovery") else "primary"


def db_failover_plan(old, new, params):
    """What the failover will do and whether it may go ahead.

    ``old``/``new``: probes of the current primary and of the mirror to
    promote: {reachable, answered, in_recovery, current_lsn, receive_lsn,
    replay_lsn, replay_at, receiver, timeline}. ``params``: {mode
    (failover/switchover), max_lag_bytes, force_reason, old_host, new_host}.
    """
    mode = params.get("mode", "failover")
    old_state, new_state = _state(old), _state(new)
    problems = []
    if new_state != "mirror":
        problems.append(
            f"{params.get('new_host')} is {new_state}, not a running mirror: only a running mirror can be promoted. "
            "Fix: start it, or name the running mirror in db_failover_new_primary; "
            "if no mirror can run, restore from the off-host backup (playbooks/db_restore_drill.yml shows the way)."
        )
    if mode == "switchover" and old_state != "primary":
        problems.append(
            f"a switchover needs a running primary, but {params.get('old_host')} is {old_state}. "
            "Fix: use db_failover_mode=failover."
        )
    if old_state == "mirror":
        problems.append(
            f"{params.get('old_host')} is a mirror, not the primary: the inventory is out of date "
            "(an earlier failover?). Fix: name the current primary in db_failover_old_primary."
        )
    lag = pg_lsn_diff((old or {}).get("current_lsn"), (new or {}).get("replay_lsn"))
    unreplayed = pg_lsn_diff((new or {}).get("receive_lsn"), (new or {}).get("replay_lsn"))
    limit = int(params.get("max_lag_bytes", 16 * MiB))
    if mode == "failover" and lag is not None and lag > limit and not params.get("force_reason"):
        problems.append(
            f"the mirror is {lag} bytes of WAL behind the primary (limit db_failover_max_lag_bytes={limit}): "
            f"promoting it now would lose them. Fix: wait for it to catch up, use db_failover_mode=switchover, "
            "or set db_failover_force_reason to accept the loss."
        )
    if old_state == "unreachable":
        fence = (
            "unreachable: cannot be stopped; kept out of the application path, "
            "fenced by playbooks/db_rejoin.yml when it returns"
        )
    elif old_state == "down":
        fence = "PostgreSQL is not running: masked so it cannot start"
    else:
        fence = "stop PostgreSQL (clean shutdown sends the last WAL to the mirror) and mask it"
    return {
        "mode": mode,
        "old_host": params.get("old_host"),
        "new_host": params.get("new_host"),
        "old_state": old_state,
        "new_state": new_state,
        "lag_bytes": lag,
        "received_not_replayed_bytes": unreplayed,
        "loss": (
            "none: the switchover waits until the mirror has replayed the primary's last WAL"
            if mode == "switchover"
            else (
                f"up to {lag} bytes of WAL the mirror had not replayed when probed"
                if lag is not None
                else "unknown: the primary did not answer; measured after fencing when it is reachable"
            )
        ),
        "fence": fence,
        "go": not problems,
        "problems": problems,
    }


def _parse_time(value):
    if not value:
        return None
    text = str(value).strip().replace("Z", "+00:00")
    for fmt in (None, "%Y-%m-%d %H:%M:%S.%f%z", "%Y-%m-%d %H:%M:%S%z"):
        try:
            parsed = datetime.fromisoformat(text) if fmt is None else datetime.strptime(text, fmt)
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def db_failover_epoch(value):
    """Seconds since the epoch of an ISO 8601 time (0.0 when it is not one: validate.yml checks the format)."""
    parsed = _parse_time(value)
    return parsed.timestamp() if parsed else 0.0


def _seconds(start, end):
    a, b = _parse_time(start), _parse_time(end)
    return None if a is None or b is None else round((b - a).total_seconds(), 1)


STEP_TITLES = {
    "failed": ("故障发生", "outage began"),
    "detected": ("发现故障", "outage detected"),
    "started": ("开始", "playbook started"),
    "planned": ("预检完成", "pre-checks done"),
    "fenced": ("隔离原主库", "old primary fenced"),
    "caught_up": ("镜像追平", "mirror caught up"),
    "promoted": ("镜像提升为主库", "mirror promoted"),
    "repointed": ("应用访问切换", "application path repointed"),
    "apps_restarted": ("应用服务重启", "application services restarted"),
    "write_verified": ("经应用路径写入验证", "write verified through the application path"),
    "rejoin_fenced": ("原主库隔离", "old primary fenced for rejoin"),
    "rewound": ("原主库回退(pg_rewind)", "old primary rewound"),
    "recloned": ("原主库重新克隆", "old primary cloned again"),
    "streaming": ("新镜像开始复制", "new mirror streams"),
}


def db_failover_record(run, plan, events, outcome, targets):
    """The record of one failover, switchover or rejoin: timeline, figures, verdict.

    ``run``: {id, kind, started, operator, incident_id, reason, force_reason}.
    ``events``: {step name: ISO time}. ``outcome``: what the steps found
    {promoted, fenced, fence_note, final_lsn, replay_lsn, replay_at,
    writes: [{host, ok, server, error}], timeline, discarded_bytes, method}.
    ``targets``: {rto_minutes, rpo_minutes}.
    """
    kind = run.get("kind", "failover")
    # RTO runs from the earliest moment the run knows: the outage's start,
    # else its detection, else the playbook's start.
    start_step = next((step for step in ("failed", "detected") if events.get(step)), "started")
    start = events.get(start_step) or run.get("started")
    timeline = []
    for name, (zh, en) in STEP_TITLES.items():
        if events.get(name):
            timeline.append(
                {
                    "step": name,
                    "zh_CN": zh,
                    "en": en,
                    "at": events[name],
                    "since_start_seconds": _seconds(start, events[name]),
                }
            )
    timeline.sort(key=lambda row: row["at"])
    writes = outcome.get("writes") or []
    writes_ok = bool(writes) and all(w.get("ok") for w in writes)
    end = events.get("write_verified") if kind != "rejoin" else events.get("streaming")
    rto = _seconds(start, end) if end else None
    # The parts of the RTO, each known only when both its ends are.
    phases = {
        "detection_seconds": _seconds(events.get("failed"), events.get("detected")),
        "response_seconds": _seconds(events.get("detected"), events.get("started") or run.get("started")),
        "recovery_seconds": _seconds(events.get("started") or run.get("started"), end) if end else None,
    }
    covers = {
        "failed": ["detection", "response", "recovery"],
        "detected": ["response", "recovery"],
        "started": ["recovery"],
    }[start_step]
    rto_target = float(targets.get("rto_minutes", 30)) * 60
    rpo_target = float(targets.get("rpo_minutes", 5)) * 60
    final, replay = outcome.get("final_lsn"), outcome.get("replay_lsn")
    loss = pg_lsn_diff(final, replay)
    # What could be lost is at most what was committed between the mirror's
    # last replayed commit and the moment the outage was detected.
    gap = _seconds(outcome.get("replay_at"), events.get("detected") or events.get("fenced"))
    if loss is not None:
        rpo = {
            "bytes": max(loss, 0),
            "known": True,
            "seconds_bound": 0.0 if loss <= 0 else gap,
            "basis": f"old primary's last WAL {final} vs replayed {replay}",
        }
    else:
        rpo = {
            "bytes": None,
            "known": False,
            "seconds_bound": gap,
            "basis": (
                f"old primary unreachable: the mirror had replayed up to {replay or 'unknown'}; "
                f"its last replayed commit was {gap if gap is not None else 'unknown'} s before the outage was detected"
            ),
        }
    checks = []
    if kind == "rejoin":
        checks.append(("streaming", bool(events.get("streaming")), "the old primary streams from the new one"))
    else:
        checks.append(("promoted", bool(outcome.get("promoted")), "the mirror was promoted and takes writes"))
        checks.append(
            (
                "write_through_app_path",
                writes_ok,
                "; ".join(
                    f"{w.get('host')}: {'ok via ' + str(w.get('server')) if w.get('ok') else w.get('error')}"
                    for w in writes
                )
                or "no application host checked a write",
            )
        )
        checks.append(
            (
                "fenced",
                bool(outcome.get("fenced")) or plan.get("old_state") == "unreachable",
                outcome.get("fence_note", ""),
            )
        )
        if kind == "switchover":
            checks.append(("zero_loss", rpo["known"] and rpo["bytes"] == 0, rpo["basis"]))
        else:
            # The RPO is judged as the RTO is: a loss window that cannot be
            # bounded, or is bounded above the target, fails the record (the
            # failover itself is done; the record says the contract's RPO was
            # not shown to hold).
            bound = rpo.get("seconds_bound")
            checks.append(
                (
                    "rpo",
                    bound is not None and bound <= rpo_target,
                    f"RPO at most {bound if bound is not None else 'unknown'} s, target {int(rpo_target)} s "
                    f"({rpo['basis']})",
                )
            )
    checks.append(("rto", rto is not None and rto <= rto_target, f"RTO {rto} s, target {int(rto_target)} s"))
    failed = [c for c in checks if not c[1]]
    return {
        "kind": kind,
        "id": run.get("id"),
        "operator": run.get("operator"),
        "incident_id": run.get("incident_id"),
        "reason": run.get("reason"),
        "force_reason": run.get("force_reason") or "",
        "discard_reason": run.get("discard_reason") or "",
        "started": run.get("started"),
        "old_primary": plan.get("old_host"),
        "new_primary": plan.get("new_host"),
        "plan": plan,
        "timeline": timeline,
        "figures": {
            "rto_seconds": rto,
            "rto_target_seconds": rto_target,
            "rto_measured_from": STEP_TITLES[start_step][1],
            "rto_covers": covers,
            "phases": phases,
            "rpo": rpo,
            "rpo_target_seconds": rpo_target,
            "discarded_bytes": outcome.get("discarded_bytes"),
        },
        "outcome": outcome,
        "checks": [{"id": c[0], "status": "pass" if c[1] else "fail", "evidence": c[2]} for c in checks],
        "verdict": "fail" if failed else "pass",
        "reason_failed": "; ".join(f"{c[0]}: {c[2]}" for c in failed),
    }


# absent: no cluster yet; fresh: a running cluster that is no standby and holds
# no user database (what the package creates before the role clones a mirror);
# down: a cluster that is not running and not fenced; fenced: stopped and
# disabled by a failover (start.conf names the run); unreachable: no answer.
TOPOLOGY_STATES = ("absent", "fresh", "down", "primary", "mirror", "fenced", "unreachable")


def db_topology(primary, mirrors, states):
    """Do the inventory's db_primary / db_mirror agree with what the servers are now?

    ``primary``: the inventory's db_primary host; ``mirrors``: its db_mirror hosts;
    ``states``: {host: {state, fenced_by}} from roles/postgresql/tasks/topology_probe.yml,
    state one of TOPOLOGY_STATES.

    Returns {agree, primary_now, fenced, states, problems, record}. ``problems`` are
    sentences naming the host and the fix. ``record`` is what ``./govops topology``
    writes: {primary, mirrors} when exactly one host runs as primary and none is
    fenced or silent, else None (the servers themselves must be settled first).
    """
    hosts = [primary, *mirrors]
    state = {h: (states.get(h) or {}).get("state", "unreachable") for h in hosts}
    fenced_by = {h: (states.get(h) or {}).get("fenced_by", "") or "a failover" for h in hosts}
    running = [h for h in hosts if state[h] == "primary"]
    now = running[0] if len(running) == 1 else None
    problems = []
    if len(running) > 1:
        problems.append(
            f"{' and '.join(running)} all run as primary (split brain): writes may go to either. Fix: keep the one "
            "the application path (HAProxy) points to; ./govops rejoin -e db_failover_old_primary=<the other> "
            "-e db_failover_new_primary=<the one kept> fences the other and makes it the mirror; then ./govops "
            "topology."
        )
    for host in hosts:
        role = "db_primary" if host == primary else "db_mirror"
        if state[host] == "unreachable":
            problems.append(
                f"{host} ({role}) does not answer: whether it is primary, mirror or fenced cannot be checked. "
                "Fix: bring it back; if it is the primary and it failed, ./govops failover."
            )
        elif state[host] == "fenced":
            # A former primary a failover stopped and disabled: it rejoins
            # through pg_rewind, never through a converge (which would try to
            # start it against the mask).
            new = now or ", ".join(m for m in hosts if m != host)
            problems.append(
                f"{host} ({role}) is a former primary, fenced by {fenced_by[host]}"
                + (f"; {now} runs as the primary now" if now else "; no host runs as primary")
                + ". Fix: "
                + (
                    f"./govops rejoin -e db_failover_old_primary={host} -e db_failover_new_primary={new} "
                    f"-e db_failover_confirm={host} (plus incident id and reason) makes it {new}'s mirror"
                    + ("; then ./govops topology records the new roles." if host == primary else ".")
                    if now
                    else f"./govops failover promotes the mirror ({new})."
                )
            )
    if now and now != primary and state[primary] != "fenced":
        problems.append(
            f"the inventory names {primary} as db_primary, but {now} runs as the primary and {primary} is "
            f"{state[primary]}. Fix: ./govops topology records {now} as db_primary and "
            f"{', '.join(h for h in hosts if h != now)} as db_mirror."
        )
    settled = now is not None and not any(state[h] in ("fenced", "unreachable") for h in hosts)
    return {
        "agree": not problems,
        "primary_now": now,
        "fenced": {h: fenced_by[h] for h in hosts if state[h] == "fenced"},
        "states": state,
        "problems": problems,
        "record": {"primary": now, "mirrors": [h for h in hosts if h != now]} if settled else None,
    }


class FilterModule:
    def filters(self):
        return {
            "pg_lsn_int": pg_lsn_int,
            "pg_lsn_diff": pg_lsn_diff,
            "pg_timeline_switch": pg_timeline_switch,
            "db_failover_plan": db_failover_plan,
            "db_failover_record": db_failover_record,
            "db_failover_epoch": db_failover_epoch,
            "db_topology": db_topology,
        }
