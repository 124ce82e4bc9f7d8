"""scripts/dengbao_diff.py maps the hunks of a git range to 等保 catalog items."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

CATALOG = """\
---
items:
  - id: 8.1.4.1-a
    category: {zh_CN: 身份鉴别, en: Identification and authentication}
    text: {zh_CN: 口令复杂度, en: Password complexity}
    automation: automated
    tasks: [hardening_pwquality]
    checks: [hardening.pwquality]
  - id: 8.1.4.1-b
    category: {zh_CN: 身份鉴别, en: Identification and authentication}
    text: {zh_CN: 登录失败处理, en: Lockout}
    automation: automated
    tasks: [hardening_faillock]
    checks: [hardening.faillock]
  - id: 8.1.4.3-a
    category: {zh_CN: 安全审计, en: Security audit}
    text: {zh_CN: 启用安全审计, en: Auditing}
    automation: automated
    tasks: [hardening_audit_rules]
    checks: [hardening.audit_rules]
"""

TASKS = """\
---
- name: 8.1.4.1-a | PATCH | password quality
  when: hardening_control_8_1_4_1_a
  tags: [8.1.4.1-a, hardening_pwquality]
  block:
    - name: 8.1.4.1-a | PATCH | pwquality.conf
      ansible.builtin.template:
        src: pwquality.conf.j2
        dest: /etc/security/pwquality.conf
        mode: "0644"

- name: 8.1.4.1-b | PATCH | lockout
  when: hardening_control_8_1_4_1_b
  tags: [8.1.4.1-b, hardening_faillock]
  block:
    - name: 8.1.4.1-b | PATCH | faillock.conf
      ansible.builtin.copy:
        content: "deny = {{ hardening_faillock_deny }}"
        dest: /etc/security/faillock.conf
        mode: "0644"
"""

DEFAULTS = """\
---
hardening_control_8_1_4_1_a: true
hardening_control_8_1_4_1_b: true
# 8.1.4.1-a
hardening_pwquality_minlen: 8
# 8.1.4.1-b
hardening_faillock_deny: 5
"""

TEMPLATE = "# {{ ansible_managed }}\n# 8.1.4.1-a\nminlen = {{ hardening_pwquality_minlen }}\n"

MODULE = """\
def check_pwquality(checks):
    checks.verdict(
        "hardening.pwquality",
        "ok",
    )


def check_faillock(checks):
    checks.verdict(
        "hardening.faillock",
        "ok",
    )
"""


def git(repo, *args):
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def write(repo, path, text):
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


@pytest.fixture
def script():
    spec = importlib.util.spec_from_file_location("dengbao_diff", REPO / "scripts" / "dengbao_diff.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["dengbao_diff"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def history(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "test@example.invalid")
    git(repo, "config", "user.name", "test")
    write(repo, "roles/hardening/catalog/gbt22239_l3.yml", CATALOG)
    write(repo, "roles/hardening/tasks/password.yml", TASKS)
    write(repo, "roles/hardening/defaults/main.yml", DEFAULTS)
    write(repo, "roles/hardening/templates/pwquality.conf.j2", TEMPLATE)
    write(repo, "plugins/modules/dengbao_check.py", MODULE)
    write(repo, "README.md", "unrelated\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "tag", "base")
    return repo


def test_task_change_maps_to_its_block_only(history, script, capsys):
    write(
        history,
        "roles/hardening/tasks/password.yml",
        TASKS.replace(
            'dest: /etc/security/faillock.conf\n        mode: "0644"',
            'dest: /etc/security/faillock.conf\n        mode: "0600"',
        ),
    )
    write(history, "README.md", "still unrelated\n")
    git(history, "commit", "-qam", "tighten faillock.conf")
    assert script.main(["base", "--repo", str(history)]) == 0
    out = capsys.readouterr().out
    assert "■ 8.1.4.1-b 身份鉴别" in out
    assert '+        mode: "0600"' in out
    assert "8.1.4.1-a" not in out
    assert "README" not in out


def test_defaults_template_and_check_changes(history, script, capsys):
    write(history, "roles/hardening/defaults/main.yml", DEFAULTS.replace("minlen: 8", "minlen: 12"))
    write(
        history,
        "plugins/modules/dengbao_check.py",
        MODULE.replace('"hardening.faillock",\n        "ok"', '"hardening.faillock",\n        "locked"'),
    )
    git(history, "commit", "-qam", "longer passwords, clearer lockout evidence")
    result, rev_range = script.collect(str(history), "base..HEAD")
    by_item = {key: [hunk.path for hunk in hunks] for key, _item, hunks in result}
    assert by_item["8.1.4.1-a"] == ["roles/hardening/defaults/main.yml"]
    assert by_item["8.1.4.1-b"] == ["plugins/modules/dengbao_check.py"]
    assert "8.1.4.3-a" not in by_item
    markdown = script.render_markdown(result, rev_range)
    assert "### 8.1.4.1-a 身份鉴别" in markdown
    assert "```diff" in markdown
    assert "+hardening_pwquality_minlen: 12" in markdown


def test_template_change_and_unmapped_hunks(history, script):
    write(history, "roles/hardening/templates/pwquality.conf.j2", TEMPLATE + "minclass = 3\n")
    write(history, "roles/hardening/handlers/main.yml", "---\n- name: Hardening | noop\n  ansible.builtin.meta: noop\n")
    git(history, "add", "-A")
    git(history, "commit", "-qm", "template and handler")
    result, _rev_range = script.collect(str(history), "base")
    keys = [key for key, _item, _hunks in result]
    assert keys == ["8.1.4.1-a", script.OTHER]
    text = script.render_text(result, "base..HEAD")
    assert "+minclass = 3" in text
    assert "roles/hardening/handlers/main.yml" in text


def test_bad_range_says_what_to_fix(history, script):
    with pytest.raises(SystemExit, match="Fix: check the range"):
        script.collect(str(history), "no-such-rev..HEAD")


def test_real_catalog_parses(script):
    text = textwrap.dedent((REPO / "roles/hardening/catalog/gbt22239_l3.yml").read_text(encoding="utf-8"))
    spans = script.spans(text, r"^  - id: ")
    assert len(spans) >= 30
