#!/usr/bin/env python3
"""How the control host should talk to lab and Molecule containers (issue 17).

One container from the bare lab image, roles/common converged onto it once,
then the same idempotent converge (every task runs, nothing changes: what the
idempotence and check steps and every lab re-run cost) repeated over three
connections, in rotation so that a change of the machine's load hits all
three alike:

- podman:     containers.podman.podman, the collection's plugin (podman exec,
              no pipelining: a temporary directory, a file copy and three
              execs per task);
- pipelined:  plugins/connection/podman_pipelined.py (the same, with Ansible
              pipelining: one exec per task);
- ssh:        OpenSSH to the container's address as production does it
              (ControlPersist and pipelining from ansible.cfg).

Figures per connection: wall time and the control host's CPU time (user + sys
of ansible-playbook and everything it starts) of each run, min/median/max.
A series whose slowest run is more than 3x its fastest is not published: the
script stops and asks for a re-run on a quieter machine.

Writes docs/benchmarks/connection.{json,md}.

Usage: scripts/bench/connection.py [--runs 3]   (as root, after ./govops setup)
       scripts/bench/connection.py --report     (the page again from connection.json)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import REPO, ansible_env, machine, sh, write_figures

CONTAINER = "govops-bench-connection"
NETWORK = "govops-bench-connection"
SUBNET = "10.89.97.0/24"
ADDRESS = "10.89.97.10"
SPREAD_LIMIT = 3.0
PLAYBOOK = """---
- name: Bench | roles/common over one connection
  hosts: all
  become: true
  roles:
    - role: common
