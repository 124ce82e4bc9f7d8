#!/usr/bin/env python3
"""Benchmark (issue 3): roles/hardening vs devsec.hardening.os_hardening, judged by lynis.

Each run (--runs, at least 3) creates three fresh containers of its own from
the lab image (bench-harden-baseline, bench-harden-govops, bench-harden-devsec,
podman network bench-hardening; systemd as PID 1) and installs lynis (Debian's
package) in each; that install is not part of any timing. Then, in that run:

  1. lynis before: `lynis audit system --quick --no-colors` on all three; the
     figures come from /var/log/lynis-report.dat (hardening_index=, and the
     number of warning[]= and suggestion[]= lines).
  2. converge, one after the other, wall seconds of ansible-playbook:
       govops  roles/common then roles/hardening, with the variables of
               molecule/hardening (an operations account opsadmin with a
               throwaway key, the 三权分立 accounts, remote log host 127.0.0.1;
               the session timeout is left at its default);
       devsec  devsec.hardening os_hardening then ssh_hardening, their defaults,
               plus only what a container needs (see DEVSEC_CONTAINER_VARS).
     The order alternates from run to run (govops first in runs 1, 3, ...,
     devsec first in runs 2, 4, ...) so that a change of the machine's load
     hits both sides alike; the JSON records the order of every run.
  3. the same playbooks again, in the same order: idempotent re-run time and
     the changed count of its PLAY RECAP (0 means idempotent).
  4. lynis after on all three (baseline is untouched: it shows lynis' own noise).
  5. the containers are removed.

The page reports min / median / max over the runs, the lynis findings that
differ between govops and devsec, and verdicts computed from the runs; a timed
series whose runs disagree by more than 3x is not published.

dev-sec's code is never copied into the repository: --devsec is an unpacked
collection (the directory holding galaxy.yml and roles/os_hardening) or a git
directory of github.com/dev-sec/ansible-collection-hardening, which is exported
into .cache/bench/hardening/ (git-ignored).

Writes docs/benchmarks/hardening.md and .json. Run from the repository root
after `source scripts/lib.sh`:
    python3 scripts/bench/hardening.py --devsec /path/to/ansible-collection-hardening [--runs 3]
    python3 scripts/bench/hardening.py --report   # the page again from hardening.json, nothing run
Containers are removed at the end of every run (--keep leaves the last run's).
Logs of every ansible-playbook run and the lynis reports stay in
.cache/bench/hardening/run/.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import benchlib
from benchlib import IMAGE, REPO, machine_line, publishable, sh, spread, write_figures

WORK = REPO / ".cache" / "bench" / "hardening"
RUN = WORK / "run"
NETWORK = "bench-hardening"
PREFIX = "bench-harden"
TARGETS = ("baseline", "govops", "devsec")
LYNIS = ["lynis", "audit", "system", "--quick", "--no-colors"]
LYNIS_REPORT = "/var/log/lynis-report.dat"
MIN_RUNS = 3

# What devsec's roles need to run in an unprivileged podman container, nothing more.
DEVSEC_CONTAINER_VARS = {
    # /proc/sys is read-only in the container: sysctl -w fails. dev-sec's own
    # container guard (virtualization_type docker/lxc/openvz) does not know podman.
    "os_sysctl_enabled": False,
    # dev-sec's handlers skip restarting auditd (which cannot run in a container)
    # only under its own Molecule docker driver; this is that guard. auditd is
    # still installed and configured, as roles/hardening does in a container.
    "molecule_yml": {"driver": {"name": "docker"}},
    # Remounting /dev, /dev/shm and /run needs CAP_SYS_ADMIN: the "Remount filesystems"
    # handler fails in a container. Their fstab lines are all these switches add.
    "os_mnt_dev_enabled": False,
    "os_mnt_dev_shm_enabled": False,
    "os_mnt_run_enabled": False,
}
# /proc cannot be remounted with hidepid in a container (no switch for that task):
# its fstab line is written beforehand, untimed, exactly as os_hardening writes it,
# so the task finds it in place and does not remount.
DEVSEC_PREPARE = (
    "grep -q '^proc[[:space:]]\\+/proc[[:space:]]' /etc/fstab "
    "|| echo 'proc /proc proc rw,nosuid,nodev,noexec,relatime,hidepid=2 0 0' >> /etc/fstab"
)

GOVOPS_PLAY = """\
---
- name: Bench | roles/common then roles/hardening (as molecule/hardening)
  hosts: bench_govops
  become: true
  roles:
    - role: common
    - role: hardening
