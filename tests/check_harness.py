"""Run a check module's main() in-process as Ansible would, with its probes and its file writes watched.

run_module() hands the module its arguments the way AnsiballZ does (the JSON
that AnsibleModule reads, including Ansible's own ``_ansible_check_mode``), so
argument parsing, required options, no_log options and check mode are the
real ones. While it runs:

- every external command (govops_checks.run -> subprocess.run) is recorded
  and answered from the test's fixtures (``answers``: argv prefix -> (rc,
  stdout, stderr)); nothing is executed. An unanswered probe gets rc 127, as
  a missing binary would.
- every attempt to change the file system (open for writing, os.open with a
  write flag, remove, rename, mkdir, chmod, chown, symlink, truncate, shutil
  copies and moves) is recorded and refused with PermissionError.

The result says what the module returned, how it exited, which probes it ran
and which writes it attempted.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field

import pytest
from ansible.module_utils import basic

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
FS_CHANGES = {
    os: (
        "remove",
        "unlink",
        "rename",
        "replace",
        "mkdir",
        "makedirs",
        "rmdir",
        "removedirs",
        "chmod",
        "chown",
        "lchown",
        "symlink",
        "link",
        "truncate",
        "mkfifo",
        "utime",
    ),
    shutil: ("copy", "copy2", "copyfile", "copytree", "move", "rmtree", "chown"),
}


@dataclass
class ModuleRun:
    result: dict
    exit_code: int | None
    probes: list[list[str]] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)

    @property
    def checks(self):
        return {check["id"]: check for check in self.result.get("checks", [])}


def _answer(answers, argv):
    for prefix, reply in answers:
        if list(argv[: len(prefix)]) == list(prefix):
            return reply(argv) if callable(reply) else reply
    return 127, "", f"{argv[0]}: not answered by the test fixture"


def run_module(module, args, check_mode=True, answers=()):
    """Run module.main() with args; see the module docstring. answers: [(argv prefix tuple, (rc, out, err))]."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        return _run(monkeypatch, module, args, check_mode, answers)


def _run(monkeypatch, module, args, check_mode, answers):
    probes: list[list[str]] = []
    writes: list[str] = []
    real_open, real_os_open = builtins.open, os.open

    def fake_subprocess_run(argv, **_kwargs):
        probes.append(list(argv))
        rc, out, err = _answer(answers, argv)
        return subprocess.CompletedProcess(argv, rc, out, err)

    def guarded_open(file, mode="r", *a, **kw):
        if any(flag in mode for flag in "wax+"):
            writes.append(f"open({file!r}, {mode!r})")
            raise PermissionError(f"test: the module may not write {file}")
        return real_open(file, mode, *a, **kw)

    def guarded_os_open(path, flags, *a, **kw):
        if flags & WRITE_FLAGS:
            writes.append(f"os.open({path!r}, {flags:#o})")
            raise PermissionError(f"test: the module may not write {path}")
        return real_os_open(path, flags, *a, **kw)

    def refuse(name):
        def change(*a, **_kw):
            writes.append(f"{name}{a!r}")
            raise PermissionError(f"test: the module may not {name}")

        return change

    monkeypatch.setattr(subprocess, "run", fake_subprocess_run)
    monkeypatch.setattr(subprocess, "Popen", refuse("subprocess.Popen"))
    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(io, "open", guarded_open)
    monkeypatch.setattr(os, "open", guarded_os_open)
    for owner, names in FS_CHANGES.items():
        for name in names:
            monkeypatch.setattr(owner, name, refuse(f"{owner.__name__}.{name}"))
    arguments = {**args, "_ansible_check_mode": check_mode, "_ansible_no_log": True}
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": arguments}).encode())
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy")
    out = io.StringIO()
    code = None
    with contextlib.redirect_stdout(out):
        try:
            module.main()
        except SystemExit as exc:
            code = exc.code
    monkeypatch.undo()  # before reading the output: the guards are gone
    text = out.getvalue().strip()
    return ModuleRun(json.loads(text[text.index("{") :]) if "{" in text else {}, code, probes, writes)
