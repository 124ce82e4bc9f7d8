#!/usr/bin/env python3
"""Benchmark (issue 3): roles/hardening vs devsec.hardening.os_hardening, judged by lynis.

Creates three fresh containers of its own from the lab image (bench-harden-baseline,
bench-harden-govops, bench-harden-devsec, podman network bench-hardening; systemd
as PID 1) and installs lynis (Debian's package) in each; that install is not
part of any timing. Then:

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
  3. the same playbooks again: idempotent re-run time and the changed count of
     its PLAY RECAP (0 means idempotent).
  4. lynis after on all three (baseline is untouched: it shows lynis' own noise),
     and the lynis findings (test id and text) that differ between govops and devsec.

dev-sec's code is never copied into the repository: --devsec is an unpacked
collection (the directory holding galaxy.yml and roles/os_hardening) or a git
directory of github.com/dev-sec/ansible-collection-hardening, which is exported
into .cache/bench/hardening/ (git-ignored).

Writes docs/benchmarks/hardening.md and .json. Run from the repository root
after `source scripts/lib.sh`:
    python3 scripts/bench/hardening.py --devsec /path/to/ansible-collection-hardening
Containers are removed at the end (--keep leaves them). Logs of every
ansible-playbook run and the lynis reports stay in .cache/bench/hardening/run/.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import benchlib
from benchlib import IMAGE, REPO, sh

WORK = REPO / ".cache" / "bench" / "hardening"
RUN = WORK / "run"
NETWORK = "bench-hardening"
PREFIX = "bench-harden"
TARGETS = ("baseline", "govops", "devsec")
LYNIS = ["lynis", "audit", "system", "--quick", "--no-colors"]
LYNIS_REPORT = "/var/log/lynis-report.dat"

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


def converge(target, attempt, collections_root):
    """Wall time and PLAY RECAP of one ansible-playbook run; a failed run is recorded, not fatal."""
    cmd = ["ansible-playbook", "-i", str(RUN / "inventory.json"), str(RUN / f"{target}.yml")]
    log = RUN / f"{target}-{attempt}.log"
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


def lynis(target, phase):
    # lynis' exit code is not a verdict; the report file is what counts.
    sh(["podman", "exec", name(target), *LYNIS], check=False, log=RUN / f"lynis-{target}-{phase}.txt")
    report = sh(["podman", "exec", name(target), "cat", LYNIS_REPORT]).stdout
    (RUN / f"lynis-{target}-{phase}.dat").write_text(report, encoding="utf-8")
    return parse_report(report)


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


def lynis_all(phase):
    with ThreadPoolExecutor(max_workers=len(TARGETS)) as pool:
        results = dict(zip(TARGETS, pool.map(lambda t: lynis(t, phase), TARGETS), strict=True))
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


def verdict(data):
    after = data["lynis_after"]
    gi, di = after["govops"]["hardening_index"], after["devsec"]["hardening_index"]
    gc, dc = data["converge"]["govops"]["seconds"], data["converge"]["devsec"]["seconds"]
    index_ok = gi is not None and di is not None and gi > di
    time_ok = gc <= dc
    zh, en = [], []
    if index_ok:
        zh.append(f"lynis 加固指数：govops {gi} 高于 dev-sec {di}，达到目标。")
        en.append(f"lynis hardening index: govops {gi} is higher than dev-sec's {di}: goal met.")
    else:
        zh.append(f"lynis 加固指数：govops {gi}，dev-sec {di}，**未达到**“高于 dev-sec”的目标。")
        en.append(f"lynis hardening index: govops {gi}, dev-sec {di}: the goal (higher than dev-sec) is **not** met.")
    if time_ok:
        zh.append(f"收敛时间：govops {gc} s，不多于 dev-sec 的 {dc} s，达到目标。")
        en.append(f"Converge time: govops {gc} s, no more than dev-sec's {dc} s: goal met.")
    else:
        zh.append(
            f"收敛时间：govops {gc} s，**多于** dev-sec 的 {dc} s，未达到目标（govops 的时间包含 roles/common："
            "安装软件包、chrony、rsyslog、运维账号；dev-sec 不做这些）。"
        )
        en.append(
            f"Converge time: govops {gc} s is **more** than dev-sec's {dc} s: that goal is not met (the govops "
            "time includes roles/common — packages, chrony, rsyslog, the operations account — which dev-sec "
            "does not do)."
        )
    return " ".join(zh), " ".join(en)


def markdown(data):
    b, a = data["lynis_before"], data["lynis_after"]
    c, r = data["converge"], data["rerun"]

    def cell(runs, target, key="seconds"):
        if target not in runs:
            return "—"
        value = runs[target][key]
        return f"{value} (FAILED: {', '.join(runs[target].get('failed_tasks', []))})" if runs[target]["rc"] else value

    def row(label, get):
        return f"| {label} | " + " | ".join(str(get(t)) for t in TARGETS) + " |"

    rows = [
        row("lynis hardening index, before / 加固前指数", lambda t: b[t]["hardening_index"]),
        row("lynis hardening index, after / 加固后指数", lambda t: f"**{a[t]['hardening_index']}**"),
        row("warnings before → after / 警告", lambda t: f"{b[t]['warnings']} → {a[t]['warnings']}"),
        row("suggestions before → after / 建议", lambda t: f"{b[t]['suggestions']} → {a[t]['suggestions']}"),
        row("converge (s) / 收敛时间", lambda t: cell(c, t)),
        row("idempotent re-run (s) / 重复运行时间", lambda t: cell(r, t)),
        row("re-run changed / 重复运行 changed", lambda t: r[t]["changed"] if t in r else "—"),
    ]

    def findings(items):
        if not items:
            return "- (none / 无)"
        return "\n".join(f"- `{i['id']}` ({i['kind']}): {i['text']}" for i in items)

    diff = data["differences"]
    zh_verdict, en_verdict = verdict(data)
    m = data["machine"]
    notes = "".join(f"\n- {note}" for note in data.get("notes", []))
    notes = f"\nNotes on this run / 本次运行说明:\n{notes}\n" if notes else ""
    devsec_vars = ", ".join(f"`{k}`" for k in DEVSEC_CONTAINER_VARS)
    return f"""# 等保加固基准 / Hardening benchmark: roles/hardening vs devsec.hardening, judged by lynis

