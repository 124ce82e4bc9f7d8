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
    python3 scripts/bench/patching.py --report   # the page again from patching.json, nothing run
Containers are removed at the end (--keep leaves them). The page is
markdown(data) of the JSON alone: every sentence that states a result is
computed from the figures of the run.
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
from benchlib import IMAGE, REPO, machine_line, sh, write_figures

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
                "patching_test_group": "patching_hosts",
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


def reboots(label):
    """Per host, what the role's own record of this run says about reboots."""
    records = sorted((WORK / "evidence" / "patching" / "runs" / f"bench-{label}").glob("*.json"))
    if not records:
        sys.exit(f"error: the {label} run wrote no patching record under {WORK / 'evidence'}")
    result = {}
    for path in records:
        record = json.loads(path.read_text(encoding="utf-8"))
        result[record["host"]] = {
            "verdict": record["verdict"],
            "reboot_required": str(record["reboot_required"]).lower() == "true",
            "rebooted": str(record["rebooted"]).lower() == "true",
        }
    return result


def measure(label, serial, count):
    start = time.monotonic()
    playbook(WORK / "bench.yml", "-e", f"bench_serial={serial}", "-e", f"patching_run_id=bench-{label}")
    wall = time.monotonic() - start
    records = reboots(label)
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
        "marks": {host: [down, up] for host, (down, up) in sorted(spans.items())},
        "out_of_service_seconds": {host: round(up - down, 2) for host, (down, up) in sorted(spans.items())},
        "max_out_of_service_seconds": round(max(up - down for down, up in spans.values()), 2),
        "max_hosts_out_of_service_at_once": peak,
        "whole_tier_out_of_service_seconds": round(all_down, 2) if count > 1 else None,
        "records": records,
    }


def reading(data):
    """The page's conclusions, each computed from the runs (zh-CN, English)."""
    runs, hosts = data["runs"], data["hosts"]
    rolling, naive = runs["rolling"], runs["naive"]
    zh, en = [], []
    if naive["wall_seconds"] == rolling["wall_seconds"]:
        zh.append(f"墙钟时间：两次运行相同，均为 {naive['wall_seconds']} s。")
        en.append(f"Wall time: both runs took {naive['wall_seconds']} s.")
    else:
        faster, slower = (
            ("naive", "rolling") if naive["wall_seconds"] < rolling["wall_seconds"] else ("rolling", "naive")
        )
        zh.append(
            f"墙钟时间：{faster} 运行 {runs[faster]['wall_seconds']} s，短于 {slower} 的 "
            f"{runs[slower]['wall_seconds']} s。"
        )
        en.append(
            f"Wall time: the {faster} run took {runs[faster]['wall_seconds']} s, less than the {slower} run's "
            f"{runs[slower]['wall_seconds']} s."
        )
    for label in ("rolling", "naive"):
        r = runs[label]
        peak, whole = r["max_hosts_out_of_service_at_once"], r["whole_tier_out_of_service_seconds"]
        if hosts == 1:
            zh.append(f"{label}：只有 1 台主机，它停止服务的 {r['max_out_of_service_seconds']} s 即整层停止服务。")
            en.append(
                f"{label}: one host only, so its {r['max_out_of_service_seconds']} s out of service "
                "is the whole tier's."
            )
        elif peak <= 1:
            zh.append(f"{label}：任何时刻最多 1 台主机停止服务，整层从未同时停止服务。")
            en.append(f"{label}: never more than one host out of service at a time; the tier was never all out.")
        elif whole:
            zh.append(f"{label}：最多 {peak} 台（共 {hosts} 台）同时停止服务，整层同时停止服务 {whole} s。")
            en.append(
                f"{label}: up to {peak} of {hosts} hosts out of service at once; the whole tier was out for {whole} s."
            )
        else:
            zh.append(f"{label}：最多 {peak} 台（共 {hosts} 台）同时停止服务，整层未同时停止服务。")
            en.append(f"{label}: up to {peak} of {hosts} hosts out of service at once; the tier was never all out.")
    recorded = [h for r in runs.values() for h in r.get("records", {}).values()]
    if recorded:
        asked = sum(1 for h in recorded if h["reboot_required"])
        done = sum(1 for h in recorded if h["rebooted"])
        zh.append(f"角色记录：{len(recorded)} 次主机补丁中 {asked} 次需要重启，实际重启 {done} 次。")
        en.append(f"The role's records: {asked} of {len(recorded)} host patches asked for a reboot, {done} rebooted.")
        if asked > done:
            zh.append("未执行的重启不在上面的停止服务时间内；真实主机还要加上重启时间。")
            en.append("A reboot not done is not in the out-of-service times above; a real host adds its reboot.")
    return " ".join(zh), " ".join(en)


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
    order = data.get("order", list(data["runs"]))
    zh, en = reading(data)
    return f"""# 补丁滚动更新基准 / Patching benchmark: rolling vs all at once

Generated by `scripts/bench/patching.py` from `patching.json` (`--report` rebuilds it without running
anything); do not edit by hand. Measured on {data["date"]} (issue 8).

- Size used: **{data["hosts"]} hosts** (+1 repository container), packages {", ".join(PACKAGES)} 1.0 → 1.1
  from the local apt repository of molecule/patching (`files/build_repo.py`).
- This run: `{data["command"]}`
- {machine_line(m, data.get("load_average_at_end"))}
- Versions: kernel {m["kernel"]}; {m["ansible"]}; {m["podman"]}; image {m["image"]}.

Both runs use roles/patching unchanged (plan, gates, configuration backup, apply, needrestart/reboot
handling, record); only `serial` differs. Out of service = on the host, from the tier hook just before
the packages are installed (`patching_hooks_before_apply`) to the hook after installation and
reboot/needrestart handling (`patching_hooks_after_apply`). Order of the runs: {" then ".join(order)}; the
hosts were put back to 1.0 in between.

| run | wall time (s) | longest out of service, one host (s) | most hosts out at once | whole tier out at once (s) |
|---|---|---|---|---|
{chr(10).join(rows)}

Per host, out of service (s):

| host | rolling | naive |
|---|---|---|
{per_host}

**结论（由上表计算）：** {zh}

**Reading (computed from the table):** {en}
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--hosts", type=int, default=3, help="number of hosts to patch (default 3)")
    parser.add_argument("--keep", action="store_true", help="leave the containers running")
    parser.add_argument("--report", action="store_true", help="rebuild the page from patching.json, run nothing")
    args = parser.parse_args()
    if args.report:
        benchlib.report("patching", markdown)
        return
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
        data["order"] = ["rolling", "naive"]
        data["runs"] = {"rolling": rolling, "naive": naive}
        data["load_average_at_end"] = benchlib.load_now()
    finally:
        if not args.keep:
            remove(args.hosts)
    write_figures("patching", data, markdown(data))


if __name__ == "__main__":
    main()
