"""The operators' audit trail (issue 22): every playbook run is recorded; a production run names its ticket.

plugins/callback/govops_run_record.py runs inside real ansible-playbook runs
here (local connection, the project's ansible.cfg), on a playbook kept in a git
repository of the test's own, so that a clean and a dirty working tree can both
be shown. playbooks/change_ticket.yml is run as every changing playbook imports
it, and scripts/run_records.py answers the auditor's question from the records.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from ansible_run import REPO, local_vars, run_playbook

sys.path.insert(0, str(REPO / "scripts"))
import run_records

PLAY = """\
- name: Work that changes one file and reads another
  hosts: all
  gather_facts: false
  tasks:
    - name: Write the marker file
      ansible.builtin.copy:
        content: "{{ marker | default('one') }}\\n"
        dest: "{{ marker_path }}"
        mode: "0600"
    - name: Read something (changes nothing)
      ansible.builtin.command: "true"
      changed_when: false
    - name: Fail when asked to
      ansible.builtin.fail:
        msg: asked to fail
      when: fail_now | default(false) | bool
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def project(tmp_path):
    """A git repository holding the playbook (committed), and an empty record directory."""
    repo = tmp_path / "ops"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "test@example.invalid")
    git(repo, "config", "user.name", "test")
    (repo / "play.yml").write_text(PLAY, encoding="utf-8")
    git(repo, "add", "play.yml")
    git(repo, "commit", "-qm", "playbook")
    records = tmp_path / "records"
    env = {"GOVOPS_RUN_RECORD_DIR": str(records), "GOVOPS_RUN_RECORD_SYSLOG": "false"}
    return {"repo": repo, "records": records, "env": env, "tmp": tmp_path}


def run(project, *args, hosts=("web1",)):
    inventory = {"all": {"hosts": dict.fromkeys(hosts), "vars": local_vars()}}
    marker = project["tmp"] / "marker"
    return run_playbook(
        project["tmp"],
        inventory,
        project["repo"] / "play.yml",
        "-e",
        f"marker_path={marker}",
        *args,
        env=project["env"],
    )


def records(project) -> list[dict]:
    files = sorted(project["records"].glob("runs-*.jsonl"))
    assert files, f"no record file in {project['records']}"
    return [json.loads(line) for f in files for line in f.read_text(encoding="utf-8").splitlines()]


def test_a_run_is_recorded_with_commit_ticket_and_changes_but_no_extra_var_values(project):
    result = run(project, "-e", "change_ticket=CHG-2026-0042", "-e", "vault_secret=TOPSECRET-4711")
    assert result.rc == 0, result.tail()
    (record,) = records(project)
    commit = git(project["repo"], "rev-parse", "HEAD").strip()
    assert record["source"]["commit"] == commit
    assert record["source"]["dirty"] is False and record["source"]["dirty_files"] == 0
    assert record["change_ticket"] == "CHG-2026-0042"
    assert record["change_ticket_variable"] == "change_ticket"
    assert record["playbook"] == str(project["repo"] / "play.yml")
    assert record["result"] == "ok" and record["check_mode"] is False
    assert record["hosts_changed"] == ["web1"]
    assert [(c["host"], c["task"], c["action"]) for c in record["changes"]] == [
        ("web1", "Write the marker file", "ansible.builtin.copy")
    ]
    assert record["hosts"]["web1"]["changed"] == 1
    assert record["operator"]["user"] and record["operator"]["controller"]
    # The names of extra variables are kept, never their values (one may be a secret).
    assert "vault_secret" in record["extra_var_names"]
    text = "".join(p.read_text(encoding="utf-8") for p in project["records"].glob("*.jsonl"))
    assert "TOPSECRET-4711" not in text
    folder = project["records"]
    assert oct(folder.stat().st_mode & 0o777) == "0o750"
    assert all(oct(p.stat().st_mode & 0o777) == "0o640" for p in folder.glob("*.jsonl"))


