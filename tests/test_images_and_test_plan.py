"""The test suite's speed-ups may not hide a defect (issue 17).

- Tier images (scripts/lab/images/<tier>.txt) are a cache: every package baked
  into one must be a package a role installs, so a role that forgot to declare
  a package cannot pass on a tier image and fail on a bare server.
- Every scenario and lab group that starts from a tier image names one that
  scripts/build-images.sh builds.
- `./govops test --changed` (scripts/test_plan.py) selects the scenarios a
  change touches, and everything for a path it does not know.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))

import test_plan  # noqa: E402
import testsuite  # noqa: E402

TIERS = REPO / "scripts" / "lab" / "images"


def tier_packages(tier: str) -> list[str]:
    lines = (TIERS / f"{tier}.txt").read_text(encoding="utf-8").splitlines()
    return [line.split()[0] for line in lines if line.strip() and not line.lstrip().startswith("#")]


def role_defaults() -> dict:
    values: dict = {}
    for path in sorted(REPO.glob("roles/*/defaults/main.yml")):
        values.update(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    return values


@functools.cache
def declared_packages() -> frozenset[str]:
    """Every string the roles' tasks, vars and defaults hold, with {{ role_default }} filled in."""
    defaults = role_defaults()
    found: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str):
            text = re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: str(defaults.get(m.group(1), m.group(0))), node)
            # Package names inside an inline list expression: ['restic', 'openssh-client'].
            found.update(re.findall(r"'([a-z0-9][a-z0-9.+-]+)'", text))
            found.add(text)

    for path in sorted(REPO.glob("roles/*/*/*.yml")):
        walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return frozenset(found)


def tiers() -> list[str]:
    return sorted(p.stem for p in TIERS.glob("*.txt"))


@pytest.mark.parametrize("tier", tiers())
def test_every_package_baked_into_a_tier_image_is_one_a_role_installs(tier):
    packages = tier_packages(tier)
    assert packages, f"{tier}.txt lists no package"
    missing = [p for p in packages if p not in declared_packages()]
    assert not missing, f"{tier}.txt bakes in {missing}, which no role installs: the image would hide a missing install"


def test_scenarios_and_the_lab_start_from_images_that_are_built():
    built = {f"localhost/govops-{t}:trixie" for t in tiers()} | {
        "localhost/govops-debian:trixie",
        "localhost/govops-debian:bookworm",
    }
    used = {}
    for path in REPO.glob("molecule/*/molecule.yml"):
        for platform in yaml.safe_load(path.read_text(encoding="utf-8"))["platforms"]:
            used[f"{path.parent.name}/{platform['name']}"] = platform["image"]
    lab = yaml.safe_load((REPO / "inventories/lab/group_vars/all/lab.yml").read_text(encoding="utf-8"))
    used["lab (bare)"] = lab["lab_container_image"]
    used.update({f"lab group {g}": image for g, image in lab["lab_tier_images"].items()})
    unknown = {who: image for who, image in used.items() if image not in built}
    assert not unknown, f"images that scripts/build-images.sh does not build: {unknown}"


def test_the_bare_image_is_still_where_installation_is_proven():
    """common and hardening install onto the bare images (both Debian releases)."""
    for scenario in ("common", "hardening"):
        data = yaml.safe_load((REPO / "molecule" / scenario / "molecule.yml").read_text(encoding="utf-8"))
        assert {p["image"] for p in data["platforms"]} == {
            "localhost/govops-debian:trixie",
            "localhost/govops-debian:bookworm",
        }


@pytest.mark.parametrize(
    ("path", "must", "must_not"),
    [
        ("roles/redis/tasks/cluster.yml", {"redis"}, {"common", "hardening", "database"}),
        ("roles/postgresql/tasks/install.yml", {"database"}, {"redis", "common"}),
        ("molecule/common/verify.yml", {"common"}, {"database", "redis"}),
        ("scripts/lab/images/db.txt", {"database"}, {"redis", "common", "hardening"}),
        ("scripts/lab/images/redis.txt", {"redis", "backup_files"}, {"database", "common"}),
        ("plugins/modules/redis_cluster_check.py", {"redis"}, {"common", "hardening"}),
    ],
)
def test_a_change_selects_the_scenarios_that_use_it(path, must, must_not):
    selected = set(test_plan.plan([path])["scenarios"])
    assert must <= selected, f"{path} should select {must}, got {selected}"
    assert not (must_not & selected), f"{path} should not select {must_not & selected}"


@pytest.mark.parametrize("path", [".config/molecule/config.yml", "plugins/connection/podman_pipelined.py", "Makefile2"])
def test_a_shared_or_unknown_path_selects_everything(path):
    result = test_plan.plan([path])
    assert result["scenarios"] == test_plan.scenarios()
    assert result["stages"] == test_plan.STATIC


def test_documentation_alone_runs_no_scenario():
    assert test_plan.plan(["README.md"])["scenarios"] == []


def test_the_suite_plans_setup_first_and_refuses_an_unknown_scenario():
    stages = testsuite.plan("molecule", ["common"], changed=False, base=None)
    assert [s.name for s in stages] == ["setup", "molecule-common"]
    with pytest.raises(SystemExit, match=r"no Molecule scenario nosuch\. Fix: use one of"):
        testsuite.plan("molecule", ["nosuch"], changed=False, base=None)


def test_parallel_runs_start_with_the_longest_scenario_of_the_last_run(tmp_path, monkeypatch):
    runs = tmp_path / "test-runs"
    runs.mkdir()
    record = {"stages": [{"name": "molecule-a", "seconds": 10}, {"name": "molecule-b", "seconds": 300}]}
    (runs / "20260101T000000Z.json").write_text(json.dumps(record))
    monkeypatch.setattr(testsuite, "CACHE", tmp_path)
    ordered = testsuite.longest_first([testsuite.molecule_stage(n) for n in ("a", "b", "new")])
    assert [s.name for s in ordered] == ["molecule-new", "molecule-b", "molecule-a"]


def test_a_failed_stage_prints_why_it_failed_not_only_how_it_ended():
    log = [
        "   1.0s TASK [Verify | over SSH] ***",
        "   2.0s fatal: [h-over-ssh]: UNREACHABLE! => changed=false",
        "   2.0s     msg: 'Failed to connect to the host via ssh: Connection timed out'",
        "   2.1s     unreachable: true",
        "   2.2s ok: [h]",
        *[f"  {3 + n}.0s ok: [h]" for n in range(200)],
        " 300.0s CRITICAL Ansible return code was 4",
    ]
    errors = testsuite.error_lines(log)
    assert errors[0].endswith("UNREACHABLE! => changed=false")
    assert any("Connection timed out" in line for line in errors)
    assert errors[-1].endswith("CRITICAL Ansible return code was 4")
    assert "ok: [h]" not in " ".join(errors[4:-1])
    assert len(testsuite.error_lines(log * 100)) == testsuite.ERROR_LINES
