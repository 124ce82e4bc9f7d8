"""Bad input stops a run before anything changes, naming the variable and the fix (issue 21).

One ansible-playbook run covers every case: each case is a host of its own
(connection local, the control host itself) with the bad value in its host
variables, in the group of the role it tests; the play of that role runs only
the role's validation (the argument specs and tasks/validate.yml, the first
thing a real run does). A host that fails stops on its own, so each rule's
message is read back for its host and asserted separately. Each role also has
a host with the good values: it must pass with nothing changed, so every rule
is proven both ways. The run is in check mode as well (db_proxy's validation
asks the primary; in check mode an unreachable one is not an error).

playbooks/preflight.yml, which playbooks/site.yml runs first, is imported as
it is: it checks every host's maintenance windows (roles/patching), so an
impossible time fails when the platform is converged, not on patch night.
"""

from __future__ import annotations

import pytest
import yaml
from ansible_run import REPO, local_vars, run_playbook

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGovb3BzdGVzdGtleWZvcnZhbGlkYXRpb25vbmx5MDAwMA test"

# (role, host, host variables, texts its failure must contain, one per rule). Host variables None: the
# role's good case. Rules of one "settings are in range and well-formed" task report every problem in one
# message, so one host carries several bad values, each asserted on its own; rules that stop the run by
# themselves (or share a variable) have a host of their own.
CASES = [
    # playbooks/preflight.yml (site.yml): maintenance windows of every host
    (
        "preflight",
        "pw-windows",
        {
            "patching_windows": [
                {"days": ["sat"], "start": "25:00", "end": "06:00"},
                {"days": ["sun"], "start": "22:00", "end": "12:60"},
            ]
        },
        ["patching_windows[0].start '25:00' is not HH:MM", "patching_windows[1].end '12:60' is not HH:MM"],
    ),
    # roles/redis
    ("redis", "rd-good", None, None),
    (
        "redis",
        "rd-dup-ports",
        {"redis_ports": [7000, 7000]},
        ["redis_ports is [7000, 7000]: port(s) 7000 listed more than once"],
    ),
    (
        "redis",
        "rd-port-range",
        {"redis_ports": [700, 7001]},
        ["redis_ports is [700, 7001]: it must list at least one port"],
    ),
    (
        "redis",
        "rd-bus-clash",
        {"redis_ports": [7000, 17000]},
        ["port(s) 17000 would also be the cluster bus (port + 10000) of another instance"],
    ),
    (
        "redis",
        "rd-no-replicas",
        {"redis_cluster_replicas": 0},
        [
            "redis_cluster_replicas is 0: no master would have a replica",
            "Fix: set redis_cluster_replicas: 1 (or more); only if this cluster may really go without failover, "
            "keep 0 and say why in redis_cluster_replicas_zero_reason",
        ],
    ),
    (
        "redis",
        "rd-settings",
        {
            "redis_cluster_node_timeout": 100,
            "redis_databases": 0,
            "redis_save": ["3600"],
            "redis_alert_thresholds": {"memory_percent": 120},
            "redis_scale_out_key_tolerance_percent": 150,
            "redis_tls_enabled": True,
            "redis_tls_generate_ca": True,
            "redis_tls_min_valid_days": 0,
            "redis_crash_failover_max_link_down_seconds": 61,
            "redis_cluster_replica_validity_factor": 101,
            "redis_repl_diskless_sync_delay": 61,
            "redis_min_replicas_to_write": -1,
            "redis_min_replicas_max_lag": -1,
        },
        [
            "redis_cluster_node_timeout is 100 ms",
            "redis_databases is 0",
            'redis_save has ["3600"]',
            'redis_alert_thresholds is {"memory_percent": 120}',
            "redis_scale_out_key_tolerance_percent is 150",
            "redis_tls_min_valid_days is 0",
            "redis_crash_failover_max_link_down_seconds is 61. Fix: 0 to 60 seconds",
            "redis_cluster_replica_validity_factor is 101. Fix: 0 to 100 (default 10)",
            "redis_repl_diskless_sync_delay is 61. Fix: 0 to 60 seconds (default 5)",
            "redis_min_replicas_to_write is -1. Fix: 0 (the default",
            "redis_min_replicas_max_lag is -1. Fix: 0 or more seconds (default 10",
        ],
    ),
    (
        "redis",
        "rd-min-replicas",
        {"redis_min_replicas_to_write": 2},
        [
            "redis_min_replicas_to_write is 2 but redis_cluster_replicas is 1: no master would ever have that many "
            "replicas, so every master would refuse every write (NOREPLICAS)",
            "Fix: set redis_min_replicas_to_write to at most redis_cluster_replicas",
        ],
    ),
    (
        "redis",
        "rd-min-replicas-lag",
        {"redis_min_replicas_to_write": 1, "redis_min_replicas_max_lag": 0},
        [
            "redis_min_replicas_max_lag is 0 with redis_min_replicas_to_write 1: "
            'Redis reads a max lag below 1 as "off"',
            "Fix: redis_min_replicas_max_lag: 1 or more seconds (default 10), or redis_min_replicas_to_write: 0",
        ],
    ),
    # roles/pgbackrest
    ("pgbackrest", "pgb-good", None, None),
    (
        "pgbackrest",
        "pgb-retention-full",
        {"pgbackrest_retention_full": 0},
        ["pgbackrest_retention_full is 0: pgBackRest would keep no full backup"],
    ),
    (
        "pgbackrest",
        "pgb-settings",
        {
            "pgbackrest_retention_diff": 0,
            "pgbackrest_process_max": 0,
            "pgbackrest_pg_port": 70000,
            "pgbackrest_stanza": "my stanza",
            "pgbackrest_check_max_age_hours": {"full": 192, "diff": 30},
            "pgbackrest_offsite_check_max_age_hours": {"full": 0, "diff": 30},
        },
        [
            "pgbackrest_retention_diff is 0",
            "pgbackrest_process_max is 0",
            "pgbackrest_pg_port is 70000",
            "pgbackrest_stanza is 'my stanza'",
            "while pgbackrest_schedule schedules full, diff, incr: every scheduled backup type needs the largest age",
            "while pgbackrest_offsite_schedule schedules full, diff: every scheduled backup type needs the largest age",
        ],
    ),
    # roles/postgresql
    ("postgresql", "pg-good", None, None),
    (
        "postgresql",
        "pg-settings",
        {
            "postgresql_port": 0,
            "postgresql_mirror_mode": "sync",
            "postgresql_sync_count": 0,
            "postgresql_databases": [{"name": "appdb", "owner": "app"}, {"name": "appdb", "owner": "app"}],
            "postgresql_users": [{"name": "app", "password": "p" * 16, "databases": ["appdb"], "conn_limit": -5}],
            "postgresql_shared_buffers": "256 MB",
            "postgresql_max_slot_wal_keep_size": "0",
            "postgresql_max_connections": 5,
            "postgresql_max_wal_senders": 1,
            "postgresql_check_max_lag_seconds": 0,
            "postgresql_app_client_networks": ["10.0.0.0/33"],
        },
        [
            "postgresql_port is 0",
            "postgresql_databases names appdb more than once",
            "postgresql_sync_count is 0 with postgresql_mirror_mode sync",
            "postgresql_shared_buffers, postgresql_max_slot_wal_keep_size: not a PostgreSQL size",
            "postgresql_max_connections is 5",
            "postgresql_max_wal_senders is 1 (at least 3",
            "postgresql_check_max_lag_seconds is 0",
            "postgresql_users entries app have a conn_limit below -1",
            'postgresql_app_client_networks has ["10.0.0.0/33"]',
        ],
    ),
    (
        "postgresql",
        "pg-dup-users",
        {
            "postgresql_databases": [{"name": "appdb", "owner": "app"}],
            "postgresql_users": [
                {"name": "app", "password": "p" * 16, "databases": ["appdb"]},
                {"name": "app", "password": "q" * 16, "databases": ["appdb"]},
            ],
        },
        ["postgresql_users names app more than once"],
    ),
    # roles/common
    ("common", "cm-good", None, None),
    (
        "common",
        "cm-settings",
        {
            "common_ntp_servers": ["ntp.example", "ntp.example"],
            "common_ntp_max_offset_ms": 0,
            "common_timezone": "Beijing time",
            "common_journald_system_max_use": "1 GB",
            "common_ops_users": [{"name": "ops1", "ssh_public_keys": [KEY], "sudo_commands": ["systemctl"]}],
        },
        [
            "common_ntp_servers lists ntp.example more than once",
            "common_ntp_max_offset_ms is 0",
            "common_timezone is 'Beijing time'",
            "common_journald_system_max_use is '1 GB'",
            'common_ops_users sudo_commands has ["systemctl"]',
        ],
    ),
    # roles/hardening
    ("hardening", "hd-good", None, None),
    (
        "hardening",
        "hd-settings",
        {
            "hardening_ssh_client_alive_interval": 600,
            "hardening_ssh_max_auth_tries": 10,
            "hardening_ssh_login_grace_time": 0,
            "hardening_ssh_max_startups": "many",
            "hardening_ssh_ciphers": [],
            "hardening_log_remote_host": "log.example",
            "hardening_log_remote_port": 70000,
            "hardening_high_risk_ports": [21, 70000],
            "hardening_high_risk_ports_allowed": [8080],
            "hardening_critical_files": [
                {"path": "/etc/passwd", "mode": 644, "owner": "root", "group": "root"},
                {"path": "/etc/passwd", "mode": "0644", "owner": "root", "group": "root"},
            ],
            "hardening_sod_roles": [{"group": "sysadm", "commands": ["systemctl"]}],
            "hardening_tmp_max_age": "10 days",
            "hardening_password_warn_days": 90,
            "hardening_faillock_unlock_time": -1,
            "hardening_pwquality_retry": 0,
        },
        [
            "hardening_ssh_client_alive_interval is 600 and hardening_ssh_client_alive_count_max is 2",
            "hardening_ssh_max_auth_tries is 10",
            "hardening_ssh_login_grace_time is 0",
            'hardening_ssh_max_startups is "many", not start:rate:full',
            "hardening_ssh_ciphers, hardening_ssh_macs and hardening_ssh_kex must each list at least one algorithm",
            "hardening_log_remote_port is 70000",
            "hardening_high_risk_ports / hardening_high_risk_ports_allowed contain 70000",
            "hardening_high_risk_ports_allowed has 8080, not in hardening_high_risk_ports",
            'hardening_critical_files: every mode must be a quoted octal string (modes given: [644, "0644"])',
            "hardening_critical_files lists /etc/passwd more than once",
            "hardening_sod_roles names group(s) more than once, or has a command without a full path (systemctl)",
            "hardening_tmp_max_age is 10 days",
            "hardening_password_warn_days is 90 and hardening_password_min_days is 7",
            "hardening_faillock_unlock_time is -1",
            "hardening_pwquality_retry is 0",
        ],
    ),
    # roles/backup_files (bf-good is the backup host, bf-client a client with good values)
    ("backup_files", "bf-good", None, None),
    ("backup_files", "bf-client", None, None),
    (
        "backup_files",
        "bf-settings",
        {
            "backup_files_redis_bgsave_timeout": 0,
            "backup_files_check_max_age_hours": 0,
            "backup_files_randomized_delay": -1,
            "backup_files_redis_ports": [7000, 7000],
            "backup_files_check_read_data_subset": "2/1",
            "backup_files_schedule": "",
        },
        [
            "backup_files_redis_bgsave_timeout is 0",
            "backup_files_check_max_age_hours is 0",
            "backup_files_randomized_delay is -1",
            "backup_files_redis_ports is [7000, 7000]: each port once",
            'backup_files_check_read_data_subset is "2/1"',
            "backup_files_schedule and backup_files_check_schedule must not be empty",
        ],
    ),
    # the backup host's sshd must admit every client at once (a second backup host of its own)
    (
        "backup_files",
        "bf-startups",
        {
            "backup_files_repo_host": "bf-startups",
            "backup_files_clients": ["c1", "c2", "c3"],
            "hardening_ssh_max_startups": "3:30:10",
        },
        ["hardening_ssh_max_startups on bf-startups is 3:30:10: sshd starts dropping logins beyond 3 at once"],
    ),
    # roles/db_proxy
    ("db_proxy", "dp-good", None, None),
    (
        "db_proxy",
        "dp-settings",
        {
            "db_proxy_listen_port": 0,
            "db_proxy_connect_timeout": "5 seconds",
            "db_proxy_check_fall": 0,
            "db_proxy_max_connections": 0,
        },
        [
            "db_proxy_primary_port is 5432 and db_proxy_listen_port is 0",
            "db_proxy_connect_timeout is not an HAProxy time",
            "db_proxy_check_fall is 0",
            "db_proxy_max_connections is 0",
        ],
    ),
    # roles/db_failover (validate step)
    ("db_failover", "df-good", None, None),
    (
        "db_failover",
        "df-settings",
        {
            "db_failover_detected_at": "this morning",
            "db_failover_rto_target_minutes": 0,
            "db_failover_catch_up_seconds": 0,
            "db_failover_postgresql_port": 0,
        },
        [
            'db_failover_detected_at is "this morning", not an ISO 8601 time',
            "db_failover_rto_target_minutes is 0",
            "db_failover_catch_up_seconds is 0",
            "db_failover_postgresql_port is 0",
        ],
    ),
    # roles/db_restore_drill (validate step)
    ("db_restore_drill", "dr-good", None, None),
    (
        "db_restore_drill",
        "dr-settings",
        {
            "db_restore_drill_port": 5432,
            "db_restore_drill_target": "time",
            "db_restore_drill_target_time": "yesterday noon",
            "db_restore_drill_space_margin_percent": -1,
            "db_restore_drill_runner_keep": 0,
            "db_restore_drill_tables": [{"database": "appdb", "table": "t"}, {"database": "appdb", "table": "t"}],
        },
        [
            "db_restore_drill_port is 5432: the copy needs a TCP port of its own",
            'db_restore_drill_target_time is "yesterday noon", not a time pgBackRest understands',
            "db_restore_drill_space_margin_percent is -1",
            "db_restore_drill_runner_keep is 0",
            "db_restore_drill_tables lists appdb.t more than once",
        ],
    ),
    # roles/patching (validate; the stage and the gate: tests/test_patching_gate.py)
    ("patching", "pt-good", None, None),
    (
        "patching",
        "pt-settings",
        {
            "patching_mode": "packages",
            "patching_packages": [{"name": "openssl", "version": "1"}, {"name": "openssl", "version": "2"}],
            "patching_reboot_timeout": 10,
            "patching_hooks_after_apply": [{"role": "redis"}],
        },
        [
            "patching_packages names openssl more than once",
            "patching_reboot_timeout is 10",
            "patching_hooks_before_apply / patching_hooks_after_apply has an item without role or tasks_from",
        ],
    ),
]
BAD = [c for c in CASES if c[2] is not None]
GOOD = [c for c in CASES if c[2] is None]
ROLE_PLAYS = ["redis", "pgbackrest", "postgresql", "common", "hardening", "backup_files", "db_proxy", "patching"]
STEP_PLAYS = ["db_failover", "db_restore_drill"]  # roles run step by step: their validate.yml entry point

