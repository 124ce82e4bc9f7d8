"""Shared pieces of the benchmark scripts in this folder (imported, never run).

Some benchmarks (patching.py, hardening.py, redis.py) create containers of
their own and run the project's roles on them; the others (failover.py,
restore_drill.py) run the project's playbooks on the lab. All write their
figures under docs/benchmarks/. What they share lives here: running a command
with a one-line error, a playbook against the lab, the environment that points
Ansible at the project's roles and plugins, and the description of the machine
the figures come from, and what every page shares: each page
(docs/benchmarks/<name>.md) is a pure function of its JSON, rebuilt by
`<script> --report` without running anything (tests/test_benchmark_pages.py
rebuilds every page and fails on a difference), and every sentence on it that
states a result is computed from the figures of that run.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
IMAGE = "localhost/govops-debian:trixie"
PAGES = REPO / "docs" / "benchmarks"
# Repetitions of one figure that disagree by more than this factor are not
# published: the page says "re-run needed" instead of a number.
SPREAD_LIMIT = 3.0


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
    PAGES.mkdir(parents=True, exist_ok=True)
    (PAGES / f"{name}.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    write_page(name, markdown)


def write_page(name, markdown):
    """docs/benchmarks/<name>.md only (the JSON is left as it is); the markdown is printed too."""
    PAGES.mkdir(parents=True, exist_ok=True)
    (PAGES / f"{name}.md").write_text(markdown, encoding="utf-8")
    print(markdown)


def read_figures(name):
    """The committed docs/benchmarks/<name>.json; a missing file stops with the fix."""
    path = PAGES / f"{name}.json"
    if not path.is_file():
        sys.exit(f"error: {path} is missing. Fix: run the benchmark first (without --report).")
    return json.loads(path.read_text(encoding="utf-8"))


def report(name, markdown):
    """The page again from the committed JSON, nothing run: what every script's --report does."""
    write_page(name, markdown(read_figures(name)))


def spread(values):
    """max / min of the positive values (1.0 for fewer than two); how far repetitions of one figure disagree."""
    values = [v for v in values if v]
    return round(max(values) / min(values), 2) if len(values) > 1 else 1.0


def publishable(values, limit=SPREAD_LIMIT):
    """A series is published when it has a value and its repetitions agree within `limit`."""
    return any(values) and spread(values) <= limit


def min_median_max(values, digits=1):
    """{"min", "median", "max", "n"} of the values that are not None; None when there is none."""
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {
        "min": min(values),
        "median": round(statistics.median(values), digits),
        "max": max(values),
        "n": len(values),
    }


def load_sentence(machine_info, end=None):
    """What the load averages recorded with the run show, in one sentence (English), computed, never assumed.

    The script cannot know what else ran; it knows the 1-minute load average
    it read at the start (and at the end, when recorded) and the number of
    cores. Above the number of cores, more work was waiting than the machine
    could run at once.
    """
    cores = machine_info["nproc"]
    loads = [machine_info["load_average_at_start"][0]]
    when = "at the start"
    if end is not None:
        loads.append(end[0] if isinstance(end, list | tuple) else end)
        when = "at the start and at the end"
    shown = " and ".join(str(x) for x in loads)
    if max(loads) > cores:
        return (
            f"1-minute load average {when}: {shown} on {cores} cores, above the number of cores: "
            "the machine was busy, so the timings may be slower than on an idle machine."
        )
    return f"1-minute load average {when}: {shown} on {cores} cores, not above the number of cores."


def load_sentence_zh(machine_info, end=None):
    """load_sentence in Chinese."""
    cores = machine_info["nproc"]
    loads = [machine_info["load_average_at_start"][0]]
    if end is not None:
        loads.append(end[0] if isinstance(end, list | tuple) else end)
    shown = " / ".join(str(x) for x in loads)
    when = "开始与结束时" if end is not None else "开始时"
    if max(loads) > cores:
        return f"{when}的 1 分钟平均负载为 {shown}，高于 {cores} 个核：机器繁忙，耗时可能比空闲机器上长。"
    return f"{when}的 1 分钟平均负载为 {shown}，不高于 {cores} 个核。"


def met(ok):
    """A verdict, zh-CN first."""
    return "**达到 / met**" if ok else "**未达到 / NOT met**"


def machine_line(machine_info, end=None):
    """The page's machine line: cores, memory, and what the recorded load shows (zh-CN, then English)."""
    return (
        f"机器 / Machine: {machine_info['nproc']} cores, {machine_info['ram_gib']} GiB. "
        f"{load_sentence_zh(machine_info, end)} {load_sentence(machine_info, end)}"
    )


def load_now():
    """The load averages now, as machine() records them at the start."""
    return [round(x, 2) for x in os.getloadavg()]


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
