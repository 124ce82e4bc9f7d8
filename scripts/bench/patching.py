#!/usr/bin/env python3
"""Benchmark (issue 8): a rolling patch vs the naive "patch everything at once", same lab, same run.

Creates fresh containers of its own (bench-patch-repo + bench-patch-1..N, podman
network bench-patching), serves the local apt repository of molecule/patching
(files/build_repo.py, prepared by molecule/patching/prepare.yml: version 1.0
of the demo packages installed, 1.1 pending) and runs roles/patching twice:

  rolling  serial: 1, max_fail_percentage: 0 (what playbooks/patch.yml does per tier)
  naive    serial: 100% (every host at once)

between the two the hosts are put back to 1.0. Out of service for a host is
measured on the host by the role's own tier hooks (patching_hooks_before_apply
/ _after_apply, the places where Redis hands over its masters and search
stops allocation): from just before the packages are installed until after
installation, needrestart and reboot handling, before acceptance.

Figures: wall time of each run; per host the out-of-service seconds; the
longest time the whole tier was out of service at once; the most hosts out of
service at the same moment. Writes docs/benchmarks/patching.md and .json.

Run from the repository root after `source scripts/lib.sh`:
    python3 scripts/bench/patching.py --hosts 3
Containers are removed at the end (--keep leaves them).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from datetime import UTC, datetime

import benchlib
from benchlib import IMAGE, REPO, sh

WORK = REPO / ".cache" / "bench" / "patching"
NETWORK = "bench-patching"
PREFIX = "bench-patch"
PACKAGES = ["govops-demo-tool", "govops-demo-reboot", "govops-demo-lib"]

BENCH_PLAY = """\
---
- name: Bench | patch the hosts
  hosts: patching_hosts
  serial: "{{ bench_serial }}"
  max_fail_percentage: 0
  become: true
  gather_facts: false
  roles:
    - role: patching
      vars:
        patching_hooks_before_apply: [{role: bench_oos, tasks_from: down.yml}]
        patching_hooks_after_apply: [{role: bench_oos, tasks_from: up.yml}]
"""
HOOK = """\
---
- name: Bench | out of service mark ({mark})
  ansible.builtin.shell: date +%s.%N > /run/bench-{mark}
  changed_when: true
"""
RESET_PLAY = """\
---
- name: Bench | back to version 1.0
  hosts: patching_hosts
  become: true
  gather_facts: false
  tasks:
    - name: Bench | downgrade the demo packages
      ansible.builtin.apt:
        name: "{{ __molecule_demo_packages | product(['1.0']) | map('join', '=') | list }}"
        allow_downgrade: true
    - name: Bench | no reboot flag, no marks
      ansible.builtin.file:
        path: "{{ item }}"
        state: absent
      loop: [/var/run/reboot-required, /var/run/reboot-required.pkgs, /run/bench-down, /run/bench-up]
"""


def names(count):
    return [f"{PREFIX}-repo"] + [f"{PREFIX}-{i}" for i in range(1, count + 1)]


def create(count):
    remove(count)
    sh(["podman", "network", "create", NETWORK])
    for name in names(count):
        sh(
            [
                *("podman", "run", "-d", "--name", name, "--hostname", name, "--network", NETWORK, "--no-hosts"),
                *("--systemd", "always", IMAGE, "/sbin/init"),
            ]
        )


def remove(count):
    for name in names(count):
        sh(["podman", "rm", "-f", "-t", "0", name], check=False)
    sh(["podman", "network", "rm", "-f", NETWORK], check=False)


def write_files(count):
    if WORK.exists():
        shutil.rmtree(WORK)
    (WORK / "roles" / "bench_oos" / "tasks").mkdir(parents=True)
    for mark in ("down", "up"):
        (WORK / "roles" / "bench_oos" / "tasks" / f"{mark}.yml").write_text(HOOK.format(mark=mark), encoding="utf-8")
    (WORK / "bench.yml").write_text(BENCH_PLAY, encoding="utf-8")
    (WORK / "reset.yml").write_text(RESET_PLAY, encoding="utf-8")
    hosts = {name: None for name in names(count)[1:]}
    inventory = {
        "all": {
            "vars": {
                "ansible_connection": "containers.podman.podman",
                "platform_evidence_dir": str(WORK / "evidence"),
                "patching_change_id": "CHG-BENCH-0001",
                "patching_operator": "bench",
                "patching_windows": [{"days": ["sat", "sun"], "start": "22:00", "end": "06:00"}],
                "patching_now": "2026-11-21T23:00:00+08:00",
                "patching_stage": "test",
                "__molecule_demo_packages": PACKAGES,
            },
            "children": {
                "patching_repo": {"hosts": {f"{PREFIX}-repo": None}},
                "patching_hosts": {"hosts": hosts},
            },
        }
    }
    (WORK / "inventory.json").write_text(json.dumps(inventory, indent=1), encoding="utf-8")


def ansible_env():
    return benchlib.ansible_env(roles_path=f"{WORK / 'roles'}:{REPO / 'roles'}", ANSIBLE_FORKS=20)


def playbook(path, *extra):
    cmd = ["ansible-playbook", "-i", str(WORK / "inventory.json"), str(path), *extra]
    return sh(cmd, env=ansible_env())


def marks(count):
    result = {}
    for name in names(count)[1:]:
        out = sh(["podman", "exec", name, "sh", "-c", "cat /run/bench-down /run/bench-up"]).stdout.split()
        result[name] = (float(out[0]), float(out[1]))
    return result


def measure(label, serial, count):
    start = time.monotonic()
    playbook(WORK / "bench.yml", "-e", f"bench_serial={serial}", "-e", f"patching_run_id=bench-{label}")
    wall = time.monotonic() - start
    spans = marks(count)
    events = sorted([(down, 1) for down, _up in spans.values()] + [(up, -1) for _down, up in spans.values()])
    current = peak = 0
    for _moment, step in events:
        current += step
        peak = max(peak, current)
    all_down = max(0.0, min(up for _d, up in spans.values()) - max(down for down, _u in spans.values()))
    return {
        "serial": serial,
        "wall_seconds": round(wall, 2),
        "out_of_service_seconds": {host: round(up - down, 2) for host, (down, up) in sorted(spans.items())},
        "max_out_of_service_seconds": round(max(up - down for down, up in spans.values()), 2),
        "max_hosts_out_of_service_at_once": peak,
        "whole_tier_out_of_service_seconds": round(all_down, 2) if count > 1 else None,
    }


def markdown(data):
    rows = []
    for label in ("rolling", "naive"):
        r = data["runs"][label]
        rows.append(
            f"| {label} (serial {r['serial']}) | {r['wall_seconds']} | {r['max_out_of_service_seconds']} "
            f"| {r['max_hosts_out_of_service_at_once']} | {r['whole_tier_out_of_service_seconds']} |"
        )
    per_host = "\n".join(
        f"| {host} | {data['runs']['rolling']['out_of_service_seconds'][host]} "
        f"| {data['runs']['naive']['out_of_service_seconds'][host]} |"
        for host in sorted(data["runs"]["rolling"]["out_of_service_seconds"])
    )
    m = data["machine"]
    return f"""# 补丁滚动更新基准 / Patching benchmark: rolling vs all at once