def test_a_dirty_tree_a_failed_run_and_a_check_run_are_recorded_as_such(project):
    (project["repo"] / "play.yml").write_text(PLAY + "\n# local edit, not committed\n", encoding="utf-8")
    assert run(project, "-e", "marker=two").rc == 0
    assert run(project, "-e", "marker=three", "-e", "fail_now=true").rc != 0
    assert run(project, "-e", "marker=four", "--check").rc == 0
    dirty, failed, check = records(project)
    assert dirty["source"]["dirty"] is True and dirty["source"]["dirty_files"] == 1
    assert dirty["change_ticket"] is None and dirty["result"] == "ok"
    assert failed["result"] == "failed" and failed["hosts"]["web1"]["failures"] == 1
    assert check["check_mode"] is True and check["hosts_changed"] == []
    assert check["hosts_would_change"] == ["web1"] and all(c["check_mode"] for c in check["changes"])


def test_the_auditors_query_lists_the_runs_that_changed_a_host(project, capsys):
    assert run(project, "-e", "marker=a", "-e", "change_ticket=CHG-1", hosts=("db1",)).rc == 0
    assert run(project, "-e", "marker=b", "-e", "change_ticket=CHG-2", hosts=("web1",)).rc == 0
    # The same content again: a run that changed nothing.
    assert run(project, "-e", "marker=b", "-e", "change_ticket=CHG-3", hosts=("web1",)).rc == 0
    assert run_records.main(["--dir", str(project["records"]), "--host", "db1", "--json"]) == 0
    chosen = json.loads(capsys.readouterr().out)
    assert [r["change_ticket"] for r in chosen] == ["CHG-1"]
    assert run_records.main(["--dir", str(project["records"])]) == 0
    out = capsys.readouterr().out
    assert "2 run(s) changing any host in the last 180 days" in out
    assert "CHG-2" in out and "CHG-3" not in out
    assert run_records.main(["--dir", str(project["records"]), "--all"]) == 0
    assert "CHG-3" in capsys.readouterr().out


def test_the_query_refuses_a_directory_without_records(tmp_path, capsys):
    assert run_records.main(["--dir", str(tmp_path)]) == 2
    assert "no run records (runs-*.jsonl)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "refused"),
    [
        ((), True),
        (("-e", "change_ticket=  "), True),
        (("-e", "change_ticket=CHG-7"), False),
        (("-e", "patching_change_id=PATCH-2026-12"), False),
        (("--check",), False),
    ],
)
def test_a_ticket_is_required_where_the_inventory_says_so(tmp_path, args, refused):
    inventory = {
        "all": {"hosts": {"prod1": None, "prod2": None}, "vars": local_vars(govops_change_ticket_required=True)}
    }
    env = {"GOVOPS_RUN_RECORD_DIR": str(tmp_path / "records"), "GOVOPS_RUN_RECORD_SYSLOG": "false"}
    result = run_playbook(tmp_path, inventory, "playbooks/change_ticket.yml", *args, env=env)
    if refused:
        assert result.rc != 0
        assert "sets govops_change_ticket_required: true" in result.failures("prod1")
        assert "Fix: add -e change_ticket=<ticket id>" in result.failures("prod1")
    else:
        assert result.rc == 0, result.tail()


def test_no_ticket_is_needed_where_the_inventory_does_not_ask(tmp_path):
    inventory = {"all": {"hosts": {"lab1": None}, "vars": local_vars()}}
    env = {"GOVOPS_RUN_RECORD_DIR": str(tmp_path / "records"), "GOVOPS_RUN_RECORD_SYSLOG": "false"}
    result = run_playbook(tmp_path, inventory, "playbooks/change_ticket.yml", env=env)
    assert result.rc == 0, result.tail()


def test_every_playbook_that_changes_hosts_imports_the_ticket_gate():
    read_only = {"acceptance.yml", "hardening_audit.yml", "preflight.yml", "patch_no_backup_hook.yml"}
    # site.yml runs the tier playbooks, each of which imports the gate.
    aggregate = {"site.yml", "change_ticket.yml"}
    missing = []
    for path in sorted((REPO / "playbooks").glob("*.yml")):
        if path.name in read_only | aggregate:
            continue
        first = path.read_text(encoding="utf-8").split("\n- ", 1)[1].splitlines()[:2]
        if "ansible.builtin.import_playbook: change_ticket.yml" not in "\n".join(first):
            missing.append(path.name)
    assert not missing, f"{missing} do not import change_ticket.yml first. Fix: add it as their first entry."
