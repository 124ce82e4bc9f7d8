"""The 等保 control catalog, the role's task tags and the check module must agree.

roles/hardening/catalog/gbt22239_l3.yml lists, per item, the task tags that
implement it and the check ids that verify it. This test reads the three
sources and fails on any drift: a block tagged with a control the catalog
does not list, a catalog task tag no block carries, a check id the module does
not report, a check the catalog does not map, a switch without an item.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.govops_dengbao import DengbaoCheckList, control_verdicts, verdict_summary

REPO = Path(__file__).resolve().parent.parent
ROLE = REPO / "roles" / "hardening"
CATALOG = ROLE / "catalog" / "gbt22239_l3.yml"
MODULE = REPO / "plugins" / "modules" / "dengbao_check.py"
CONTROL_ID = re.compile(r"^8\.1\.4\.\d{1,2}-[a-g]$")
BLOCK_NAME = re.compile(r"^(8\.1\.4\.\d{1,2}-[a-g]) \| PATCH \| \S")
AUTOMATION = {"automated", "partial", "interview-only", "not-applicable"}


def load_catalog():
    return yaml.safe_load(CATALOG.read_text(encoding="utf-8"))["items"]


def load_blocks(tasks_dir=ROLE / "tasks"):
    """Every top-level task/block of the role's task files: (file, name, tags, when, inner names)."""
    blocks = []
    for path in sorted(tasks_dir.glob("*.yml")):
        for task in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            when = task.get("when", "")
            blocks.append(
                {
                    "file": path.name,
                    "name": task.get("name", ""),
                    "tags": [str(tag) for tag in task.get("tags", [])],
                    "when": " and ".join(when) if isinstance(when, list) else str(when),
                    "inner": [inner.get("name", "") for inner in task.get("block", [])],
                }
            )
    return blocks


def module_check_ids(source=None):
    """CHECK_IDS of the module, and every 'hardening.*' id its code reports."""
    text = source if source is not None else MODULE.read_text(encoding="utf-8")
    declared_block = re.search(r"CHECK_IDS = \((.*?)\n\)", text, re.DOTALL)
    declared = set(re.findall(r'"(hardening\.[a-z0-9_]+)"', declared_block.group(1))) if declared_block else set()
    rest = text.replace(declared_block.group(0), "") if declared_block else text
    used = set(re.findall(r'^\s+"(hardening\.[a-z0-9_]+)",\s*$', rest, re.MULTILINE))
    return declared, used


def snake(control_id):
    return "hardening_control_" + re.sub(r"[.-]", "_", control_id)


def catalog_problems(catalog):
    """The catalog on its own: ids, automation status, texts, reasons."""
    problems = []
    ids = [item["id"] for item in catalog]
    problems += [f"duplicate catalog id {i}" for i in sorted({i for i in ids if ids.count(i) > 1})]
    problems += [f"malformed catalog id {i}" for i in ids if not CONTROL_ID.match(i)]

    for item in catalog:
        automation = item.get("automation")
        if automation not in AUTOMATION:
            problems.append(f"{item['id']}: automation {automation!r} not one of {sorted(AUTOMATION)}")
        for lang in ("zh_CN", "en"):
            if not (item.get("text") or {}).get(lang):
                problems.append(f"{item['id']}: text.{lang} missing")
        if automation == "automated" and not (item.get("tasks") and item.get("checks")):
            problems.append(f"{item['id']}: automated but lists no task tag or no check")
        if automation == "partial" and not item.get("checks"):
            problems.append(f"{item['id']}: partial but lists no check")
        if automation != "automated" and not item.get("reason"):
            problems.append(f"{item['id']}: {automation} without a reason")
        if automation in ("interview-only", "not-applicable") and (item.get("tasks") or item.get("checks")):
            problems.append(f"{item['id']}: {automation} but lists tasks or checks")
    return problems


