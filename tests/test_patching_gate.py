"""The test-first gate of roles/patching fails closed (issue 21).

Runs the real role and playbooks/patch.yml on the control host (connection
local) against a private apt world: APT_CONFIG points apt at a status file in
which govops-demo-tool 1.0 is installed and a file: repository that offers
1.1, so apt_patch_plan resolves a real pending patch set (the same code and
apt simulation as on a server) without touching the machine's packages
(Dir::Bin::dpkg is /bin/false: an install could not happen even if the gate
let it through). The window is open (fixed clock) unless a case says otherwise.

Proves:
- a production run whose patch set has no test manifest stops in the gate:
  refused, recorded as refused with the hash, no backup, no apply task ran,
  the package still at 1.0;
- a manifest file of the same hash that a successful test-stage run on a host
  of a test group did not write (no test_group: an older format, a hand copy,
  or a test stage on a non-test host) is not accepted;
- a genuine manifest is accepted (the run then stops at the window, proving
  the manifest gate passed and nothing else did);
- without patching_stage, and at stage test on a host outside
  patching_test_group, the run is refused before anything is read or changed.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.govops_apt import manifest_hash
from ansible_run import REPO, local_vars, run_playbook

MANIFEST = [{"name": "govops-demo-tool", "from": "1.0", "to": "1.1"}]
HASH = manifest_hash(MANIFEST)
INSIDE = "2026-11-21T23:00:00+08:00"  # Saturday 23:00, inside the window below
OUTSIDE = "2026-11-25T10:00:00+08:00"  # Wednesday 10:00
STATUS = """Package: govops-demo-tool
Status: install ok installed
Priority: optional
Section: misc
Maintainer: govops test <test@example.invalid>
Architecture: all
Version: 1.0
Description: demo package of the patching tests

"""
PACKAGES = """Package: govops-demo-tool
Version: 1.1
Architecture: all
Maintainer: govops test <test@example.invalid>
Filename: ./govops-demo-tool_1.1_all.deb
Size: 1000
SHA256: {zero}
Description: demo package of the patching tests