# Variables of every role's cases: a valid platform (secrets long enough, one
# primary, a mirror, a backup host, an off-site host).
GROUP_VARS = {
    "redis": {},
    "hardening": {"hardening_ssh_password_authentication": True},  # no SSH key admin on the control host
    "db_failover": {
        "db_failover_confirm": "db2",
        "db_failover_incident_id": "INC-TEST-1",
        "db_failover_reason": "validation test",
    },
    "patching": {"patching_stage": "production", "patching_change_id": "CHG-TEST-0001"},
}


def inventory() -> dict:
    addresses = iter(f"192.0.2.{n}" for n in range(10, 250))
    groups: dict[str, dict] = {}
    for role, host, variables, _ in CASES:
        group = groups.setdefault(f"cases_{role}", {"hosts": {}, "vars": GROUP_VARS.get(role, {})})
        group["hosts"][host] = {"platform_address": next(addresses), **(variables or {})}
    # redis cases form one cluster group (the role's redis_group)
    groups["redis"] = {"hosts": {host: {} for role, host, _, _ in CASES if role == "redis"}}
    groups["db_primary"] = {"hosts": {"db1": {"platform_address": next(addresses)}}}
    groups["db_mirror"] = {"hosts": {"db2": {"platform_address": next(addresses)}}}
    # the backup host admits every other host of this inventory at once (hardening_ssh_max_startups)
    groups["backup"] = {"hosts": {"bf-good": {"hardening_ssh_max_startups": "100:30:200"}}}
    groups["backup_offsite"] = {"hosts": {"off1": {"platform_address": next(addresses)}}}
    groups["app"] = {"hosts": {}}
    return {
        "all": {
            "vars": local_vars(
                platform_required_groups=["db_primary", "db_mirror", "backup"],
                redis_ops_password="o" * 24,
                redis_app_password="a" * 24,
                redis_replication_password="r" * 24,
                postgresql_replication_password="r" * 24,
                postgresql_app_client_hosts=[],
                pgbackrest_cipher_pass="c" * 32,
                backup_files_password="b" * 32,
            ),
            "children": groups,
        }
    }


