#!/usr/bin/env python3
"""Which test stages and Molecule scenarios a change touches (`./govops test --changed`).

A developer's shortcut; CI always runs everything. The map is read from the
repository itself, not kept by hand:

- a scenario depends on the roles and playbooks its own files name (role:,
  include_role/import_role, roles/<name>, playbooks/<name>.yml), on the roles
  those playbooks apply, on the check modules and filters those roles call,
  and on the images its molecule.yml starts from (scripts/lab/images/<tier>.*);
- what every scenario shares (.config/molecule, plugins/connection,
  plugins/module_utils, scripts/build-images.sh, the base image's package
  list, ansible.cfg, requirements) selects every scenario;
- Python files select lint-python and unit, YAML files lint-yaml and
  lint-ansible, tests/ the unit stage, playbooks/roles/inventories the syntax
  stage;
- a path the map does not know selects everything: never too little.

Standard library only: the suite runs it before the venv exists.

Usage: scripts/test_plan.py [--base REF] [PATH ...]   prints the plan as JSON
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STATIC = ["lint-yaml", "lint-ansible", "lint-python", "unit", "syntax"]
SHARED = (
    ".config/molecule/",
    "plugins/connection/",
    "plugins/module_utils/",
    "plugins/doc_fragments/",
    "scripts/build-images.sh",
    "scripts/lab/image-packages.txt",
    "scripts/lab/containers.conf",
    "scripts/lib.sh",
    "scripts/setup.sh",
    "ansible.cfg",
    "pyproject.toml",
    "requirements.yml",
)
# Paths that no scenario and no static stage reads beyond the linters.
DOCS_ONLY = ("README.md", "docs/", "LICENSE", ".gitignore", ".ci/")

ROLE_REF = re.compile(r"(?:\brole:\s*|\bname:\s*|roles/)([a-z_][a-z0-9_]*)")
ROLES_LIST = re.compile(r"^\s*-\s*(?:role:\s*)?([a-z_][a-z0-9_]*)\s*$", re.M)
PLAYBOOK_REF = re.compile(r"playbooks/([a-z0-9_]+)\.yml|import_playbook:\s*([a-z0-9_]+)\.yml")
IMAGE_REF = re.compile(r"image:\s*localhost/govops-([a-z0-9]+):")
MODULE_CALL = re.compile(r"^\s*([a-z_][a-z0-9_]*):\s*$", re.M)
FILTER_CALL = re.compile(r"\|\s*([a-z_][a-z0-9_]*)")


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


@functools.cache
def roles() -> frozenset[str]:
    return frozenset(p.name for p in (REPO / "roles").iterdir() if p.is_dir())


def playbook_roles(name: str, seen: set[str] | None = None) -> set[str]:
    """Roles a playbook applies, following import_playbook."""
    seen = seen if seen is not None else set()
    path = REPO / "playbooks" / f"{name}.yml"
    if name in seen or not path.exists():
        return set()
    seen.add(name)
    text = _read(path)
    found = {m for m in ROLE_REF.findall(text) if m in roles()} | {m for m in ROLES_LIST.findall(text) if m in roles()}
    for a, b in PLAYBOOK_REF.findall(text):
        found |= playbook_roles(a or b, seen)
    return found


@functools.cache
def plugin_users() -> dict[str, set[str]]:
    """plugins/<kind>/<file>.py -> the roles whose files call it (a module by name, a filter by name)."""
    users: dict[str, set[str]] = {}
    role_text = {r: "\n".join(_read(p) for p in (REPO / "roles" / r).rglob("*.yml")) for r in roles()}
    for module in (REPO / "plugins" / "modules").glob("*.py"):
        call = re.compile(rf"^\s*{module.stem}:", re.M)
        users[str(module.relative_to(REPO))] = {r for r, t in role_text.items() if call.search(t)}
    for filt in (REPO / "plugins" / "filter").glob("*.py"):
        names = set(re.findall(r'"([a-z_][a-z0-9_]*)":\s*[a-z_]', _read(filt)))
        users[str(filt.relative_to(REPO))] = {r for r, t in role_text.items() if names & set(FILTER_CALL.findall(t))}
    return users


@functools.cache
def scenario_deps(scenario: str) -> dict[str, set[str]]:
    text = "\n".join(_read(p) for p in (REPO / "molecule" / scenario).rglob("*") if p.is_file())
    deps_roles = {m for m in ROLE_REF.findall(text) if m in roles()}
    books = {a or b for a, b in PLAYBOOK_REF.findall(text)}
    for book in books:
        deps_roles |= playbook_roles(book)
    # A role's own dependencies (meta/main.yml) count too.
    for role in list(deps_roles):
        meta = REPO / "roles" / role / "meta" / "main.yml"
        if meta.exists():
            deps_roles |= {m for m in ROLE_REF.findall(_read(meta)) if m in roles()}
    return {"roles": deps_roles, "playbooks": books, "images": set(IMAGE_REF.findall(text))}


def scenarios() -> list[str]:
    return sorted(p.parent.name for p in (REPO / "molecule").glob("*/molecule.yml"))


def plan(files: list[str]) -> dict:  # noqa: PLR0912 (one branch per kind of path reads best)
    """{'files': [...], 'stages': [static stage names], 'scenarios': [names], 'why': {target: [paths]}}"""
    all_scenarios = scenarios()
    deps = {s: scenario_deps(s) for s in all_scenarios}
    users = plugin_users()
    stages: set[str] = set()
    selected: set[str] = set()
    why: dict[str, list[str]] = {}

    def pick(targets: set[str] | list[str], path: str) -> None:
        for target in targets:
            why.setdefault(target, []).append(path)
        selected.update(t for t in targets if t in all_scenarios)
        stages.update(t for t in targets if t in STATIC)

    for path in files:
        parts = path.split("/")
        if path.endswith(".py"):
            pick(["lint-python", "unit"], path)
        if path.endswith((".yml", ".yaml")):
            pick(["lint-yaml", "lint-ansible"], path)
        if path.startswith(DOCS_ONLY):
            # Benchmark pages are regenerated from their JSON by a unit test.
            pick(["unit"] if path.startswith("docs/") else [], path)
            continue
        if path.startswith(SHARED):
            pick(STATIC + all_scenarios, path)
        elif parts[0] == "tests":
            pick(["unit"], path)
        elif parts[0] == "molecule" and len(parts) > 1 and parts[1] in all_scenarios:
            pick([parts[1]], path)
        elif parts[0] == "roles" and len(parts) > 1:
            pick(["syntax", "unit"] + [s for s in all_scenarios if parts[1] in deps[s]["roles"]], path)
        elif parts[0] == "playbooks" and len(parts) > 1:
            book = Path(parts[-1]).stem
            pick(["syntax", "unit"] + [s for s in all_scenarios if book in deps[s]["playbooks"]], path)
        elif parts[0] == "inventories":
            pick(["syntax", "unit"], path)
        elif parts[0] == "plugins" and path in users:
            pick(["unit"] + [s for s in all_scenarios if users[path] & deps[s]["roles"]], path)
        elif path.startswith("scripts/lab/images/"):
            tier = Path(parts[-1]).name.split(".")[0]
            pick(["unit"] + [s for s in all_scenarios if tier in deps[s]["images"]], path)
        elif path.startswith("scripts/"):
            # The suite, the lab, benchmarks: their unit tests.
            pick(["unit", "lint-python"] if path.endswith(".py") else ["unit"], path)
        else:
            pick(STATIC + all_scenarios, path)
    return {
        "files": files,
        "stages": [s for s in STATIC if s in stages],
        "scenarios": sorted(selected),
        "why": {k: sorted(v) for k, v in sorted(why.items())},
    }


def changed_files(base: str | None = None) -> list[str]:
    """Files changed against base (default: the upstream's merge base, else HEAD), staged, unstaged and untracked."""

    def git(*args: str) -> list[str]:
        proc = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)  # noqa: S603, S607
        return [line for line in proc.stdout.splitlines() if line]

    if base is None:
        upstream = git("merge-base", "HEAD", "@{upstream}")
        base = upstream[0] if upstream else "HEAD"
    files = set(git("diff", "--name-only", base)) | set(git("ls-files", "--others", "--exclude-standard"))
    return sorted(files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default=None)
    parser.add_argument("paths", nargs="*")
    args = parser.parse_args()
    print(json.dumps(plan(args.paths or changed_files(args.base)), indent=2))


if __name__ == "__main__":
    main()
