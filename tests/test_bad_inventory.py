"""A bad database inventory stops playbooks/database.yml before anything changes, naming the variable.

Each case writes an inventory of local hosts (connection local, no become)
and runs the database tier with only the roles' validation tags, the way a
production run starts: the roles' validate.yml is the first thing they do.
The good inventory must pass, so the test fails both ways.
"""

from __future__ import annotations

import pytest
from ansible_run import local_vars, run_playbook


def inventory(primaries=("db1",), mirrors=("db2",), offsite=("offsite1",), **overrides):
    def hosts(names, first_octet):
        return {"hosts": {name: {"platform_address": f"192.0.2.{first_octet + i}"} for i, name in enumerate(names)}}

    variables = local_vars(
        postgresql_replication_password="r" * 24,
        pgbackrest_cipher_pass="c" * 32,
        postgresql_app_client_hosts=[],
        **overrides,
    )
    return {
        "all": {
            "vars": variables,
            "children": {
                "db_primary": hosts(primaries, 21),
                "db_mirror": hosts(mirrors, 22 + len(primaries)),
                "backup": hosts(["backup1"], 31),
                "backup_offsite": hosts(offsite, 32),
                "app": {"hosts": {}},
            },
        }
    }


def run_validation(tmp_path, inv):
    run = run_playbook(tmp_path, inv, "playbooks/database.yml", "--tags", "postgresql_validate,pgbackrest_validate")
    return run.rc, run.out


def test_a_good_inventory_passes_validation(tmp_path):
    rc, out = run_validation(tmp_path, inventory())
    assert rc == 0, out[-3000:]
    assert "changed=0" in out and "changed=1" not in out


@pytest.mark.parametrize(
    ("case", "inv", "expected"),
    [
        ("two primaries", inventory(primaries=("db1", "db3")), "two primaries would both take writes"),
        ("a mirror with no primary", inventory(primaries=()), "postgresql_primary_host is ''"),
        (
            "an RPO target the archive schedule cannot meet",
            inventory(pgbackrest_archive_timeout=200),
            "pgbackrest_archive_timeout (200 s) cannot meet pgbackrest_rpo_target_seconds",
        ),
        ("off-site copy on the backup host", inventory(offsite=("backup1",)), "pgbackrest_offsite_host is 'backup1'"),
        ("a WAL budget below 1 GiB", inventory(pgbackrest_wal_budget_mb=100), "pgbackrest_wal_budget_mb is 100"),
    ],
    ids=lambda value: value if isinstance(value, str) and " " in value else "",
)
def test_a_bad_inventory_stops_naming_the_variable(tmp_path, case, inv, expected):
    rc, out = run_validation(tmp_path, inv)
    flat = " ".join(out.split())
    assert rc != 0, f"{case}: validation passed\n{out[-3000:]}"
    assert expected in flat, f"{case}: expected {expected!r} in\n{out[-3000:]}"
    assert "Fix:" in flat
