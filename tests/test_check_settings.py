"""One source of truth for every check's thresholds: the role's variables (issue 21).

A check module judges a host against what its role applies. When the module
keeps defaults of its own, the role and the check drift apart silently (the
role hardens to one value, the check accepts another). So:

- dengbao_check has no defaults: it reads the role's variables by their own
  names through govops_checks.Settings, declared in its SETTINGS. The role
  must define every one (defaults/main.yml or vars/main.yml, with the type
  argument_specs.yml gives it), the module must read exactly the declared
  ones, a missing one stops the module naming it, and roles/hardening/tasks/
  verify.yml must hand over the role's variables themselves - proven by
  running it through Ansible against a stub module that returns what it got.
- Every other check module: an option that a role's tasks/verify.yml fills
  from a role variable may keep a default only if it equals the role's
  default (and a dict option's sub-defaults equal the role's dict, key for
  key). Where the role's value is computed, nothing is compared.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

import pytest
import yaml
from ansible.module_utils import govops_checks
from ansible_run import run_playbook
from check_harness import run_module

REPO = Path(__file__).resolve().parent.parent
MODULES = {path.stem: path for path in (REPO / "plugins" / "modules").glob("*.py")}
PLAIN = re.compile(r"^\{\{\s*(\w+)\s*\}\}$")
KIND_OF_SPEC_TYPE = {"int": "int", "bool": "bool", "list": "list", "dict": "dict", "str": "str", "path": "str"}


def load(path):
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def role_values(role):
    """A role's variables as its files define them: defaults/main.yml, then vars/main.yml."""
    values = {}
    for part in ("defaults", "vars"):
        path = REPO / "roles" / role / part / "main.yml"
        if path.exists():
            values.update(load(path))
    return values


def argument_spec(path):
    """The literal argument_spec dict of a module's AnsibleModule(...) call."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "AnsibleModule":
            for keyword in node.keywords:
                if keyword.arg == "argument_spec":
                    return ast.literal_eval(keyword.value)
    raise AssertionError(f"{path.name}: no literal argument_spec")


def role_specs(role):
    entry_points = load(REPO / "roles" / role / "meta" / "argument_specs.yml")["argument_specs"]
    return (entry_points.get("main") or next(iter(entry_points.values())))["options"]


# --- dengbao_check ---------------------------------------------------------------
@pytest.fixture
def dengbao(plugin):
    return plugin("modules", "dengbao_check")


def settings_read(path):
    """Every setting name the module's code uses: the string constants that are exactly a role variable's name.

    The SETTINGS declaration itself does not count; names in messages are
    parts of longer strings and do not count either.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    declaration = next(
        node for node in tree.body if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "SETTINGS"
    )
    declared = {id(node) for node in ast.walk(declaration)}
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and id(node) not in declared
        and isinstance(node.value, str)
        and re.fullmatch(r"(__)?hardening_\w+", node.value)
    }


def test_the_role_defines_every_setting_the_check_reads(dengbao):
    values = role_values("hardening")
    undefined = sorted(set(dengbao.SETTINGS) - set(values))
    assert not undefined, f"dengbao_check reads variables roles/hardening does not define: {undefined}"
    specs = role_specs("hardening")
    wrong = {
        name: (kind, specs[name]["type"])
        for name, kind in dengbao.SETTINGS.items()
        if name in specs and KIND_OF_SPEC_TYPE.get(specs[name]["type"]) != kind
    }
    assert not wrong, f"read as another type than argument_specs.yml declares (module, role): {wrong}"
    # Values the role computes ("{{ ... }}") are typed by Ansible at run time
    # (test_verify_hands_the_roles_own_variables_to_the_check); literal ones here.
    literal = {k: v for k, v in values.items() if k in dengbao.SETTINGS and not (isinstance(v, str) and "{{" in v)}
    problems = govops_checks.Settings(literal, {k: dengbao.SETTINGS[k] for k in literal}).problems()
    assert problems == [], problems


def test_the_check_reads_exactly_the_settings_it_declares(dengbao):
    read = settings_read(MODULES["dengbao_check"])
    assert sorted(read - set(dengbao.SETTINGS)) == [], "read but not declared in SETTINGS"
    assert sorted(set(dengbao.SETTINGS) - read) == [], "declared in SETTINGS but never read"


