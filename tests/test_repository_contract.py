"""The layout every role and scenario builds on (docs/layout.md), checked so it cannot drift."""

from __future__ import annotations

import ast
import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
ROLES = sorted(p.name for p in (REPO / "roles").iterdir() if p.is_dir())
CHECK_MODULES = sorted((REPO / "plugins" / "modules").glob("*.py"))


def load(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("role", ROLES)
def test_every_public_default_is_documented_in_argument_specs(role):
    entry_points = load(REPO / "roles" / role / "meta" / "argument_specs.yml")["argument_specs"]
    # Roles run step by step (tasks_from only, e.g. db_restore_drill) share one
    # option set across their entry points and have no main; the first one counts.
    specs = (entry_points.get("main") or next(iter(entry_points.values())))["options"]
    defaults_file = REPO / "roles" / role / "defaults" / "main.yml"
    defaults = load(defaults_file) or {} if defaults_file.exists() else {}
    undocumented = sorted(set(defaults) - set(specs))
    assert not undocumented, f"roles/{role}: add {undocumented} to meta/argument_specs.yml"
    badly_named = sorted(name for name in specs if not name.startswith(f"{role}_"))
    assert not badly_named, f"roles/{role}: public variables must start with '{role}_': {badly_named}"
    internal = sorted(name for name in defaults if name.startswith("__"))
    assert not internal, f"roles/{role}: internal variables {internal} belong in vars/main.yml"


def _with_imports(path: Path) -> str:
    """A playbook's text plus the text of the playbooks it imports (one level)."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    for imported in re.findall(r"import_playbook:\s*(\S+)", text):
        target = (path.parent / imported).resolve()
        if target.is_file():
            text += target.read_text(encoding="utf-8")
    return text


def _site_roles() -> set[str]:
    return set(re.findall(r"role: (\w+)", _with_imports(REPO / "playbooks" / "site.yml")))


@pytest.mark.parametrize("role", ROLES)
def test_every_role_has_a_molecule_scenario_and_a_verify(role):
    # A role is proven by a scenario that converges it (role: X, itself or in
    # an imported playbook) or, for an operation such as a restore drill, runs
    # it in verify (include_role name: X).
    scenarios = [p.parent for p in (REPO / "molecule").glob("*/molecule.yml")]
    converged = [s.name for s in scenarios if re.search(rf"role: {role}\b", _with_imports(s / "converge.yml"))]
    exercised = [s.name for s in scenarios if re.search(rf"name: {role}\b", _with_imports(s / "verify.yml"))]
    assert converged or exercised, f"roles/{role} is converged or run by no molecule scenario; add molecule/{role}/"
    # What site.yml applies is checked by the acceptance report: it needs its checks.
    if role in _site_roles():
        assert (REPO / "roles" / role / "tasks" / "verify.yml").exists(), f"roles/{role}/tasks/verify.yml is missing"


@pytest.mark.parametrize("role", ROLES)
def test_role_meta_names_the_namespace(role):
    info = load(REPO / "roles" / role / "meta" / "main.yml")["galaxy_info"]
    assert info["namespace"] == "govops" and info["role_name"] == role


@pytest.mark.parametrize("path", CHECK_MODULES, ids=lambda p: p.stem)
def test_modules_are_documented_and_honour_check_mode(path):
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    names = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if hasattr(t, "id")}
    for block in ("DOCUMENTATION", "EXAMPLES", "RETURN"):
        assert block in names, f"{path.name} has no {block}"
    doc = yaml.safe_load(
        ast.literal_eval(
            next(
                n.value
                for n in tree.body
                if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "DOCUMENTATION"
            )
        )
    )
    assert doc["module"] == path.stem
    assert "supports_check_mode=True" in source, f"{path.name} must honour check mode"


def test_requirements_match_the_bundled_collections():
    wanted = {c["name"]: c["version"] for c in load(REPO / "requirements.yml")["collections"]}
    proc = subprocess.run(
        ["ansible-galaxy", "collection", "list", "--format", "json"], capture_output=True, text=True, check=True
    )
    bundled = {}
    for collections in json.loads(proc.stdout).values():
        for name, info in collections.items():
            bundled.setdefault(name, info["version"])
    wrong = {name: (version, bundled.get(name)) for name, version in wanted.items() if bundled.get(name) != version}
    assert not wrong, f"requirements.yml disagrees with the bundle (wanted, bundled): {wrong}"


def test_every_collection_the_code_uses_is_in_requirements():
    wanted = {c["name"] for c in load(REPO / "requirements.yml")["collections"]}
    used = set()
    for path in [*REPO.glob("roles/**/*.yml"), *REPO.glob("playbooks/**/*.yml"), *REPO.glob("molecule/**/*.yml")]:
        used |= set(re.findall(r"\b([a-z_]+\.[a-z_]+)\.[a-z_]+:", path.read_text(encoding="utf-8")))
    used |= {
        m.group(1)
        for path in REPO.glob("inventories/**/*.yml")
        for m in re.finditer(r"ansible_connection: ([a-z_]+\.[a-z_]+)\.", path.read_text(encoding="utf-8"))
    }
    used -= {"ansible.builtin"}
    assert used <= wanted, f"add to requirements.yml: {sorted(used - wanted)}"


def test_ci_runs_exactly_the_readme_test_command():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"^\s*(\./govops \w+)\s+#", readme, flags=re.M)
    assert commands[:2] == ["./govops lab", "./govops test"], "README must open with the two commands"
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^exec \./govops test$", ci, flags=re.M), ".ci/run must call exactly `./govops test`"


def test_lab_and_production_inventories_have_the_same_groups():
    def groups(path):
        return set(load(path)["all"]["children"])

    lab = groups(REPO / "inventories" / "lab" / "hosts.yml")
    production = groups(REPO / "inventories" / "production.example" / "hosts.yml")
    assert lab == production
    required = set(
        load(REPO / "inventories" / "lab" / "group_vars" / "all" / "platform.yml")["platform_required_groups"]
    )
    assert required <= lab


def test_no_secret_is_committed_in_clear():
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    assert "inventories/lab/group_vars/all/vault.yml" not in tracked
    leaks = []
    pattern = re.compile(
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----|^\s*(vault_\w+|\w*password\w*):\s*['\"]?[A-Za-z0-9]{16,}", re.M
    )
    for name in tracked:
        path = REPO / name
        if path.suffix in {".yml", ".yaml", ".cfg", ".conf", ".sh", ".j2"} and path.exists():
            text = path.read_text(encoding="utf-8", errors="replace")
            if not text.startswith("$ANSIBLE_VAULT") and pattern.search(text):
                leaks.append(name)
    assert not leaks, f"clear-text secrets in {leaks}; move them to ansible-vault"
