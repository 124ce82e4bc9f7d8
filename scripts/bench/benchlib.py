"""Shared pieces of the benchmark scripts in this folder (imported, never run).

Some benchmarks (patching.py, hardening.py, redis.py) create containers of
their own and run the project's roles on them; the others (failover.py,
restore_drill.py) run the project's playbooks on the lab. All write their
figures under docs/benchmarks/. What they share lives here: running a command
with a one-line error, a playbook against the lab, the environment that points
Ansible at the project's roles and plugins, and the description of the machine
the figures come from.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
IMAGE = "localhost/govops-debian:trixie"


def sh(cmd, env=None, check=True, capture=True, stdin=None, log=None):
    """Run cmd; on failure (with check) exit with the command, its rc and the tail of its output."""
    feed = {"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}
    result = subprocess.run(cmd, env=env, check=False, capture_output=capture, text=True, **feed)  # noqa: S603
    if log is not None:
        log.write_text((result.stdout or "") + (result.stderr or ""), encoding="utf-8")
    if check and result.returncode != 0:
        tail = (result.stdout or "")[-3000:] + (result.stderr or "")[-2000:]
        where = f" (full log: {log})" if log is not None else ""
        sys.exit(f"error: {' '.join(cmd[:4])}... failed (rc {result.returncode}){where}:\n{tail}")
    return result


def in_container(container, user, command, log=None):
    """Run a shell command in a lab container as user; its stdout, stripped."""
    return sh(["podman", "exec", "-u", user, container, "bash", "-ec", command], log=log).stdout.strip()


def timed(label, func):
    """(seconds, result) of func(), with the label and the time printed."""
    print(f"==> {label}", flush=True)
    start = time.monotonic()
    result = func()
    seconds = round(time.monotonic() - start, 1)
    print(f"    {seconds} s", flush=True)
    return seconds, result


def mib_per_s(size_bytes, seconds):
    return round(size_bytes / 1048576 / seconds, 1) if seconds else None


def write_figures(name, data, markdown):
    """docs/benchmarks/<name>.json and <name>.md; the markdown is printed too."""
    docs = REPO / "docs" / "benchmarks"
    docs.mkdir(parents=True, exist_ok=True)
    (docs / f"{name}.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (docs / f"{name}.md").write_text(markdown, encoding="utf-8")
    print(markdown)


def lab_playbook(name, extra, log, extra_files=()):
    """ansible-playbook of the repository against the lab (the environment of scripts/lib.sh)."""
    args = ["ansible-playbook", str(REPO / name)]
    for path in extra_files:
        args += ["-e", f"@{path}"]
    for key, value in extra.items():
        args += ["-e", f"{key}={value}"]
    return sh(args, log=log)


def ansible_env(roles_path=None, **extra):
    """os.environ plus the project's roles and plugins; fresh facts (no cache shared with the lab)."""
    env = dict(os.environ)
    env.update(
        {
            "ANSIBLE_ROLES_PATH": roles_path or str(REPO / "roles"),
            "ANSIBLE_LIBRARY": str(REPO / "plugins" / "modules"),
            "ANSIBLE_MODULE_UTILS": str(REPO / "plugins" / "module_utils"),
            "ANSIBLE_FILTER_PLUGINS": str(REPO / "plugins" / "filter"),
            "ANSIBLE_INJECT_FACT_VARS": "False",
            # Fresh containers get new addresses: never reuse cached facts.
            "ANSIBLE_CACHE_PLUGIN": "ansible.builtin.memory",
            "ANSIBLE_HOST_KEY_CHECKING": "False",
        }
    )
    env.update({key: str(value) for key, value in extra.items()})
    return env


def machine(**extra):
    """The machine the figures come from (cores, memory, load at start, versions)."""
    with open("/proc/meminfo", encoding="utf-8") as handle:
        mem_kb = int(handle.readline().split()[1])
    versions = sh(["ansible", "--version"], env=ansible_env()).stdout.splitlines()[0]
    return {
        "nproc": os.cpu_count(),
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "kernel": platform.release(),
        "ansible": versions,
        "podman": sh(["podman", "--version"]).stdout.strip(),
        "image": IMAGE,
        **extra,
    }