Measured by `scripts/bench/patching.py` on {data["date"]} (issue 8). Numbers are produced by the
script; do not edit them by hand — rerun it.

- Size used: **{data["hosts"]} hosts** (+1 repository container), packages {", ".join(PACKAGES)} 1.0 → 1.1
  from the local apt repository of molecule/patching (`files/build_repo.py`).
- Full-size run (the lab's application tier is larger):
  `source scripts/lib.sh && python3 scripts/bench/patching.py --hosts 8`
- This run: `{data["command"]}`
- Machine: {m["nproc"]} CPUs, {m["ram_gib"]} GiB RAM, load average at start {m["load_average_at_start"]}, kernel
  {m["kernel"]}; {m["ansible"]}; {m["podman"]}; image {m["image"]}. The machine was shared with other work.

Both runs use roles/patching unchanged (plan, gates, configuration backup, apply, needrestart/reboot
handling, record); only `serial` differs. Out of service = on the host, from the tier hook just before
the packages are installed (`patching_hooks_before_apply`, where Redis fails over and search stops
allocation) to the hook after installation and reboot/needrestart handling (`patching_hooks_after_apply`).
The rolling run came first; the hosts were then put back to 1.0 and the naive run followed.

| run | wall time (s) | longest out of service, one host (s) | most hosts out at once | whole tier out at once (s) |
|---|---|---|---|---|
{chr(10).join(rows)}

Per host, out of service (s):

| host | rolling | naive |
|---|---|---|
{per_host}

Reading: the naive run finishes sooner, but every host is out of service at the same moment (the whole
tier is down for the overlap); the rolling run takes longer in wall time and never has more than one
host out of service, so the tier keeps serving. In the containers no reboot is performed
(govops-demo-reboot asks for one; the role records it and skips it), so a real host's out-of-service
time is this plus its reboot.
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--hosts", type=int, default=3, help="number of hosts to patch (default 3)")
    parser.add_argument("--keep", action="store_true", help="leave the containers running")
    args = parser.parse_args()
    if "CONTAINERS_CONF" not in os.environ:
        sys.exit("error: CONTAINERS_CONF is not set. Fix: `source scripts/lib.sh` first.")
    data = {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": "python3 scripts/bench/patching.py " + " ".join(sys.argv[1:]),
        "hosts": args.hosts,
        "machine": benchlib.machine(),
    }
    write_files(args.hosts)
    try:
        create(args.hosts)
        time.sleep(3)  # systemd up
        start = time.monotonic()
        playbook(REPO / "molecule" / "patching" / "prepare.yml")
        data["prepare_seconds"] = round(time.monotonic() - start, 2)
        rolling = measure("rolling", 1, args.hosts)
        playbook(WORK / "reset.yml")
        naive = measure("naive", "100%", args.hosts)
        data["runs"] = {"rolling": rolling, "naive": naive}
    finally:
        if not args.keep:
            remove(args.hosts)
    out = REPO / "docs" / "benchmarks"
    out.mkdir(parents=True, exist_ok=True)
    (out / "patching.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "patching.md").write_text(markdown(data), encoding="utf-8")
    print(json.dumps(data["runs"], indent=2))


if __name__ == "__main__":
    main()