def block_problems(catalog, blocks):
    """Blocks -> catalog; returns the problems and the (control, task tag) pairs the blocks carry."""
    by_id = {item["id"]: item for item in catalog}
    problems = []
    tagged = {}  # (control id, task tag) pairs carried by blocks
    for block in blocks:
        match = BLOCK_NAME.match(block["name"])
        control_tags = [tag for tag in block["tags"] if CONTROL_ID.match(tag)]
        task_tags = [tag for tag in block["tags"] if tag.startswith("hardening_")]
        if not match:
            if control_tags:
                problems.append(f"{block['file']}: '{block['name']}' has control tags but no '<id> | PATCH |' name")
            continue
        control = match.group(1)
        where = f"{block['file']}: '{block['name']}'"
        if control_tags != [control]:
            problems.append(f"{where}: tagged {control_tags}, expected exactly [{control}]")
        if len(task_tags) != 1:
            problems.append(f"{where}: needs exactly one hardening_* task tag, has {task_tags}")
        if control not in by_id:
            problems.append(f"{where}: control {control} is not in the catalog")
            continue
        for tag in task_tags:
            tagged.setdefault((control, tag), []).append(where)
            if tag not in (by_id[control].get("tasks") or []):
                problems.append(f"{where}: task tag {tag} not listed under {control} in the catalog")
        if snake(control) not in block["when"] or f"'{control}' not in __hardening_excepted" not in block["when"]:
            problems.append(f"{where}: when must test {snake(control)} and the exceptions register")
        problems += [
            f"{where}: inner task '{name}' not named '{control} | PATCH | ...'"
            for name in block["inner"]
            if not name.startswith(f"{control} | PATCH | ")
        ]
    return problems, tagged


def coverage_problems(catalog, tagged, declared, used, defaults):
    """Catalog -> blocks, checks, switches; module -> catalog."""
    problems = []
    all_checks = set()
    for item in catalog:
        for tag in item.get("tasks") or []:
            if (item["id"], tag) not in tagged:
                problems.append(f"{item['id']}: task tag {tag} is on no block tagged {item['id']}")
        for check in item.get("checks") or []:
            all_checks.add(check)
            if check not in declared:
                problems.append(f"{item['id']}: check {check} is not in dengbao_check CHECK_IDS")
        switch = snake(item["id"])
        if item.get("tasks") and switch not in defaults:
            problems.append(f"{item['id']}: no switch {switch} in defaults/main.yml")
        if not item.get("tasks") and switch in defaults:
            problems.append(f"{item['id']}: switch {switch} but no task implements the item")
    problems += [f"check {c} (module) is mapped to no catalog item" for c in sorted(declared - all_checks)]
    problems += [f"check {c} is reported by the module but not in CHECK_IDS" for c in sorted(used - declared)]
    problems += [f"check {c} is in CHECK_IDS but never reported" for c in sorted(declared - used)]
    known_switches = {snake(item["id"]) for item in catalog}
    problems += [
        f"switch {name} in defaults/main.yml has no catalog item"
        for name in sorted(defaults)
        if name.startswith("hardening_control_") and name not in known_switches
    ]
    return problems


def drift(catalog, blocks, declared, used, defaults):
    """All disagreements between catalog, task blocks, check module and switches."""
    tagged_problems, tagged = block_problems(catalog, blocks)
    return catalog_problems(catalog) + tagged_problems + coverage_problems(catalog, tagged, declared, used, defaults)


@pytest.fixture(scope="module")
def sources():
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text(encoding="utf-8"))
    declared, used = module_check_ids()
    return load_catalog(), load_blocks(), declared, used, defaults


def test_catalog_tasks_and_checks_agree(sources):
    assert drift(*sources) == []


def test_catalog_covers_8_1_4_level_3(sources):
    ids = {item["id"] for item in sources[0]}
    expected = (
        [f"8.1.4.1-{c}" for c in "abcd"]
        + [f"8.1.4.2-{c}" for c in "abcdefg"]
        + [f"8.1.4.3-{c}" for c in "abcd"]
        + [f"8.1.4.4-{c}" for c in "abcdef"]
        + ["8.1.4.5-a", "8.1.4.6-a", "8.1.4.7-a", "8.1.4.7-b", "8.1.4.8-a", "8.1.4.8-b"]
        + ["8.1.4.9-a", "8.1.4.9-b", "8.1.4.9-c", "8.1.4.10-a", "8.1.4.10-b", "8.1.4.11-a", "8.1.4.11-b"]
    )
    assert sorted(set(expected) - ids) == []