def test_the_check_has_no_defaults_of_its_own():
    source = MODULES["dengbao_check"].read_text(encoding="utf-8")
    tree = ast.parse(source)
    defaults = [
        ast.unparse(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and len(node.args) == 2
        and isinstance(node.args[0], ast.Constant)
        and (
            str(node.args[0].value).startswith(("hardening_", "__hardening_"))
            or getattr(node.func.value, "id", "") in ("role", "expect", "settings")
        )
    ]
    assert defaults == [], f"defaults of the module's own: {defaults}"
    assert "expect" not in argument_spec(MODULES["dengbao_check"])


def test_the_settings_reader_refuses_what_is_not_there():
    settings = govops_checks.Settings(
        {"a": "12", "b": "x", "c": None}, {"a": "int", "b": "int", "c": "list", "d": "str"}
    )
    assert settings.integer("a") == 12 and settings.items("c") == []
    with pytest.raises(govops_checks.MissingSetting, match="missing role variable"):
        settings.text("d")
    with pytest.raises(govops_checks.SettingError, match="b must be an integer"):
        settings.integer("b")
    with pytest.raises(KeyError, match="not a declared setting"):
        settings.integer("e")
    assert settings.problems() == ["missing role variable(s): d", "b must be an integer, not 'x'"]


def _catalog():
    return load(REPO / "roles" / "hardening" / "catalog" / "gbt22239_l3.yml")["items"]


def test_a_missing_role_variable_stops_the_module_naming_it(dengbao):
    values = {name: value for name, value in role_values("hardening").items() if name in dengbao.SETTINGS}
    values["__hardening_sod_accounts"] = []
    del values["hardening_session_timeout"], values["hardening_critical_files"]
    run = run_module(dengbao, {"catalog": _catalog(), "settings": values})
    assert run.result.get("failed") is True
    assert "missing role variable(s): hardening_critical_files, hardening_session_timeout" in run.result["msg"]
    assert run.result["missing"] == ["hardening_critical_files", "hardening_session_timeout"]
    assert run.probes == [], "nothing may be probed before the settings are complete"
    values["hardening_session_timeout"] = "ten minutes"
    values["hardening_critical_files"] = []
    run = run_module(dengbao, {"catalog": _catalog(), "settings": values})
    assert run.result.get("failed") is True and "hardening_session_timeout must be an integer" in run.result["msg"]


STUB = """#!/usr/bin/python
# Test stub: returns the arguments it was given, so a test sees what a task passes.
from ansible.module_utils.basic import AnsibleModule, _load_params

names = [name for name in _load_params() if not name.startswith("_ansible")]
module = AnsibleModule(argument_spec={name: {"type": "raw"} for name in names}, supports_check_mode=True)
module.exit_json(changed=False, received=module.params, checks=[], summary={})
"""

VERIFY_PLAYBOOK = """
- name: Run roles/hardening/tasks/verify.yml against the stub
  hosts: all
  gather_facts: false
  vars:
    hardening_session_timeout: 300           # the inventory overrides one default
    hardening_ssh_allow_groups: [ops, sysadm]
  tasks:
    - name: The role's verify
      ansible.builtin.include_role:
        name: hardening
        tasks_from: verify.yml
    - name: What the check module received
      ansible.builtin.copy:
        content: "{{ hardening_acceptance.received | to_json }}"
        dest: "{{ out }}"
        mode: "0600"
"""


def test_verify_hands_the_roles_own_variables_to_the_check(dengbao, tmp_path):
    library = tmp_path / "library"
    library.mkdir()
    (library / "dengbao_check.py").write_text(STUB)
    (tmp_path / "play.yml").write_text(VERIFY_PLAYBOOK)
    inventory = {
        "all": {"hosts": {"host1": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}
    }
    out = tmp_path / "received.json"
    run = run_playbook(
        tmp_path,
        inventory,
        tmp_path / "play.yml",
        "-e",
        f"out={out}",
        env={"ANSIBLE_LIBRARY": str(library), "ANSIBLE_ROLES_PATH": str(REPO / "roles")},
    )
    assert run.rc == 0, run.out[-3000:]
    received = json.loads(out.read_text())
    settings = govops_checks.Settings(received["settings"], dengbao.SETTINGS)
    assert settings.problems() == []
    defaults = load(REPO / "roles" / "hardening" / "defaults" / "main.yml")
    # Every value the check reads is the role's, as the play resolves it.
    assert settings.integer("hardening_session_timeout") == 300
    assert settings.items("hardening_ssh_allow_groups") == ["ops", "sysadm"]
    for name in dengbao.SETTINGS:
        if name in defaults and name not in ("hardening_session_timeout", "hardening_ssh_allow_groups"):
            assert received["settings"][name] == defaults[name], name
    assert settings.text("__hardening_audit_rules_file") == "/etc/audit/rules.d/50-govops-hardening.rules"
    assert set(received) == {"catalog", "exceptions", "today", "settings"}


# --- every check module: no default that disagrees with its role ---------------------
def verify_calls():
    """(role, module, option, value) for every option a role's tasks/verify.yml passes to a check module."""
    calls = []
    for path in sorted(REPO.glob("roles/*/tasks/verify.yml")):
        role = path.parts[-3]
        for task in load(path) or []:
            for module in set(task) & set(MODULES):
                calls.extend((role, module, option, value) for option, value in (task[module] or {}).items())
    return calls


def _coerce(kind, value):
    converters = {"int": int, "float": float, "bool": bool, "str": str, "path": str, "list": list, "dict": dict}
    return converters.get(kind, lambda v: v)(value)


def disagreements(calls):
    found = []
    for role, module, option, value in calls:
        spec = argument_spec(MODULES[module])
        if option not in spec:
            found.append(f"roles/{role}/tasks/verify.yml passes {option}, which {module} does not take")
            continue
        match = PLAIN.match(value.strip()) if isinstance(value, str) else None
        values = role_values(role)
        if not match or match.group(1) not in values:
            continue
        role_value = values[match.group(1)]
        if isinstance(role_value, str) and "{{" in role_value:
            continue  # computed by the role: nothing literal to compare
        option_spec = spec[option]
        # A dict with sub-options: its defaults are the sub-options' (compared below).
        if (
            "default" in option_spec
            and not option_spec.get("options")
            and _coerce(option_spec.get("type", "str"), role_value) != option_spec["default"]
        ):
            found.append(
                f"{module} {option}: module default {option_spec['default']!r}, "
                f"roles/{role} {match.group(1)} {role_value!r}"
            )
        for key, sub in (option_spec.get("options") or {}).items():
            if isinstance(role_value, dict) and key not in role_value:
                found.append(f"{module} {option}.{key}: roles/{role} {match.group(1)} has no {key}")
            elif "default" in sub and _coerce(sub.get("type", "str"), role_value[key]) != sub["default"]:
                found.append(
                    f"{module} {option}.{key}: module default {sub['default']!r}, "
                    f"roles/{role} {match.group(1)}.{key} {role_value[key]!r}"
                )
        if isinstance(role_value, dict) and option_spec.get("options"):
            extra = sorted(set(role_value) - set(option_spec["options"]))
            if extra:
                found.append(f"{module} {option}: roles/{role} {match.group(1)} has keys the check ignores: {extra}")
    return found


def test_no_check_default_disagrees_with_its_role():
    calls = verify_calls()
    assert {module for _role, module, _option, _value in calls} >= {
        "common_baseline_check",
        "dengbao_check",
        "redis_cluster_check",
        "pgbackrest_check",
        "db_proxy_check",
        "pg_replication_check",
    }
    assert disagreements(calls) == []


def test_a_disagreeing_default_is_found(monkeypatch):
    """The comparison can fail: a role default changed under a module default, a key the check lacks."""
    real = role_values

    def drifted(role):
        values = dict(real(role))
        if role == "pgbackrest":
            values["pgbackrest_rpo_target_seconds"] = 120
        if role == "redis":
            values["redis_alert_thresholds"] = {**values["redis_alert_thresholds"], "evicted_keys": 1}
        return values

    monkeypatch.setitem(globals(), "role_values", drifted)
    found = disagreements(verify_calls())
    assert (
        "pgbackrest_check rpo_target_seconds: module default 300, roles/pgbackrest pgbackrest_rpo_target_seconds 120"
        in found
    )
    assert any("redis_alert_thresholds has keys the check ignores: ['evicted_keys']" in item for item in found)
    assert disagreements([("redis", "redis_cluster_check", "no_such_option", "{{ redis_ports }}")]) == [
        "roles/redis/tasks/verify.yml passes no_such_option, which redis_cluster_check does not take"
    ]