Measured by `scripts/bench/hardening.py` on {data["date"]} (issue 3). Numbers are produced by the
script; do not edit them by hand — rerun it.

## 方法

三个全新的容器（同一镜像 {m["image"]}，systemd 为 1 号进程）：`baseline`（不加固，用来看 lynis 自身的波动）、
`govops`（roles/common 再 roles/hardening，变量同 molecule/hardening：opsadmin 账号与一次性密钥、三权分立账号、
远程日志主机 127.0.0.1；会话超时用默认值）和 `devsec`（devsec.hardening {m["devsec_hardening"]} 的 os_hardening 与
ssh_hardening，全部默认值，只加容器必需的 {devsec_vars}：容器内 /proc/sys 只读，所以不设 sysctl；auditd 照常安装
和配置，但不重启——roles/hardening 在容器中也是如此；容器里不能重新挂载 /dev、/dev/shm、/run 和 /proc，所以关掉这三个
挂载项，并在收敛前（不计时）把 os_hardening 会写的 /proc hidepid=2 那一行预先写进 /etc/fstab）。
每个容器先用 apt 装 Debian 的 lynis（不计时），
运行 `{" ".join(LYNIS)}`，从 `{LYNIS_REPORT}` 读 `hardening_index`、`warning[]`、`suggestion[]`；然后依次收敛
govops、devsec（计墙钟时间），再各运行一次看幂等（时间和 PLAY RECAP 的 changed 数），最后三个容器再跑一次 lynis。

## 结果 / Results

| | baseline | govops | devsec |
|---|---|---|---|
{chr(10).join(rows)}

**结论：** {zh_verdict}

**Verdict:** {en_verdict}
{notes}
lynis 在 govops 与 devsec 上结论不同的条目（加固后）/ lynis findings that differ between govops and devsec (after):