def playbook() -> list:
    plays: list = [
        {"ansible.builtin.import_playbook": str(REPO / "playbooks" / "preflight.yml"), "tags": ["preflight"]}
    ]
    for role in ROLE_PLAYS:
        plays.append(
            {"name": f"Validate {role}", "hosts": f"cases_{role}", "gather_facts": False, "roles": [{"role": role}]}
        )
    for role in STEP_PLAYS:
        plays.append(
            {
                "name": f"Validate {role}",
                "hosts": f"cases_{role}",
                "gather_facts": False,
                "tasks": [
                    {
                        "name": f"{role} validate",
                        "ansible.builtin.import_role": {"name": role, "tasks_from": "validate.yml"},
                        "tags": [f"{role}_validate"],
                    }
                ],
            }
        )
    return plays


@pytest.fixture(scope="module")
def validation(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("rules")
    book = tmp_path / "validate.yml"
    book.write_text(yaml.safe_dump(playbook(), sort_keys=False), encoding="utf-8")
    tags = ",".join(["preflight"] + [f"{role}_validate" for role in ROLE_PLAYS + STEP_PLAYS])
    return run_playbook(tmp_path, inventory(), book, "--check", "--tags", tags)


RULES = [(role, host, text) for role, host, _, texts in BAD for text in texts]


@pytest.mark.parametrize(("role", "host", "expected"), RULES, ids=[f"{h}:{t[:48]}" for _, h, t in RULES])
def test_bad_input_stops_naming_the_variable_and_the_fix(validation, role, host, expected):
    failure = validation.failures(host)
    assert expected in failure, f"{role}/{host}: expected {expected!r}, got {failure!r}\n{validation.tail(40)}"
    # the sentence that names the variable goes on to say how to fix it
    assert "Fix:" in failure[failure.index(expected) :], f"{role}/{host}: no 'Fix:' after {expected!r} in {failure!r}"
    recap = validation.recap(host)
    assert recap.get("failed") == 1 and recap.get("changed") == 0, f"{host}: {recap}"


@pytest.mark.parametrize(("role", "host"), [(c[0], c[1]) for c in GOOD], ids=[c[1] for c in GOOD])
def test_good_input_passes_with_nothing_changed(validation, role, host):
    recap = validation.recap(host)
    assert recap.get("ok", 0) > 0, f"{host} did not run: {recap}\n{validation.tail(40)}"
    assert recap.get("failed") == 0 and recap.get("changed") == 0, f"{host}: {recap}\n{validation.failures(host)}"
    assert validation.failures(host) == ""


def test_zero_redis_replicas_pass_with_a_reason_and_say_it(tmp_path):
    """The one way to run a cluster without failover: a stated reason, printed on every run."""
    reason = {
        "redis_cluster_replicas": 0,
        "redis_cluster_replicas_zero_reason": "disposable cache, approved CHG-TEST-9",
    }
    hosts = {
        "rz-a": {"platform_address": "192.0.2.11", **reason},
        "rz-b": {"platform_address": "192.0.2.12", **reason},
        "rz-c": {"platform_address": "192.0.2.13", **reason},
        "rz-no-reason": {"platform_address": "192.0.2.14", "redis_cluster_replicas": 0},
    }
    secrets = {k: v for k, v in inventory()["all"]["vars"].items() if k.startswith("redis_")}
    inv = {"all": {"vars": local_vars(**secrets), "children": {"redis": {"hosts": hosts}}}}
    book = tmp_path / "redis.yml"
    book.write_text(
        yaml.safe_dump(
            [{"name": "Validate redis", "hosts": "redis", "gather_facts": False, "roles": [{"role": "redis"}]}]
        ),
        encoding="utf-8",
    )
    run = run_playbook(tmp_path, inv, book, "--check", "--tags", "redis_validate")
    for host in ("rz-a", "rz-b", "rz-c"):
        recap = run.recap(host)
        assert recap.get("ok", 0) > 0 and recap.get("failed") == 0, run.failures(host) + run.tail(30)
    assert "Accepted because (redis_cluster_replicas_zero_reason): disposable cache, approved CHG-TEST-9" in run.out
    assert "redis_cluster_replicas is 0: no master would have a replica" in run.failures("rz-no-reason")


def test_site_validates_the_windows_first():
    """site.yml starts with preflight.yml, and preflight.yml runs the patching role's window rules on every host."""
    site = yaml.safe_load((REPO / "playbooks" / "site.yml").read_text(encoding="utf-8"))
    assert site[0]["ansible.builtin.import_playbook"] == "preflight.yml"
    preflight = yaml.safe_load((REPO / "playbooks" / "preflight.yml").read_text(encoding="utf-8"))
    windows = [p for p in preflight if p["hosts"] == "all"]
    assert windows and windows[0]["tasks"][0]["ansible.builtin.include_role"] == {
        "name": "patching",
        "tasks_from": "validate_windows.yml",
    }