""".format(zero="0" * 64)


@pytest.fixture(scope="module")
def apt_world(tmp_path_factory):
    """A private apt configuration: 1.0 installed, 1.1 available. Returns the environment that selects it."""
    root = tmp_path_factory.mktemp("apt")
    for sub in (
        "repo",
        "lists/partial",
        "cache/archives/partial",
        "etc/sources.list.d",
        "etc/preferences.d",
        "etc/apt.conf.d",
        "state",
    ):
        (root / sub).mkdir(parents=True)
    (root / "state" / "status").write_text(STATUS, encoding="utf-8")
    (root / "repo" / "Packages").write_text(PACKAGES, encoding="utf-8")
    (root / "etc" / "sources.list").write_text(f"deb [trusted=yes] file:{root / 'repo'} ./\n", encoding="utf-8")
    settings = {
        "Dir::State": root / "state",
        "Dir::State::status": root / "state" / "status",
        "Dir::State::lists": root / "lists",
        "Dir::Cache": root / "cache",
        "Dir::Etc": root / "etc",
        "Dir::Etc::sourcelist": root / "etc" / "sources.list",
        "Dir::Etc::sourceparts": root / "etc" / "sources.list.d",
        "Dir::Etc::preferencesparts": root / "etc" / "preferences.d",
        "Dir::Etc::parts": root / "etc" / "apt.conf.d",
        "Dir::Bin::dpkg": "/bin/false",
        "Debug::NoLocking": "true",
        "APT::Sandbox::User": "root",
    }
    config = root / "apt.conf"
    config.write_text("".join(f'{key} "{value}";\n' for key, value in settings.items()), encoding="utf-8")
    env = {"APT_CONFIG": str(config)}
    subprocess.run(["apt-get", "update", "-q"], env={"PATH": "/usr/bin:/bin", **env}, check=True, capture_output=True)
    simulated = subprocess.run(
        ["apt-get", "-s", "-q", "-y", "dist-upgrade"],
        env={"PATH": "/usr/bin:/bin", **env},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "Inst govops-demo-tool [1.0] (1.1" in simulated, simulated
    return {"env": env, "status": root / "state" / "status"}


def write_manifest(directory: Path, host: str, **fields) -> Path:
    """A manifest as tasks/record.yml writes it; fields override or (value None) remove keys."""
    body = {
        "sha256": HASH,
        "host": host,
        "stage": "test",
        "test_group": "patching_test",
        "verdict": "success",
        "mode": "all",
        "change_id": "CHG-TEST-0001",
        "run_id": "test",
        "finished": "2026-11-20T15:00:00Z",
        "manifest": MANIFEST,
    }
    body.update(fields)
    body = {key: value for key, value in body.items() if value is not None}
    path = directory / HASH / f"{host}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def patching_vars(tmp_path: Path, **extra) -> dict:
    return local_vars(
        platform_evidence_dir=str(tmp_path / "evidence"),
        patching_change_id="CHG-TEST-0001",
        patching_operator="pytest",
        patching_update_cache=False,
        patching_needrestart=False,
        patching_backup_dir=str(tmp_path / "backups"),
        patching_windows=[{"days": ["sat", "sun"], "start": "22:00", "end": "06:00"}],
        patching_now=INSIDE,
        **extra,
    )


def record(tmp_path: Path, run_id: str, host: str) -> dict:
    return json.loads((tmp_path / "evidence" / "patching" / "runs" / run_id / f"{host}.json").read_text())


def test_production_with_an_unseen_patch_set_stops_before_any_package_change(tmp_path, apt_world):
    """playbooks/patch.yml as an operator runs it on production: refused in the gate, nothing else ran."""
    status_before = apt_world["status"].read_text()
    inventory = {
        "all": {
            "vars": patching_vars(tmp_path, patching_stage="production", patching_run_id="unseen"),
            "children": {"app": {"hosts": {"app1": {}}}},
        }
    }
    run = run_playbook(tmp_path, inventory, "playbooks/patch.yml", env=apt_world["env"])
    assert run.rc != 0, run.tail()
    failure = run.failures("app1")
    assert f"Production run refused: no successful test manifest for this host's patch set sha256 {HASH}" in failure
    assert "Fix:" in failure
    host = record(tmp_path, "unseen", "app1")
    assert host["verdict"] == "refused" and host["stage"] == "production"
    assert host["patch_set_sha256"] == HASH and HASH in host["error"]
    assert host["packages"][0]["name"] == "govops-demo-tool" and host["packages"][0]["after"] is None
    # Nothing past the gate: no backup, no apply task, the package database untouched.
    assert "TASK [patching : Patching | gates | refuse]" in run.out, run.tail(120)
    assert not re.search(r"TASK \[patching : Patching \| (backup|apply|reboot) \|", run.out), run.tail(120)
    assert not (tmp_path / "backups").exists()
    assert apt_world["status"].read_text() == status_before


@pytest.fixture(scope="module")
def gate_cases(tmp_path_factory, apt_world):
    """One run of the role, one host per case (no serial: each host stops on its own)."""
    tmp_path = tmp_path_factory.mktemp("gate")
    untrusted_dir, trusted_dir = tmp_path / "untrusted", tmp_path / "trusted"
    untrusted = [
        write_manifest(untrusted_dir, "old-format", test_group=None),
        write_manifest(untrusted_dir, "failed-run", verdict="failed"),
        write_manifest(untrusted_dir, "other-set", manifest=[{"name": "govops-demo-tool", "from": "1.0", "to": "9"}]),
    ]
    trusted = write_manifest(trusted_dir, "test1")
    production = {"patching_stage": "production"}
    hosts = {
        "unseen": {**production, "patching_manifest_dir": str(tmp_path / "empty")},
        "untrusted": {**production, "patching_manifest_dir": str(untrusted_dir)},
        "trusted": {**production, "patching_manifest_dir": str(trusted_dir), "patching_now": OUTSIDE},
        "no-stage": {},
        "test-on-prod": {"patching_stage": "test"},
    }
    playbook = tmp_path / "gate.yml"
    playbook.write_text(
        "- name: Patching gate cases\n  hosts: cases\n  gather_facts: false\n  roles:\n    - role: patching\n",
        encoding="utf-8",
    )
    inventory = {
        "all": {
            "vars": patching_vars(tmp_path, patching_run_id="gate"),
            "children": {"cases": {"hosts": hosts}, "patching_test": {"hosts": {}}},
        }
    }
    run = run_playbook(tmp_path, inventory, playbook, env=apt_world["env"])
    return {"run": run, "tmp": tmp_path, "untrusted": untrusted, "trusted": trusted}


def test_a_production_host_without_a_test_manifest_is_refused_in_the_gate(gate_cases):
    run = gate_cases["run"]
    failure = run.failures("unseen")
    assert f"no successful test manifest for this host's patch set sha256 {HASH}" in failure, run.tail()
    assert "Fix:" in failure and "Outside the maintenance window" not in failure
    assert record(gate_cases["tmp"], "gate", "unseen")["verdict"] == "refused"


def test_a_manifest_not_written_by_a_test_group_host_does_not_count(gate_cases):
    run = gate_cases["run"]
    failure = run.failures("untrusted")
    assert f"no successful test manifest for this host's patch set sha256 {HASH}" in failure, run.tail()
    for path in gate_cases["untrusted"]:
        assert str(path) in failure
    host = record(gate_cases["tmp"], "gate", "untrusted")
    assert host["verdict"] == "refused" and host["test_manifests"] == []


def test_a_genuine_test_manifest_passes_the_gate(gate_cases):
    run = gate_cases["run"]
    failure = run.failures("trusted")
    # Refused only by the window (the fixed clock is outside it): the manifest gate passed.
    assert "Outside the maintenance window" in failure, run.tail()
    assert "no successful test manifest" not in failure
    host = record(gate_cases["tmp"], "gate", "trusted")
    assert host["verdict"] == "refused" and host["test_manifests"] == [str(gate_cases["trusted"])]


def test_no_stage_in_the_inventory_is_refused_before_anything_runs(gate_cases):
    run = gate_cases["run"]
    failure = run.failures("no-stage")
    assert "patching_stage is not set" in failure and "Fix:" in failure, run.tail()
    assert "patching_stage: production" in failure
    # Refused in validate.yml: nothing resolved, no record.
    assert not (gate_cases["tmp"] / "evidence" / "patching" / "runs" / "gate" / "no-stage.json").exists()


def test_the_test_stage_refuses_a_host_outside_the_test_group(gate_cases):
    run = gate_cases["run"]
    failure = run.failures("test-on-prod")
    assert "patching_stage is test but test-on-prod is not in patching_test_group 'patching_test'" in failure
    assert "Fix:" in failure
    assert not (gate_cases["tmp"] / "evidence" / "patching" / "runs" / "gate" / "test-on-prod.json").exists()
    assert not (gate_cases["tmp"] / "evidence" / "patching" / "manifests").exists()


def test_the_inventories_say_which_stage_their_hosts_are():
    def stage(inventory):
        path = REPO / "inventories" / inventory / "group_vars" / "all" / "patching.yml"
        return yaml.safe_load(path.read_text(encoding="utf-8"))

    assert stage("production.example")["patching_stage"] == "production"
    assert stage("lab")["patching_stage"] == "test"
    defaults = yaml.safe_load((REPO / "roles" / "patching" / "defaults" / "main.yml").read_text(encoding="utf-8"))
    assert "patching_stage" not in defaults