"""
DEVSEC_PLAY = """\
---
- name: Bench | devsec.hardening os_hardening and ssh_hardening (defaults)
  hosts: bench_devsec
  become: true
  roles:
    - role: devsec.hardening.os_hardening
    - role: devsec.hardening.ssh_hardening
"""


def name(target):
    return f"{PREFIX}-{target}"


def devsec_collection(arg):
    """The directory of the devsec.hardening collection, exporting it from git if needed."""
    fix = (
        "Fix: pass --devsec with an unpacked devsec.hardening collection (the directory holding "
        "roles/os_hardening) or a git directory of github.com/dev-sec/ansible-collection-hardening."
    )
    if not arg:
        sys.exit(f"error: --devsec is missing. {fix}")
    path = Path(arg).expanduser().resolve()
    if (path / "roles" / "os_hardening" / "tasks" / "main.yml").is_file():
        return path
    if not path.exists():
        sys.exit(f"error: --devsec {path} does not exist. {fix}")
    probe = subprocess.run(  # noqa: S603
        ["git", "--git-dir", str(path), "rev-parse", "HEAD"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        sys.exit(f"error: --devsec {path} is neither a collection directory nor a git directory. {fix}")
    commit = probe.stdout.strip()
    dest = WORK / f"devsec-{commit[:12]}"
    if not (dest / "roles" / "os_hardening" / "tasks" / "main.yml").is_file():
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        archive = subprocess.run(["git", "--git-dir", str(path), "archive", commit], capture_output=True, check=False)  # noqa: S603,S607
        untar = subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, capture_output=True, check=False)  # noqa: S603,S607
        if archive.returncode != 0 or untar.returncode != 0:
            sys.exit(f"error: exporting {path} at {commit[:12]} into {dest} failed. {fix}")
    if not (dest / "roles" / "os_hardening" / "tasks" / "main.yml").is_file():
        sys.exit(f"error: {path} at {commit[:12]} has no roles/os_hardening. {fix}")
    return dest


def collection_version(path):
    galaxy = path / "galaxy.yml"
    if galaxy.is_file():
        match = re.search(r"^version:\s*['\"]?([^'\"\s]+)", galaxy.read_text(encoding="utf-8"), re.M)
        if match:
            return match.group(1)
    return "unknown"


def link_collection(path):
    """ANSIBLE_COLLECTIONS_PATH entry under which `path` is devsec.hardening."""
    if path.parent.name == "devsec" and path.parent.parent.name == "ansible_collections":
        return path.parent.parent.parent
    root = RUN / "collections"
    link = root / "ansible_collections" / "devsec" / "hardening"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(path, target_is_directory=True)
    return root


def create():
    remove()
    sh(["podman", "network", "create", NETWORK])
    for target in TARGETS:
        sh(
            [
                *("podman", "run", "-d", "--name", name(target), "--hostname", name(target)),
                *("--network", NETWORK, "--no-hosts", "--systemd", "always", IMAGE, "/sbin/init"),
            ]
        )


def remove():
    for target in TARGETS:
        sh(["podman", "rm", "-f", "-t", "0", name(target)], check=False)
    sh(["podman", "network", "rm", "-f", NETWORK], check=False)


def install_lynis(target):
    script = (
        "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq "
        "&& apt-get install -y -qq --no-install-recommends lynis >/dev/null && lynis --version"
    )
    return sh(["podman", "exec", name(target), "sh", "-c", script]).stdout.strip().splitlines()[-1]


def write_files():
    if RUN.exists():
        shutil.rmtree(RUN)
    RUN.mkdir(parents=True)
    key = RUN / "opsadmin_ed25519"
    sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bench-hardening", "-f", str(key)])
    pubkey = key.with_suffix(".pub").read_text(encoding="utf-8").strip()
    (RUN / "govops.yml").write_text(GOVOPS_PLAY, encoding="utf-8")
    (RUN / "devsec.yml").write_text(DEVSEC_PLAY, encoding="utf-8")
    govops_vars = {
        # As molecule/hardening/molecule.yml, with the session timeout at its default.
        "platform_address": "{{ ansible_facts['default_ipv4']['address'] }}",
        "common_hosts_group": "bench_govops",
        "common_ops_users": [
            {
                "name": "opsadmin",
                "comment": "运维管理员 / operations administrator",
                "ssh_public_keys": [pubkey],
                "sudo_commands": ["ALL"],
            }
        ],
        "hardening_sod_accounts": [
            {"name": "sysadmin1", "group": "sysadm", "comment": "系统管理员", "ssh_public_keys": [pubkey]},
            {"name": "secadmin1", "group": "secadm", "comment": "安全管理员", "ssh_public_keys": [pubkey]},
            {"name": "audadmin1", "group": "audadm", "comment": "审计管理员", "ssh_public_keys": [pubkey]},
        ],
        "hardening_sod_full_sudo_accounts": ["opsadmin"],
        "hardening_ssh_allow_groups": ["ops", "sysadm", "secadm", "audadm"],
        "hardening_log_remote_host": "127.0.0.1",
        "hardening_log_remote_port": 10514,
    }
    inventory = {
        "all": {
            "vars": {"ansible_connection": "containers.podman.podman", "platform_evidence_dir": str(RUN / "evidence")},
            "children": {
                "bench_baseline": {"hosts": {name("baseline"): None}},
                "bench_govops": {"hosts": {name("govops"): None}, "vars": govops_vars},
                "bench_devsec": {"hosts": {name("devsec"): None}, "vars": DEVSEC_CONTAINER_VARS},
            },
        }
    }
    (RUN / "inventory.json").write_text(json.dumps(inventory, indent=1, ensure_ascii=False), encoding="utf-8")


def ansible_env(collections_root=None):
    extra = {"ANSIBLE_GATHERING": "implicit", "ANSIBLE_NOCOLOR": "1"}
    if collections_root is not None:
        extra["ANSIBLE_COLLECTIONS_PATH"] = f"{collections_root}:{Path.home() / '.ansible' / 'collections'}"
    return benchlib.ansible_env(**extra)


def converge(target, attempt, collections_root, run):
    """Wall time and PLAY RECAP of one ansible-playbook run; a failed run is recorded, not fatal."""
    cmd = ["ansible-playbook", "-i", str(RUN / "inventory.json"), str(RUN / f"{target}.yml")]
    log = RUN / f"{target}-{attempt}-{run}.log"
    load = round(os.getloadavg()[0], 1)
    start = time.monotonic()
    result = sh(cmd, env=ansible_env(collections_root), check=False, log=log)
    wall = time.monotonic() - start
    recap = re.findall(r"^\S+\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", result.stdout, re.M)
    run = {
        "seconds": round(wall, 1),
        "ok": sum(int(r[0]) for r in recap),
        "changed": sum(int(r[1]) for r in recap),
        "failed": sum(int(r[2]) + int(r[3]) for r in recap),
        "rc": result.returncode,
        "load_average_at_start": load,
    }
    if result.returncode != 0:
        task, failed = "", set()
        for line in result.stdout.splitlines():
            if line.startswith("TASK ["):
                task = line[6 : line.rfind("]")]
            elif line.startswith(("fatal: ", "failed: ")):
                failed.add(task)
        run["failed_tasks"] = sorted(failed)
        print(f"warning: {target} {attempt} failed (rc {result.returncode}); log: {log}", file=sys.stderr)
        print(result.stdout[-2500:], file=sys.stderr)
    return run


def lynis(target, phase, run):
    # lynis' exit code is not a verdict; the report file is what counts.
    sh(["podman", "exec", name(target), *LYNIS], check=False, log=RUN / f"lynis-{target}-{phase}-{run}.txt")
    report = sh(["podman", "exec", name(target), "cat", LYNIS_REPORT]).stdout
    (RUN / f"lynis-{target}-{phase}-{run}.dat").write_text(report, encoding="utf-8")
    parsed = parse_report(report)
    if phase == "before":
        # Only the counts before: the findings that matter are those after.
        parsed.pop("findings")
    return parsed


def parse_report(report):
    """Index and findings of a lynis-report.dat: `warning[]=ID|text|details|solution|`."""
    index = re.search(r"^hardening_index=(\d+)", report, re.M)
    findings = {}
    for kind in ("warning", "suggestion"):
        items = []
        for line in re.findall(rf"^{kind}\[\]=(.*)$", report, re.M):
            fields = [*line.split("|"), "", ""]
            text = fields[1] if fields[2] in ("", "-") else f"{fields[1]} ({fields[2]})"
            items.append({"id": fields[0], "text": text})
        findings[kind] = items
    return {
        "hardening_index": int(index.group(1)) if index else None,
        "warnings": len(findings["warning"]),
        "suggestions": len(findings["suggestion"]),
        "findings": findings,
    }


def lynis_all(phase, run):
    with ThreadPoolExecutor(max_workers=len(TARGETS)) as pool:
        results = dict(zip(TARGETS, pool.map(lambda t: lynis(t, phase, run), TARGETS), strict=True))
    return results


def differences(after):
    def keyed(target):
        found = {}
        for kind in ("warning", "suggestion"):
            for item in after[target]["findings"][kind]:
                found[(kind, item["id"], item["text"])] = True
        return found

    govops, devsec = keyed("govops"), keyed("devsec")

    def listed(keys):
        return [{"kind": k, "id": i, "text": t} for k, i, t in sorted(keys, key=lambda x: (x[1], x[0], x[2]))]

    return {
        "govops_only": listed(set(govops) - set(devsec)),
        "devsec_only": listed(set(devsec) - set(govops)),
    }


def machine(collection, lynis_version):
    return benchlib.machine(lynis=lynis_version, devsec_hardening=collection_version(collection))


def runs_of(data):
    """The runs of the JSON, in the order they ran.

    A JSON of the earlier script (one run, figures at the top level) is one
    run; its order is the order the script wrote the converges in.
    """
    if "runs" in data:
        return data["runs"]
    return [
        {
            "order": list(data["converge"]),
            "converge": data["converge"],
            "rerun": data["rerun"],
            "lynis_before": data["lynis_before"],
            "lynis_after": data["lynis_after"],
        }
    ]


def plural(n, word):
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def stats(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"min": min(values), "median": round(statistics.median(values), 1), "max": max(values)}


def triple(values):
    """ "min / median / max" (one value when they are all the same)."""
    s = stats(values)
    if s is None:
        return "—"
    if s["min"] == s["max"]:
        return f"{s['min']}"
    return f"{s['min']} / {s['median']} / {s['max']}"


def timed(runs, phase, target):
    """The cell of a timed series: min / median / max, or why it is not published."""
    items = [r[phase][target] for r in runs if target in r[phase]]
    failed = [i for i in items if i["rc"]]
    if failed:
        tasks = sorted({t for i in failed for t in i.get("failed_tasks", [])})
        return f"FAILED in {len(failed)} of {len(items)} runs ({', '.join(tasks)})"
    values = [i["seconds"] for i in items]
    if not publishable(values):
        return f"not published: runs {spread(values)}x apart, re-run needed"
    return triple(values)


def verdicts(runs):
    """The two goals of issue 3, judged on every run (zh-CN, English)."""
    n = len(runs)
    gi = [r["lynis_after"]["govops"]["hardening_index"] for r in runs]
    di = [r["lynis_after"]["devsec"]["hardening_index"] for r in runs]
    higher = sum(1 for g, d in zip(gi, di, strict=True) if g is not None and d is not None and g > d)
    zh, en = [], []
    every_zh = "在这 1 次运行中" if n == 1 else f"{n} 次运行中均"
    every_en = "in the one run" if n == 1 else f"in all {n} runs"
    if higher == n:
        zh.append(f"lynis 加固指数：{every_zh} govops（{triple(gi)}）高于 dev-sec（{triple(di)}），达到目标。")
        en.append(
            f"lynis hardening index: govops ({triple(gi)}) is higher than dev-sec ({triple(di)}) {every_en}: goal met."
        )
    else:
        zh.append(
            f"lynis 加固指数：govops {triple(gi)}，dev-sec {triple(di)}；{n} 次运行中只有 {higher} 次 govops 更高，"
            "**未达到**目标。"
        )
        en.append(
            f"lynis hardening index: govops {triple(gi)}, dev-sec {triple(di)}; govops is higher in only "
            f"{higher} of {plural(n, 'run')}: the goal is **not** met."
        )
    ok = [r for r in runs if not r["converge"]["govops"]["rc"] and not r["converge"]["devsec"]["rc"]]
    gc = [r["converge"]["govops"]["seconds"] for r in ok]
    dc = [r["converge"]["devsec"]["seconds"] for r in ok]
    if len(ok) < n:
        zh.append(f"收敛时间：{n - len(ok)} 次运行中有收敛失败，不作结论。")
        en.append(f"Converge time: a converge failed in {n - len(ok)} of {plural(n, 'run')}: no verdict.")
    elif n < MIN_RUNS:
        zh.append(
            f"收敛时间：govops {triple(gc)} s，dev-sec {triple(dc)} s；每侧只有 {n} 次运行（少于 {MIN_RUNS} 次），"
            "**不作结论**，需要重新运行。"
        )
        en.append(
            f"Converge time: govops {triple(gc)} s, dev-sec {triple(dc)} s; only {plural(n, 'run')} per side "
            f"(fewer than {MIN_RUNS}): **no verdict**, re-run needed."
        )
    elif not publishable(gc) or not publishable(dc):
        zh.append("收敛时间：重复运行相差超过 3 倍，不发布，需要重新运行。")
        en.append("Converge time: the runs disagree by more than 3x: not published, re-run needed.")
    else:
        g, d = statistics.median(gc), statistics.median(dc)
        faster = sum(1 for a, b in zip(gc, dc, strict=True) if a <= b)
        if g <= d:
            zh.append(
                f"收敛时间中位数：govops {g:.1f} s，不多于 dev-sec 的 {d:.1f} s"
                f"（{faster}/{n} 次运行中不多于），达到目标。"
            )
            en.append(
                f"Median converge time: govops {g:.1f} s, no more than dev-sec's {d:.1f} s (no more in {faster} of "
                f"{n} runs): goal met."
            )
        else:
            zh.append(
                f"收敛时间中位数：govops {g:.1f} s，**多于** dev-sec 的 {d:.1f} s，未达到目标（govops 的时间包含 "
                "roles/common：安装软件包、chrony、rsyslog、运维账号；dev-sec 不做这些）。"
            )
            en.append(
                f"Median converge time: govops {g:.1f} s is **more** than dev-sec's {d:.1f} s: that goal is not met "
                "(the govops play includes roles/common — packages, chrony, rsyslog, the operations account — "
                "which dev-sec's does not)."
            )
    return " ".join(zh), " ".join(en)


def differences_of(runs):
    """The findings that differ between govops and devsec after hardening: in every run, and in some runs only."""
    per_run = [differences(r["lynis_after"]) for r in runs]

    def keyed(items):
        return {(i["kind"], i["id"], i["text"]) for i in items}

    result = {}
    for side in ("govops_only", "devsec_only"):
        sets = [keyed(d[side]) for d in per_run]
        always = set.intersection(*sets)
        some = set.union(*sets) - always
        result[side] = (
            [{"kind": k, "id": i, "text": t} for k, i, t in sorted(always, key=lambda x: (x[1], x[0], x[2]))],
            [{"kind": k, "id": i, "text": t} for k, i, t in sorted(some, key=lambda x: (x[1], x[0], x[2]))],
        )
    return result


def order_text(runs):
    """The order the playbooks ran in, run by run (zh-CN, English); re-runs named when their order differed."""

    def one(r):
        text = " → ".join(r["order"])
        rerun = list(r["rerun"])
        return text if rerun == r["order"] else f"{text} (re-runs: {' → '.join(rerun)})"

    orders = [one(r) for r in runs]
    if len(set(orders)) == 1:
        if len(runs) == 1:
            return orders[0], orders[0]
        return f"{orders[0]}（每次运行）", f"{orders[0]} in every run"
    zh = "；".join(f"第 {i + 1} 次：{o}" for i, o in enumerate(orders))
    en = "; ".join(f"run {i + 1}: {o}" for i, o in enumerate(orders))
    return zh, en


def load_text(runs, machine_info):
    """What the 1-minute load at the start of every timed playbook run shows (zh-CN, English)."""
    loads = [r[phase][t]["load_average_at_start"] for r in runs for phase in ("converge", "rerun") for t in r[phase]]
    cores = machine_info["nproc"]
    busy = sum(1 for x in loads if x > cores)
    span = f"{min(loads)}–{max(loads)}" if min(loads) != max(loads) else f"{loads[0]}"
    zh = f"每次计时运行开始时的 1 分钟平均负载为 {span}（{cores} 个核），其中 {busy}/{len(loads)} 次高于核数。"
    en = (
        f"1-minute load average at the start of each timed playbook run: {span} on {cores} cores, above the "
        f"number of cores at {busy} of {len(loads)} starts."
    )
    return zh, en


def markdown(data):
    runs = runs_of(data)
    n = len(runs)
    m = data["machine"]
    first = runs[0]

    def row(label, get):
        return f"| {label} | " + " | ".join(str(get(t)) for t in TARGETS) + " |"

    def lynis_cell(phase, target, key):
        return triple([r[phase][target][key] for r in runs])

    rows = [
        row("lynis hardening index, before / 加固前指数", lambda t: lynis_cell("lynis_before", t, "hardening_index")),
        row(
            "lynis hardening index, after / 加固后指数",
            lambda t: f"**{lynis_cell('lynis_after', t, 'hardening_index')}**",
        ),
        row(
            "warnings before → after / 警告",
            lambda t: f"{lynis_cell('lynis_before', t, 'warnings')} → {lynis_cell('lynis_after', t, 'warnings')}",
        ),
        row(
            "suggestions before → after / 建议",
            lambda t: f"{lynis_cell('lynis_before', t, 'suggestions')} → {lynis_cell('lynis_after', t, 'suggestions')}",
        ),
        row("converge (s) / 收敛时间", lambda t: timed(runs, "converge", t) if t in first["converge"] else "—"),
        row("idempotent re-run (s) / 重复运行时间", lambda t: timed(runs, "rerun", t) if t in first["rerun"] else "—"),
        row(
            "re-run changed / 重复运行 changed",
            lambda t: triple([r["rerun"][t]["changed"] for r in runs]) if t in first["rerun"] else "—",
        ),
    ]

    def findings(items):
        if not items:
            return "- (none / 无)"
        return "\n".join(f"- `{i['id']}` ({i['kind']}): {i['text']}" for i in items)

    def finding_block(side):
        always, some = diff[side]
        text = findings(always)
        if n > 1:
            text = f"In all {n} runs / 每次运行均如此:\n\n{text}"
            if some:
                text += f"\n\nIn some runs only / 仅部分运行:\n\n{findings(some)}"
        return text

    diff = differences_of(runs)
    zh_verdict, en_verdict = verdicts(runs)
    zh_load, en_load = load_text(runs, m)
    devsec_vars = ", ".join(f"`{k}`" for k in DEVSEC_CONTAINER_VARS)
    zh_order, order = order_text(runs)
    if n < MIN_RUNS:
        few = (
            f"\n**本 JSON 每侧只有 {n} 次运行，少于脚本现在要求的 {MIN_RUNS} 次：上表没有最小/中位/最大值，"
            f"时间结论待重新运行。/ This JSON holds {plural(n, 'run')} per side, fewer than the {MIN_RUNS} the script "
            "now makes: the table has no min / median / max and the time verdict waits for a re-run "
            "(`python3 scripts/bench/hardening.py --devsec ...`).**\n"
        )
        cells = "one run"
    else:
        few = ""
        cells = f"min / median / max over {n} runs (one value when all runs agree)"
    return f"""# 等保加固基准 / Hardening benchmark: roles/hardening vs devsec.hardening, judged by lynis

