#!/usr/bin/python
# Acceptance checks for roles/postgresql. Read-only: safe in check mode, changes nothing.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: pg_replication_check
short_description: Verify a PostgreSQL primary or mirror of the platform
description:
  - Asks the running server (through the local socket, as the postgres OS
    account) and reports, check by check, whether it plays the role the
    inventory gives it, whether every mirror streams from the primary through
    its slot with a replay lag within the limits, whether the synchronous
    state matches the configured mirror mode, and whether data checksums,
    SCRAM-only authentication and TLS are in force.
  - On the primary the lag of each mirror is measured from
    C(pg_stat_replication) (WAL bytes between the primary's current position
    and the mirror's replay position, and C(replay_lag)); on a mirror from
    C(pg_stat_wal_receiver) and the received-but-not-replayed WAL.
  - Read-only; supports check mode. The task does not fail when a check fails;
    the results go to the acceptance report.
options:
  role:
    description: The role the inventory gives this host.
    type: str
    choices: [primary, mirror]
    required: true
  port:
    description: Port of the cluster.
    type: int
    default: 5432
  mirror_mode:
    description: Configured mirror mode; sync expects sync_state sync or quorum.
    type: str
    choices: [async, sync]
    default: async
  mirrors:
    description: On the primary, the application/slot names of the expected mirrors.
    type: list
    elements: str
    default: []
  primary_address:
    description: On a mirror, the address it must stream from.
    type: str
    default: ""
  max_lag_bytes:
    description: Largest replay lag in bytes that passes.
    type: int
    default: 16777216
  max_lag_seconds:
    description: Largest replay lag in seconds that passes.
    type: float
    default: 60
  os_user:
    description: OS account that owns the cluster (peer authentication).
    type: str
    default: postgres
extends_documentation_fragment: [govops_check]
author: govops maintainers
"""

EXAMPLES = r"""
- name: Check the primary and its mirror
  pg_replication_check:
    role: primary
    mirrors: [db2]
    mirror_mode: sync
  register: postgresql_acceptance
"""

RETURN = r"""
checks: {description: One item per check, in order (fields under NOTES)., returned: always, type: list, elements: dict}
summary: {description: Checks per status and the total (NOTES)., returned: always, type: dict}
replication:
  description: On the primary, one item per mirror with lag_bytes and lag_seconds.
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.govops_checks import CheckList, psql_json

SETTINGS_SQL = """
SELECT json_build_object(
  'in_recovery', pg_is_in_recovery(),
  'data_checksums', current_setting('data_checksums'),
  'ssl', current_setting('ssl'),
  'password_encryption', current_setting('password_encryption'),
  'synchronous_standby_names', current_setting('synchronous_standby_names'),
  'hba', (SELECT coalesce(json_agg(h ORDER BY h.line_number), '[]'::json) FROM
          (SELECT line_number, type, database, user_name, address, auth_method, error
             FROM pg_hba_file_rules) h))
"""

PRIMARY_SQL = """
SELECT json_build_object(
  'replication', (SELECT coalesce(json_agg(r), '[]'::json) FROM
    (SELECT application_name, client_addr::text AS client_addr, state, sync_state,
            replay_lsn::text AS replay_lsn,
            pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint AS lag_bytes,
            extract(epoch FROM replay_lag)::float AS replay_lag_seconds
       FROM pg_stat_replication) r),
  'slots', (SELECT coalesce(json_agg(s), '[]'::json) FROM
    (SELECT slot_name, slot_type, active, wal_status FROM pg_replication_slots) s))
"""

MIRROR_SQL = """
SELECT json_build_object(
  'receiver', (SELECT coalesce(json_agg(w), '[]'::json) FROM
    (SELECT status, sender_host, slot_name FROM pg_stat_wal_receiver) w),
  'unreplayed_bytes', pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::bigint,
  'since_last_replay_seconds', extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float)
"""


def mirror_lag(row):
    """Replay lag of one pg_stat_replication row as (bytes, seconds).

    replay_lag is NULL once a mirror has caught up and the primary is idle; a
    mirror with nothing left to replay is 0 seconds behind.
    """
    lag_bytes = row.get("lag_bytes")
    lag_seconds = row.get("replay_lag_seconds")
    if lag_seconds is None and lag_bytes == 0:
        lag_seconds = 0.0
    return lag_bytes, lag_seconds


def expected_sync_states(mode):
    """sync_state values that match the configured mirror mode."""
    return ("sync", "quorum") if mode == "sync" else ("async",)


def hba_problems(rules):
    """pg_hba rules that are not SCRAM (peer allowed on the local socket) or not TLS on the network."""
    problems = []
    for rule in rules:
        line = rule.get("line_number")
        if rule.get("error"):
            problems.append(f"line {line}: {rule['error']}")
            continue
        method = rule.get("auth_method")
        kind = rule.get("type")
        if method == "reject":
            continue
        if kind == "local":
            if method not in ("peer", "scram-sha-256"):
                problems.append(f"line {line}: local rule uses {method}")
        elif method != "scram-sha-256":
            problems.append(f"line {line}: {kind} rule uses {method}")
        elif kind not in ("hostssl",) and rule.get("address") not in ("127.0.0.1", "::1"):
            problems.append(f"line {line}: {kind} rule for {rule.get('address')} does not require TLS")
    return problems


def check_common(checks, settings, role):
    in_recovery = settings["in_recovery"]
    want = role == "mirror"
    checks.verdict(
        "postgresql.role",
        "数据库角色与清单一致",
        "Server plays its inventory role",
        in_recovery == want,
        f"pg_is_in_recovery() = {in_recovery}; the inventory says {role}",
        "mirror" if in_recovery else "primary",
    )
    checks.verdict(
        "postgresql.data_checksums",
        "数据页校验和已启用",
        "Data checksums on",
        settings["data_checksums"] == "on",
        f"SHOW data_checksums = {settings['data_checksums']}",
        settings["data_checksums"],
    )
    problems = hba_problems(settings["hba"])
    encryption = settings["password_encryption"]
    ok = encryption == "scram-sha-256" and not problems
    checks.verdict(
        "postgresql.scram_only",
        "仅允许 SCRAM 认证且网络连接须加密",
        "SCRAM only, TLS on the network (pg_hba)",
        ok,
        f"password_encryption = {encryption}; {len(settings['hba'])} pg_hba rule(s)"
        + (f"; problems: {'; '.join(problems)}" if problems else "; all SCRAM (peer on the local socket), hostssl"),
        len(problems),
    )
    checks.verdict(
        "postgresql.tls",
        "传输加密(TLS)已启用",
        "TLS on",
        settings["ssl"] == "on",
        f"SHOW ssl = {settings['ssl']}",
        settings["ssl"],
    )


def check_primary(checks, state, params):
    rows = {row["application_name"]: row for row in state["replication"]}
    slots = {slot["slot_name"]: slot for slot in state["slots"]}
    wanted = expected_sync_states(params["mirror_mode"])
    report = []
    for name in params["mirrors"]:
        row = rows.get(name)
        slot = slots.get(name)
        if row is None:
            checks.verdict(
                f"postgresql.mirror.{name}.streaming",
                f"镜像 {name} 正在流复制",
                f"Mirror {name} streams",
                False,
                f"no pg_stat_replication row with application_name {name} (connected: {', '.join(rows) or 'none'})",
                None,
            )
            report.append({"mirror": name, "state": None, "lag_bytes": None, "lag_seconds": None})
        else:
            lag_bytes, lag_seconds = mirror_lag(row)
            report.append(
                {
                    "mirror": name,
                    "client_addr": row["client_addr"],
                    "state": row["state"],
                    "sync_state": row["sync_state"],
                    "lag_bytes": lag_bytes,
                    "lag_seconds": lag_seconds,
                }
            )
            checks.verdict(
                f"postgresql.mirror.{name}.streaming",
                f"镜像 {name} 正在流复制",
                f"Mirror {name} streams",
                row["state"] == "streaming",
                f"pg_stat_replication: state {row['state']} from {row['client_addr']}",
                row["state"],
            )
            lag_ok = (
                lag_bytes is not None
                and lag_bytes <= params["max_lag_bytes"]
                and (lag_seconds or 0) <= params["max_lag_seconds"]
            )
            checks.verdict(
                f"postgresql.mirror.{name}.lag",
                f"镜像 {name} 回放延迟",
                f"Mirror {name} replay lag",
                lag_ok,
                f"replay lag {lag_bytes} bytes, {lag_seconds if lag_seconds is not None else 'unknown'} s; "
                f"limits {params['max_lag_bytes']} bytes, {params['max_lag_seconds']} s",
                {"bytes": lag_bytes, "seconds": lag_seconds},
            )
            checks.verdict(
                f"postgresql.mirror.{name}.sync_state",
                f"镜像 {name} 同步状态符合配置",
                f"Mirror {name} sync state as configured",
                row["sync_state"] in wanted,
                f"sync_state {row['sync_state']}; mirror mode {params['mirror_mode']} expects {' or '.join(wanted)}",
                row["sync_state"],
            )
        checks.verdict(
            f"postgresql.mirror.{name}.slot",
            f"镜像 {name} 的复制槽在用",
            f"Replication slot of {name} active",
            bool(slot) and slot["active"] and slot["slot_type"] == "physical",
            f"slot {name}: "
            + (f"{slot['slot_type']}, active {slot['active']}, wal_status {slot['wal_status']}" if slot else "missing"),
            slot["wal_status"] if slot else None,
        )
    return report


def check_mirror(checks, state, params):
    receivers = state["receiver"]
    receiver = receivers[0] if receivers else None
    ok = bool(receiver) and receiver["status"] == "streaming"
    if params["primary_address"] and receiver:
        ok = ok and receiver["sender_host"] == params["primary_address"]
    checks.verdict(
        "postgresql.receiver",
        "镜像从主库接收 WAL",
        "Mirror receives WAL from the primary",
        ok,
        (
            f"pg_stat_wal_receiver: {receiver['status']} from {receiver['sender_host']} slot {receiver['slot_name']}; "
            f"expected primary {params['primary_address'] or 'any'}"
        )
        if receiver
        else "no WAL receiver running",
        receiver["status"] if receiver else None,
    )
    unreplayed = state["unreplayed_bytes"]
    since = state["since_last_replay_seconds"]
    checks.verdict(
        "postgresql.replay",
        "镜像回放已接收的 WAL",
        "Mirror replays what it received",
        unreplayed is not None and unreplayed <= params["max_lag_bytes"],
        f"received but not replayed: {unreplayed} bytes (limit {params['max_lag_bytes']}); "
        f"last replayed transaction {since if since is not None else 'unknown'} s ago (idle primaries make this grow)",
        {"unreplayed_bytes": unreplayed, "since_last_replay_seconds": since},
    )


def main():
    module = AnsibleModule(
        argument_spec={
            "role": {"type": "str", "required": True, "choices": ["primary", "mirror"]},
            "port": {"type": "int", "default": 5432},
            "mirror_mode": {"type": "str", "default": "async", "choices": ["async", "sync"]},
            "mirrors": {"type": "list", "elements": "str", "default": []},
            "primary_address": {"type": "str", "default": ""},
            "max_lag_bytes": {"type": "int", "default": 16777216},
            "max_lag_seconds": {"type": "float", "default": 60},
            "os_user": {"type": "str", "default": "postgres"},
        },
        supports_check_mode=True,
    )
    params = module.params
    checks = CheckList()
    settings, error = psql_json(SETTINGS_SQL, params["port"], params["os_user"])
    checks.verdict(
        "postgresql.service",
        "数据库服务可连接",
        "Database answers",
        settings is not None,
        f"psql on port {params['port']}: " + ("answered" if settings is not None else error),
        None,
    )
    replication = []
    if settings is not None:
        check_common(checks, settings, params["role"])
        if params["role"] == "primary" and not settings["in_recovery"]:
            state, error = psql_json(PRIMARY_SQL, params["port"], params["os_user"])
            if state is None:
                checks.add("postgresql.replication", "复制状态", "Replication state", "fail", error)
            else:
                replication = check_primary(checks, state, params)
        elif params["role"] == "mirror" and settings["in_recovery"]:
            state, error = psql_json(MIRROR_SQL, params["port"], params["os_user"])
            if state is None:
                checks.add("postgresql.replication", "复制状态", "Replication state", "fail", error)
            else:
                check_mirror(checks, state, params)
    module.exit_json(changed=False, replication=replication, **checks.result())


if __name__ == "__main__":
    main()
