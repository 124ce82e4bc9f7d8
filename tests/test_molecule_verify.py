"""The Molecule verify playbooks: they parse, and their refusals name a reason.

Molecule itself needs containers; these tests read the scenarios' files and
run only ``ansible-playbook --syntax-check``, so they run with the unit tests:

- every scenario's verify.yml (with every playbook it imports, e.g.
  molecule/database/verify/*.yml) passes --syntax-check against an inventory
  made from the scenario's own molecule.yml (its hosts and groups);
- molecule/database/verify.yml stays one file per behaviour: it only imports
  files under molecule/database/verify/, and each of them exists;
- a task that expects a command to fail (its failed_when fails the task when
  the command succeeds, or when it exits with another status than the one
  expected) also requires the refusal's text: the error, message or log line
  that says why. A bare exit status also passes when the service is down, the
  login never happened, or the refusal came for another reason;
- the Redis failover time is asserted against a bound derived from
  redis_cluster_node_timeout, and roles/redis/README.md states that bound.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from ansible_run import run_playbook

REPO = Path(__file__).resolve().parent.parent
MOLECULE = REPO / "molecule"
SCENARIOS = sorted(p.parent.name for p in MOLECULE.glob("*/molecule.yml"))

# failed_when that fails the task when the command succeeds, or exits with
# another status than a specific non-zero one: the task expects a refusal.
EXPECTS_REFUSAL = re.compile(r"\.rc\s*==\s*0\b|\.rc\s*!=\s*[1-9]\d*\b|\.rc\s+in\s+\[")
# ... and then it must also fail when the refusal's text is missing.
REQUIRES_TEXT = re.compile(r"\bnot\s+in\b|\bis\s+not\s+(?:search|match|regex)\b")
# Refusals judged by exit status alone that a later change must fix. The
# file's owner fixes them; the test then passes and the mark has to go.
KNOWN_BARE: dict[str, str] = {}


def _scenario_inventory(scenario: str) -> dict:
    """The hosts and groups of molecule/<scenario>/molecule.yml, as an inventory."""
    data = yaml.safe_load((MOLECULE / scenario / "molecule.yml").read_text(encoding="utf-8"))
    groups: dict[str, dict] = {}
    for platform in data["platforms"]:
        for group in platform.get("groups", []):
            groups.setdefault(group, {"hosts": {}})["hosts"][platform["name"]] = {}
    return {"all": {"children": groups}}


def _imports(path: Path) -> list[Path]:
    """The playbooks that a playbook imports (resolved, in order)."""
    plays = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return [
        (path.parent / play["ansible.builtin.import_playbook"]).resolve()
        for play in plays
        if isinstance(play, dict) and "ansible.builtin.import_playbook" in play
    ]


def _tasks(node):
    """Every task of a playbook or task file, blocks included."""
    if isinstance(node, list):
        for item in node:
            yield from _tasks(item)
    elif isinstance(node, dict):
        if "failed_when" in node:
            yield node
        for key in ("tasks", "pre_tasks", "post_tasks", "handlers", "block", "rescue", "always"):
            yield from _tasks(node.get(key))


def _bare_refusals(path: Path) -> list[str]:
    """Names of the tasks in one file that expect a refusal and judge it by exit status alone."""
    bare = []
    for task in _tasks(yaml.safe_load(path.read_text(encoding="utf-8"))):
        condition = task["failed_when"]
        text = " or ".join(map(str, condition)) if isinstance(condition, list) else str(condition)
        if EXPECTS_REFUSAL.search(text) and not REQUIRES_TEXT.search(text):
            bare.append(task.get("name", "<unnamed>"))
    return bare


def _playbook_files() -> list[Path]:
    return sorted(p for p in MOLECULE.rglob("*.yml") if p.name != "molecule.yml")


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_verify_passes_syntax_check_with_the_scenarios_groups(scenario, tmp_path):
    run = run_playbook(tmp_path, _scenario_inventory(scenario), MOLECULE / scenario / "verify.yml", "--syntax-check")
    assert run.rc == 0, run.tail()


def test_database_verify_is_one_file_per_behaviour():
    verify = MOLECULE / "database" / "verify.yml"
    plays = yaml.safe_load(verify.read_text(encoding="utf-8"))
    imported = _imports(verify)
    assert len(imported) == len(plays), (
        "molecule/database/verify.yml holds plays of its own; put them in verify/<behaviour>.yml"
    )
    folder = (MOLECULE / "database" / "verify").resolve()
    assert [p.parent for p in imported] == [folder] * len(imported), imported
    assert all(p.is_file() for p in imported), [str(p) for p in imported if not p.is_file()]
    assert len(set(imported)) == len(imported), "a behaviour is imported twice"
    files = sorted(folder.glob("*.yml"))
    assert sorted(imported) == files, (
        f"files under molecule/database/verify/ that verify.yml never runs: {set(files) - set(imported)}"
    )


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(p, marks=pytest.mark.xfail(strict=True, reason=KNOWN_BARE[str(p.relative_to(REPO))]))
        if str(p.relative_to(REPO)) in KNOWN_BARE
        else p
        for p in _playbook_files()
    ],
    ids=lambda p: str(p.relative_to(MOLECULE)),
)
def test_refusals_assert_their_reason(path):
    bare = _bare_refusals(path)
    assert not bare, (
        f"{path.relative_to(REPO)}: these tasks expect a refusal and judge it by exit status alone: {bare}. "
        "Fix: also fail when the refusal's text (error, message or log line) is missing, e.g. "
        "failed_when: x.rc == 0 or 'permission denied' not in x.stderr"
    )


def test_the_refusal_rule_catches_a_bare_exit_status(tmp_path):
    sample = tmp_path / "verify.yml"
    sample.write_text(
        "- hosts: all\n"
        "  tasks:\n"
        "    - name: bare\n"
        "      ansible.builtin.command: 'false'\n"
        "      failed_when: r.rc == 0\n"
        "    - name: expected status only\n"
        "      ansible.builtin.command: 'false'\n"
        "      failed_when: r.rc != 255\n"
        "    - name: with its reason\n"
        "      ansible.builtin.command: 'false'\n"
        "      failed_when: r.rc == 0 or 'denied' not in r.stderr\n"
        "    - name: a success\n"
        "      ansible.builtin.command: 'true'\n"
        "      failed_when: r.rc != 0\n",
        encoding="utf-8",
    )
    assert _bare_refusals(sample) == ["bare", "expected status only"]


def test_redis_failover_time_is_bounded_as_the_readme_says():
    plays = yaml.safe_load((MOLECULE / "redis" / "verify.yml").read_text(encoding="utf-8"))
    failover = next(p for p in plays if "failover" in p.get("name", "") and "tasks" in p)
    allowance = failover["vars"]["__failover_allowance_s"]
    assert isinstance(allowance, int) and allowance > 0
    assert re.fullmatch(
        r"\{\{\s*redis_cluster_node_timeout\s*/\s*1000\s*\+\s*__failover_allowance_s\s*\}\}",
        failover["vars"]["__failover_bound_s"],
    ), failover["vars"]["__failover_bound_s"]
    # The assertion follows the measurement and compares the measured time with the bound.
    names = [t["name"] for t in failover["tasks"]]
    measured = names.index("Verify | measured failover time")
    bound = next(t for t in failover["tasks"][measured:] if "ansible.builtin.assert" in t)
    that = " ".join(bound["ansible.builtin.assert"]["that"])
    assert "<= __failover_bound_s" in that and "__verify_recovered.stdout" in bound["vars"]["__failover_s"]
    readme = " ".join((REPO / "roles" / "redis" / "README.md").read_text(encoding="utf-8").split())
    assert f"`redis_cluster_node_timeout` + {allowance} s" in readme, (
        f"roles/redis/README.md must state the Molecule failover bound: redis_cluster_node_timeout + {allowance} s"
    )