Generated by `scripts/bench/hardening.py` from `hardening.json` (`--report` rebuilds it without running
anything); do not edit by hand. Measured on {data["date"]} (issue 3).
{few}
## 方法

每次运行用三个全新的容器（同一镜像 {m["image"]}，systemd 为 1 号进程）：`baseline`（不加固，用来看 lynis 自身的波动）、
`govops`（roles/common 再 roles/hardening，变量同 molecule/hardening：opsadmin 账号与一次性密钥、三权分立账号、
远程日志主机 127.0.0.1；会话超时用默认值）和 `devsec`（devsec.hardening {m["devsec_hardening"]} 的 os_hardening 与
ssh_hardening，全部默认值，只加容器必需的 {devsec_vars}：容器内 /proc/sys 只读，所以不设 sysctl；auditd 照常安装
和配置，但不重启——roles/hardening 在容器中也是如此；容器里不能重新挂载 /dev、/dev/shm、/run 和 /proc，所以关掉这三个
挂载项，并在收敛前（不计时）把 os_hardening 会写的 /proc hidepid=2 那一行预先写进 /etc/fstab）。
每个容器先用 apt 装 Debian 的 lynis（不计时），
运行 `{" ".join(LYNIS)}`，从 `{LYNIS_REPORT}` 读 `hardening_index`、`warning[]`、`suggestion[]`；然后依次收敛
（顺序：{zh_order}；计墙钟时间），再按同样顺序各运行一次看幂等（时间和 PLAY RECAP 的 changed 数），
最后三个容器再跑一次 lynis。
共 {n} 次运行。

