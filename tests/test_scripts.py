"""Bad input stops early, in one line that names the fix (scripts/lib.sh, playbooks/preflight.yml)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def lib(snippet: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", f"source scripts/lib.sh && {snippet}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    )


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode != 0 and len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and "Fix: " in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize(
    ("os_release", "expected"),
    [
        ('ID=ubuntu\nVERSION_ID="24.04"\n', "this host is 'ubuntu', not Debian"),
        ('ID=debian\nVERSION_ID="11"\n', "Debian 11 is not supported"),
    ],
)
def test_a_host_that_is_not_debian_12_or_13_is_refused(tmp_path, os_release, expected):
    fake = tmp_path / "os-release"
    fake.write_text(os_release)
    assert expected in one_error_line(lib("require_debian", OS_RELEASE_FILE=str(fake)))


def test_debian_13_is_accepted(tmp_path):
    fake = tmp_path / "os-release"
    fake.write_text('ID=debian\nVERSION_ID="13"\n')
    assert lib("require_debian", OS_RELEASE_FILE=str(fake)).returncode == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to another user")
def test_not_root_is_refused():
    proc = subprocess.run(
        ["runuser", "-u", "nobody", "--", "bash", "-c", "source scripts/lib.sh && require_root"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "must run as root" in one_error_line(proc)


def test_timed_prints_the_wall_time_and_keeps_the_exit_code():
    proc = lib("timed demo false")
    assert proc.returncode == 1
    assert proc.stdout.strip().startswith("wall-time: demo ") and "FAILED(rc=1)" in proc.stdout


def preflight(tmp_path: Path, hosts_yml: str) -> subprocess.CompletedProcess:
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(hosts_yml)
    return subprocess.run(
        ["ansible-playbook", "-i", str(inventory), "playbooks/preflight.yml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"},
    )


def test_preflight_names_the_missing_group_and_the_fix(tmp_path):
    proc = preflight(
        tmp_path,
        "all:\n  children:\n    app: {hosts: {a1: {}}}\n    db_primary: {hosts: {d1: {}}}\n"
        "    db_mirror: {hosts: {d2: {}}}\n    backup: {hosts: {b1: {}}}\n    redis: {hosts: {r1: {}}}\n",
    )
    assert proc.returncode != 0
    assert "the inventory has no hosts in group(s) search." in proc.stdout
    assert "Fix: add them to inventories/<name>/hosts.yml (db_primary and db_mirror: db_topology.yml)" in proc.stdout


def test_preflight_refuses_two_database_primaries(tmp_path):
    groups = "".join(f"    {g}: {{hosts: {{{g}1: {{}}}}}}\n" for g in ("app", "db_mirror", "backup", "redis", "search"))
    proc = preflight(tmp_path, "all:\n  children:\n" + groups + "    db_primary: {hosts: {p1: {}, p2: {}}}\n")
    assert proc.returncode != 0
    assert "group db_primary has 2 hosts. Fix: put exactly one host in db_primary" in proc.stdout


def test_the_scheduled_drill_refuses_a_missing_inventory_or_vault_file(tmp_path):
    script = [str(REPO / "scripts" / "scheduled-drill.sh")]
    env = {**os.environ, "GOVOPS_RUNNER_DIR": str(tmp_path / "runner")}
    proc = subprocess.run(
        script, capture_output=True, text=True, check=False, env={**env, "GOVOPS_INVENTORY": "/nonexistent/hosts.yml"}
    )
    assert "inventory /nonexistent/hosts.yml does not exist" in one_error_line(proc)
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all: {}\n")
    proc = subprocess.run(
        script,
        capture_output=True,
        text=True,
        check=False,
        env={**env, "GOVOPS_INVENTORY": str(inventory), "GOVOPS_VAULT_PASSWORD_FILE": str(tmp_path / "missing")},
    )
    assert "vault password file" in one_error_line(proc)
    assert not (tmp_path / "runner").exists(), "nothing may run before the input is checked"