def test_every_switch_is_documented(sources):
    specs = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    options = specs["argument_specs"]["main"]["options"]
    assert sorted(set(sources[4]) - set(options)) == []
    assert sorted(set(options) - set(sources[4])) == []


def test_drift_is_detected(sources):
    catalog, blocks, declared, used, defaults = sources
    # A task tag renamed in the catalog.
    broken = copy.deepcopy(catalog)
    item = next(i for i in broken if i["id"] == "8.1.4.1-b")
    item["tasks"] = [t.replace("hardening_faillock", "hardening_lockout") for t in item["tasks"]]
    problems = drift(broken, blocks, declared, used, defaults)
    assert any("hardening_faillock not listed under 8.1.4.1-b" in p for p in problems)
    assert any("hardening_lockout is on no block" in p for p in problems)
    # A check the module does not have, and a module check the catalog forgets.
    broken = copy.deepcopy(catalog)
    item = next(i for i in broken if i["id"] == "8.1.4.3-a")
    item["checks"] = ["hardening.auditd_service", "hardening.audit_rulez"]
    problems = drift(broken, blocks, declared, used, defaults)
    assert any("hardening.audit_rulez is not in dengbao_check" in p for p in problems)
    assert any("hardening.audit_rules (module) is mapped to no catalog item" in p for p in problems)
    # A block tagged with the wrong control.
    broken_blocks = copy.deepcopy(blocks)
    block = next(b for b in broken_blocks if "hardening_tmout" in b["tags"])
    block["tags"] = ["8.1.4.1-c", "hardening_tmout"]
    problems = drift(catalog, broken_blocks, declared, used, defaults)
    assert any("expected exactly [8.1.4.1-b]" in p for p in problems)


def test_control_verdicts_fold_and_exceptions():
    catalog = [
        {"id": "8.1.4.1-a", "automation": "automated", "checks": ["hardening.a1", "hardening.a2"]},
        {"id": "8.1.4.1-b", "automation": "automated", "checks": ["hardening.b"]},
        {"id": "8.1.4.3-a", "automation": "partial", "checks": ["hardening.c"], "reason": "r"},
        {"id": "8.1.4.4-e", "automation": "partial", "checks": ["hardening.e"], "reason": "r"},
        {"id": "8.1.4.5-a", "automation": "interview-only", "checks": [], "reason": "product"},
    ]
    exceptions = [{"control": "8.1.4.4-e", "reason": "frozen", "approver": "CISO", "expires": "2099-01-01"}]
    checks = DengbaoCheckList(catalog, exceptions)
    checks.verdict("hardening.a1", "甲", "a1", True, "ok")
    checks.verdict("hardening.a2", "乙", "a2", True, "ok")
    checks.verdict("hardening.b", "丙", "b", False, "bad", remediation="fix b")
    checks.add("hardening.c", "丁", "c", "warn", "container")
    checks.verdict("hardening.e", "戊", "e", False, "pending")
    assert [c["verdict"] for c in checks.checks] == ["符合", "符合", "不符合", "部分符合", "例外"]
    assert checks.checks[2]["remediation"] == "fix b"
    assert checks.checks[4]["status"] == "skip"
    assert checks.summary() == {"pass": 2, "fail": 1, "warn": 1, "skip": 1, "total": 5}
    rows = {row["id"]: row for row in control_verdicts(catalog, checks.checks, exceptions)}
    assert rows["8.1.4.1-a"]["verdict"] == "符合"
    assert rows["8.1.4.1-b"]["verdict"] == "不符合"
    assert rows["8.1.4.1-b"]["status"] == "fail"
    assert rows["8.1.4.3-a"]["verdict"] == "部分符合"
    assert rows["8.1.4.4-e"]["verdict"] == "例外"
    assert "frozen" in rows["8.1.4.4-e"]["evidence"][0]
    assert rows["8.1.4.5-a"]["verdict"] == "不适用"
    assert verdict_summary(rows.values())["total"] == 5