"""
CONNECTIONS = {
    "podman": "ansible_connection=containers.podman.podman",
    "pipelined": "ansible_connection=podman_pipelined",
    "ssh": (
        f"ansible_connection=ssh ansible_host={ADDRESS} ansible_user=root "
        "ansible_ssh_private_key_file={key} "
        "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'"
    ),
}


def start_container(work: Path) -> None:
    sh(["podman", "rm", "--force", "--time", "2", CONTAINER], check=False)
    if sh(["podman", "network", "exists", NETWORK], check=False).returncode != 0:
        sh(["podman", "network", "create", "--subnet", SUBNET, NETWORK])
    sh(
        ["podman", "run", "--detach", "--name", CONTAINER, "--hostname", "bench1", "--network", NETWORK,
         "--ip", ADDRESS, "--no-hosts", "--systemd", "always", "localhost/govops-debian:trixie", "/sbin/init"]
    )  # fmt: skip
    for _ in range(60):
        state = sh(["podman", "exec", CONTAINER, "systemctl", "is-system-running"], check=False).stdout.strip()
        if state in ("running", "degraded"):
            break
        time.sleep(1)
    key = work / "root_ed25519"
    sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)])
    sh(["podman", "exec", CONTAINER, "install", "-d", "-m", "0700", "/root/.ssh"])
    sh(["podman", "cp", f"{key}.pub", f"{CONTAINER}:/root/.ssh/authorized_keys"])
    sh(["podman", "exec", CONTAINER, "chown", "root:root", "/root/.ssh/authorized_keys"])
    sh(["podman", "exec", CONTAINER, "systemctl", "is-active", "ssh"])


def inventory(work: Path, kind: str) -> Path:
    path = work / f"inventory-{kind}.ini"
    line = CONNECTIONS[kind].format(key=work / "root_ed25519")
    pubkey = (work / "root_ed25519.pub").read_text(encoding="utf-8").strip()
    users = f"[{{'name': 'opsadmin', 'ssh_public_keys': ['{pubkey}'], 'sudo_commands': ['ALL']}}]"
    path.write_text(
        f"[bench]\n{CONTAINER} {line} ansible_python_interpreter=/usr/bin/python3\n"
        "[bench:vars]\ncommon_hosts_group=bench\ncommon_ntp_servers=['ntp.ntsc.ac.cn']\n"
        f"common_ops_users={users}\nplatform_address={ADDRESS}\n",
        encoding="utf-8",
    )
    return path


def converge(work: Path, kind: str, env: dict) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = sh(["ansible-playbook", "-i", str(inventory(work, kind)), str(work / "site.yml")], env=env)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    recap = next(line for line in proc.stdout.splitlines() if line.startswith(CONTAINER))
    fields = dict(item.split("=") for item in recap.split(":", 1)[1].split())
    return {
        "wall_seconds": round(wall, 1),
        "control_cpu_seconds": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 1),
        "tasks": int(fields["ok"]) + int(fields["skipped"]),
        "changed": int(fields["changed"]),
    }


def configured_connections() -> dict:
    """The connection the lab inventory and the Molecule base configuration name, read from those files."""
    lab = (REPO / "inventories" / "lab" / "group_vars" / "all" / "connection.yml").read_text(encoding="utf-8")
    molecule = (REPO / ".config" / "molecule" / "config.yml").read_text(encoding="utf-8")
    found = {}
    for where, text in (("lab", lab), ("molecule", molecule)):
        match = re.search(r"^\s*ansible_connection:\s*(\S+)", text, re.M)
        found[where] = match.group(1) if match else None
    return found


def stats(values: list[float]) -> dict:
    return {"min": min(values), "median": round(statistics.median(values), 1), "max": max(values)}


def markdown(data: dict) -> str:
    series = data["series"]
    order = sorted(series, key=lambda k: series[k]["wall"]["median"])
    fastest, slowest = order[0], order[-1]
    tasks = data["tasks_per_run"]
    lines = [
        "# 连接方式基准 / How the control host talks to the containers",
        "",
        "Generated by `scripts/bench/connection.py` from `connection.json`; do not edit by hand.",
        "",
        f"Machine: {data['machine']['nproc']} cores, {data['machine']['ram_gib']} GiB, "
        f"load average {data['machine']['load_average_at_start'][0]} at the start and "
        f"{data['load_average_at_end'][0]} at the end; {data['machine']['ansible']}.",
        "",
        f"The work: an idempotent converge of `roles/common` ({tasks} tasks, 0 changed) on one container from the "
        f"bare lab image, {data['runs']} runs per connection, the connections in rotation.",
        "",
        "| connection | wall s (min / median / max) | control-host CPU s (min / median / max) | per task, median |",
        "|---|---|---|---|",
    ]
    for kind in order:
        wall, cpu = series[kind]["wall"], series[kind]["cpu"]
        lines.append(
            f"| {kind} | {wall['min']} / {wall['median']} / {wall['max']} | {cpu['min']} / {cpu['median']} / "
            f"{cpu['max']} | {round(wall['median'] / tasks, 2)} s |"
        )
    ratio = round(series[slowest]["wall"]["median"] / series[fastest]["wall"]["median"], 1)
    plugin = {"containers.podman.podman": "podman", "podman_pipelined": "pipelined", "ssh": "ssh"}
    chosen = {where: plugin.get(name, name) for where, name in data["configured"].items()}
    lines += [
        "",
        f"结论 / Result: `{fastest}` had the lowest median wall time, {ratio}x faster than `{slowest}`.",
    ]
    for where, kind in chosen.items():
        verdict = "the fastest measured here" if kind == fastest else "NOT the fastest measured here: revisit it"
        lines.append(f"The {where} configuration (read at run time) uses `{kind}`: {verdict}.")
    if "pipelined" in series and "ssh" in series:
        p, s = series["pipelined"]["wall"]["median"], series["ssh"]["wall"]["median"]
        lines.append(
            f"The pipelined podman connection took {round(p / s, 2)}x the wall time of SSH "
            "(production's connection; molecule/hardening's verify keeps it covered by running Ansible over SSH "
            "as the automation account through the hardened sshd)."
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--report", action="store_true", help="rebuild the page from connection.json, run nothing")
    args = parser.parse_args()
    if args.report:
        data = json.loads((REPO / "docs" / "benchmarks" / "connection.json").read_text(encoding="utf-8"))
        write_figures("connection", data, markdown(data))
        return
    env = ansible_env(
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_CONNECTION_PLUGINS=str(REPO / "plugins" / "connection"),
        ANSIBLE_GATHERING="implicit",
    )
    figures_machine = machine()
    with tempfile.TemporaryDirectory(prefix="govops-bench-connection-") as tmp:
        work = Path(tmp)
        (work / "site.yml").write_text(PLAYBOOK, encoding="utf-8")
        start_container(work)
        try:
            print("==> first converge (not measured)", flush=True)
            converge(work, "pipelined", env)
            runs: dict[str, list[dict]] = {kind: [] for kind in CONNECTIONS}
            for i in range(args.runs):
                for kind in CONNECTIONS:
                    result = converge(work, kind, env)
                    runs[kind].append(result)
                    print(f"    run {i + 1} {kind}: {result}", flush=True)
        finally:
            sh(["podman", "rm", "--force", "--time", "2", CONTAINER], check=False)
            sh(["podman", "network", "rm", NETWORK], check=False)
    changed = {k: [r["changed"] for r in v] for k, v in runs.items() if any(r["changed"] for r in v)}
    if changed:
        sys.exit(f"error: the repeated converges were not idempotent: {changed}. Fix: roles/common first.")
    tasks = {r["tasks"] for v in runs.values() for r in v}
    if len(tasks) != 1:
        sys.exit(f"error: the runs did not run the same tasks: {sorted(tasks)}. Fix: look at the role's conditions.")
    series = {
        k: {"wall": stats([r["wall_seconds"] for r in v]), "cpu": stats([r["control_cpu_seconds"] for r in v])}
        for k, v in runs.items()
    }
    wild = {k: s["wall"] for k, s in series.items() if s["wall"]["max"] > SPREAD_LIMIT * s["wall"]["min"]}
    if wild:
        sys.exit(f"error: runs disagree by more than {SPREAD_LIMIT}x: {wild}. Fix: re-run on a quiet machine.")
    data = {
        "configured": configured_connections(),
        "machine": figures_machine,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "runs": args.runs,
        "tasks_per_run": tasks.pop(),
        "raw": runs,
        "series": series,
    }
    write_figures("connection", data, markdown(data))


if __name__ == "__main__":
    main()