## 结果 / Results

Cells: {cells}.

| | baseline | govops | devsec |
|---|---|---|---|
{chr(10).join(rows)}

**结论：** {zh_verdict}

**Verdict:** {en_verdict}

lynis 在 govops 与 devsec 上结论不同的条目（加固后）/ lynis findings that differ between govops and devsec (after):

Flagged on govops only (dev-sec's hardening satisfies lynis here) / 仅 govops 被提示:

{finding_block("govops_only")}

Flagged on devsec only (roles/hardening satisfies lynis here) / 仅 devsec 被提示:

{finding_block("devsec_only")}

## Method

Every run uses three fresh containers from the same image ({m["image"]}, systemd as PID 1): `baseline`
(never hardened; it shows lynis' own run-to-run noise), `govops` (roles/common then roles/hardening, with
the variables of molecule/hardening: the opsadmin account with a throwaway key, the separation-of-duties
accounts, remote log host 127.0.0.1; the session timeout at its default) and `devsec` (devsec.hardening
{m["devsec_hardening"]} os_hardening then ssh_hardening with their defaults, plus only what a container
needs: {devsec_vars} — /proc/sys is read-only in the container so no sysctl is set, and auditd is
installed and configured but not restarted, which is also what roles/hardening does in a container; /dev,
/dev/shm, /run and /proc cannot be remounted in a container, so those three mount switches are off and the
/proc `hidepid=2` fstab line that os_hardening writes is put in place before its converge, untimed). lynis
(Debian's package) is installed in each container first, not timed. `{" ".join(LYNIS)}` runs before and
after on all three; the figures are `hardening_index` and the number of `warning[]` / `suggestion[]` lines
of `{LYNIS_REPORT}`. Converge times are the wall time of `ansible-playbook` over the podman connection, one
playbook after the other, in this order: {order}; then each playbook again in the same order (idempotent
re-run: time, and `changed` summed from the PLAY RECAP). {plural(n, "run")}.

Limits: a container is not a host. Kernel settings (sysctl), auditd at runtime, mount options of real
file systems, the boot loader and kernel modules are the host's, the same for all three, so lynis scores
those the same whatever the role does; this benchmark does not compare the roles on those points.
Timings depend on the load of the machine: compare the two columns of one page, not pages of different days.

- This run: `{data["command"]}`
- {machine_line(m)}
- {zh_load} {en_load}
- Versions: kernel {m["kernel"]}; {m["ansible"]}; {m["podman"]}; lynis {m["lynis"]}.

## 重新运行 / How to re-run

```sh
source scripts/lib.sh
git clone https://github.com/dev-sec/ansible-collection-hardening /tmp/devsec   # or any unpacked copy
python3 scripts/bench/hardening.py --devsec /tmp/devsec --runs {MIN_RUNS}   # a git directory is exported into .cache/
```

dev-sec's code is never copied into this repository. Logs of each ansible-playbook run and the full lynis
reports stay in `.cache/bench/hardening/run/`; `--keep` leaves the last run's containers for a look.
"""


def one_run(index, collections_root, collection, data):
    """Fresh containers, lynis before, converges in this run's order, re-runs, lynis after; the figures."""
    order = ["govops", "devsec"] if index % 2 == 0 else ["devsec", "govops"]
    print(f"==> run {index + 1}: fresh containers, order {' then '.join(order)}", flush=True)
    create()
    time.sleep(3)  # systemd up
    with ThreadPoolExecutor(max_workers=len(TARGETS)) as pool:
        versions = list(pool.map(install_lynis, TARGETS))
    if "machine" not in data:
        data["machine"] = machine(collection, versions[0])
    run = {"order": order, "lynis_before": lynis_all("before", index)}
    sh(["podman", "exec", name("devsec"), "sh", "-c", DEVSEC_PREPARE])
    run["converge"], run["rerun"] = {}, {}
    for target in order:
        print(f"==> run {index + 1}: converge {target}", flush=True)
        run["converge"][target] = converge(target, "converge", collections_root, index)
    for target in order:
        print(f"==> run {index + 1}: re-run {target}", flush=True)
        run["rerun"][target] = converge(target, "rerun", collections_root, index)
    print(f"==> run {index + 1}: lynis after", flush=True)
    run["lynis_after"] = lynis_all("after", index)
    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--devsec",
        help="unpacked devsec.hardening collection, or a git directory of dev-sec/ansible-collection-hardening",
    )
    parser.add_argument("--runs", type=int, default=MIN_RUNS, help=f"runs per side, at least {MIN_RUNS} (default)")
    parser.add_argument("--keep", action="store_true", help="leave the last run's containers running")
    parser.add_argument("--report", action="store_true", help="rebuild the page from hardening.json, run nothing")
    args = parser.parse_args()
    if args.report:
        benchlib.report("hardening", markdown)
        return
    if args.runs < MIN_RUNS:
        sys.exit(
            f"error: --runs {args.runs}: min / median / max need at least {MIN_RUNS} runs. Fix: --runs {MIN_RUNS}."
        )
    if "CONTAINERS_CONF" not in os.environ:
        sys.exit("error: CONTAINERS_CONF is not set. Fix: `source scripts/lib.sh` first.")
    collection = devsec_collection(args.devsec)
    if sh(["podman", "image", "exists", IMAGE], check=False).returncode != 0:
        sys.exit(f"error: image {IMAGE} is missing. Fix: build the lab images first (./govops lab).")
    write_files()
    collections_root = link_collection(collection)
    data = {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": "python3 scripts/bench/hardening.py " + " ".join(sys.argv[1:]),
    }
    runs = []
    try:
        for index in range(args.runs):
            runs.append(one_run(index, collections_root, collection, data))
            if index < args.runs - 1 or not args.keep:
                remove()
    finally:
        if not args.keep:
            remove()
    data["runs"] = runs
    write_figures("hardening", data, markdown(data))


if __name__ == "__main__":
    main()