Flagged on govops only (dev-sec's hardening satisfies lynis here) / 仅 govops 被提示:

{findings(diff["govops_only"])}

Flagged on devsec only (roles/hardening satisfies lynis here) / 仅 devsec 被提示:

{findings(diff["devsec_only"])}

## Method

Three fresh containers from the same image ({m["image"]}, systemd as PID 1): `baseline` (never hardened;
it shows lynis' own run-to-run noise), `govops` (roles/common then roles/hardening, with the variables of
molecule/hardening: the opsadmin account with a throwaway key, the separation-of-duties accounts, remote log
host 127.0.0.1; the session timeout at its default) and `devsec` (devsec.hardening {m["devsec_hardening"]}
os_hardening then ssh_hardening with their defaults, plus only what a container needs: {devsec_vars} —
/proc/sys is read-only in the container so no sysctl is set, and auditd is installed and configured but not
restarted, which is also what roles/hardening does in a container; /dev, /dev/shm, /run and /proc cannot be
remounted in a container, so those three mount switches are off and the /proc `hidepid=2` fstab line that
os_hardening writes is put in place before its converge, untimed). lynis (Debian's package) is installed in
each container first, not timed. `{" ".join(LYNIS)}` runs before and after on all three; the figures are
`hardening_index` and the number of `warning[]` / `suggestion[]` lines of `{LYNIS_REPORT}`. Converge times
are the wall time of `ansible-playbook` over the podman connection, govops then devsec one after the other;
then each playbook again (idempotent re-run: time, and `changed` summed from the PLAY RECAP).

Limits: a container is not a host. Kernel settings (sysctl), auditd at runtime, mount options of real
file systems, the boot loader and kernel modules are the host's, the same for all three, so lynis scores
those the same whatever the role does; a VM run would separate the two roles further on those points.
Timings depend on the load of the machine: compare the two columns of one run, not runs of different days.

- This run: `{data["command"]}`
- Machine: {m["nproc"]} CPUs, {m["ram_gib"]} GiB RAM, load average at start {m["load_average_at_start"]}, kernel
  {m["kernel"]}; {m["ansible"]}; {m["podman"]}; lynis {m["lynis"]}. {data.get("note") or SHARED}

## 重新运行 / How to re-run

```sh
source scripts/lib.sh
git clone https://github.com/dev-sec/ansible-collection-hardening /tmp/devsec   # or any unpacked copy
python3 scripts/bench/hardening.py --devsec /tmp/devsec      # a git directory is exported into .cache/bench/hardening/
```

dev-sec's code is never copied into this repository. Logs of each ansible-playbook run and the full lynis
reports stay in `.cache/bench/hardening/run/`; `--keep` leaves the containers for a look.
"""


def write_docs(data):
    out = REPO / "docs" / "benchmarks"
    out.mkdir(parents=True, exist_ok=True)
    (out / "hardening.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "hardening.md").write_text(markdown(data), encoding="utf-8")


SHARED = "The machine was shared with other work."


def render_only(note=None):
    path = REPO / "docs" / "benchmarks" / "hardening.json"
    if not path.is_file():
        sys.exit(f"error: {path} is missing. Fix: run the benchmark first (without --render-only).")
    data = json.loads(path.read_text(encoding="utf-8"))
    for phase in ("before", "after"):
        for target in TARGETS:
            report = RUN / f"lynis-{target}-{phase}.dat"
            if report.is_file():
                data[f"lynis_{phase}"][target] = parse_report(report.read_text(encoding="utf-8"))
    data["differences"] = differences(data["lynis_after"])
    if note:
        data["note"] = note
    write_docs(data)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--devsec",
        help="unpacked devsec.hardening collection, or a git directory of dev-sec/ansible-collection-hardening",
    )
    parser.add_argument("--keep", action="store_true", help="leave the containers running")
    parser.add_argument("--note", default="", help="the conditions of this run, in one sentence (default: shared)")
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="no containers: rewrite the md (and the findings of the json) from the last run's json and lynis reports",
    )
    args = parser.parse_args()
    if args.render_only:
        render_only(args.note)
        return
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
        "note": args.note,
    }
    try:
        create()
        time.sleep(3)  # systemd up
        with ThreadPoolExecutor(max_workers=len(TARGETS)) as pool:
            versions = list(pool.map(install_lynis, TARGETS))
        data["machine"] = machine(collection, versions[0])
        print("==> lynis before", flush=True)
        data["lynis_before"] = lynis_all("before")
        sh(["podman", "exec", name("devsec"), "sh", "-c", DEVSEC_PREPARE])
        data["converge"], data["rerun"] = {}, {}
        for target in ("devsec", "govops"):
            print(f"==> converge {target}", flush=True)
            data["converge"][target] = converge(target, "converge", collections_root)
        for target in ("devsec", "govops"):
            print(f"==> re-run {target}", flush=True)
            data["rerun"][target] = converge(target, "rerun", collections_root)
        print("==> lynis after", flush=True)
        data["lynis_after"] = lynis_all("after")
        data["differences"] = differences(data["lynis_after"])
    finally:
        if not args.keep:
            remove()
    write_docs(data)
    summary = {
        phase: {t: {k: v for k, v in data[phase][t].items() if k != "findings"} for t in TARGETS}
        for phase in ("lynis_before", "lynis_after")
    }
    print(json.dumps({**summary, "converge": data["converge"], "rerun": data["rerun"]}, indent=2))


if __name__ == "__main__":
    main()
