"""apt_patch_plan's pure parts: the apt-get -s parser, security selection, manifest and hash, needrestart."""

from __future__ import annotations

import pytest

SIMULATION = """\
NOTE: This is only a simulation!
Reading package lists...
Building dependency tree...
Calculating upgrade...
The following packages will be upgraded:
  govops-demo-lib govops-demo-tool
Remv oldlib1 [0.9-1]
Inst govops-demo-lib [1.0] (1.1 govops-demo-Security:trixie-security [all])
Inst govops-demo-tool [1.0] (1.1 govops-demo:trixie-updates [all])
Inst libnew2 (2.0-1 Debian:13.2/stable [amd64]) []
Inst libssl3t64 [3.5.1-1] (3.5.1-1+deb13u1 Debian:13.2/stable, Debian-Security:13/stable-security [amd64])
Conf govops-demo-lib (1.1 govops-demo-Security:trixie-security [all])
Conf govops-demo-tool (1.1 govops-demo:trixie-updates [all])
"""


@pytest.fixture
def plan(plugin):
    return plugin("modules", "apt_patch_plan")


def test_parse_simulation_reads_upgrades_new_packages_and_removals(plan):
    installs, removals = plan.parse_simulation(SIMULATION)
    assert [(i["name"], i["from"], i["to"]) for i in installs] == [
        ("govops-demo-lib", "1.0", "1.1"),
        ("govops-demo-tool", "1.0", "1.1"),
        ("libnew2", None, "2.0-1"),
        ("libssl3t64", "3.5.1-1", "3.5.1-1+deb13u1"),
    ]
    assert installs[0]["release"] == "govops-demo-Security:trixie-security"
    assert installs[3]["release"] == "Debian:13.2/stable, Debian-Security:13/stable-security"
    assert removals == [{"name": "oldlib1", "from": "0.9-1"}]


def test_parse_simulation_of_nothing_pending_is_empty(plan):
    assert plan.parse_simulation("Reading package lists...\n0 upgraded, 0 newly installed\n") == ([], [])


@pytest.mark.parametrize(
    ("release", "expected"),
    [
        ("govops-demo-Security:trixie-security", True),
        ("Debian:13.2/stable, Debian-Security:13/stable-security", True),
        ("Debian:13.2/stable", False),
        ("", False),
    ],
)
def test_security_release_detection(plan, release, expected):
    assert plan.is_security(release) is expected


def test_manifest_is_sorted_and_hash_is_canonical(plan):
    installs, removals = plan.parse_simulation(SIMULATION)
    manifest = plan.build_manifest(installs, removals)
    assert [m["name"] for m in manifest] == sorted(m["name"] for m in manifest)
    assert {"name": "oldlib1", "from": "0.9-1", "to": None} in manifest
    assert set(manifest[0]) == {"name", "from", "to"}
    shuffled = plan.build_manifest(list(reversed(installs)), removals)
    assert plan.manifest_hash(manifest) == plan.manifest_hash(shuffled)
    assert len(plan.manifest_hash(manifest)) == 64
    changed = [dict(m) for m in manifest]
    changed[0]["to"] = "9.9"
    assert plan.manifest_hash(changed) != plan.manifest_hash(manifest)


def test_empty_manifest_has_a_stable_hash(plan):
    # sha256 of "[]"
    assert plan.manifest_hash([]) == "4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"


def test_needrestart_batch_output(plan):
    text = (
        "NEEDRESTART-VER: 3.6\nNEEDRESTART-KCUR: 6.1.0-1\nNEEDRESTART-KEXP: 6.1.0-2\nNEEDRESTART-KSTA: 3\n"
        "NEEDRESTART-SVC: ssh.service\nNEEDRESTART-SVC: cron.service\nNEEDRESTART-SVC: ssh.service\n"
    )
    assert plan.parse_needrestart(text) == {
        "kernel_status": 3,
        "kernel_reboot": True,
        "services": ["cron.service", "ssh.service"],
    }
    assert plan.parse_needrestart("NEEDRESTART-KSTA: 1\n")["kernel_reboot"] is False
    assert plan.parse_needrestart("")["kernel_status"] is None


def test_reboot_required_flag_and_packages(plan, tmp_path):
    flag = tmp_path / "reboot-required"
    assert plan.read_reboot_required(str(flag)) == (False, [])
    flag.write_text("*** System restart required ***\n")
    assert plan.read_reboot_required(str(flag)) == (True, [])
    (tmp_path / "reboot-required.pkgs").write_text("linux-image-amd64\nlibc6\nlibc6\n")
    assert plan.read_reboot_required(str(flag)) == (True, ["libc6", "linux-image-amd64"])
