#!/usr/bin/env python3
"""Bring the lab (podman containers standing in for the platform) up and down.

The lab's topology comes from the lab inventory only (inventories/lab): one
container per inventory host, named by its ansible_host (govops-<host>), with
hostname <host> and the static address lab_ip on the network lab_network_*.
Containers run systemd as PID 1.

    scripts/lab.py up        create the network and any missing container, start all
    scripts/lab.py down      remove the containers and the network
    scripts/lab.py status    one line per host
    scripts/lab.py shell H   an interactive shell in host H

Run it through `make lab`, `make lab-down`, `make lab-shell HOST=db1`, which
set CONTAINERS_CONF (runc, no default ulimits) and PATH to the project venv.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The directory: hosts.yml, db_topology.yml and group_vars/ together.
INVENTORY = REPO / "inventories" / "lab"
LABEL = "io.govops.lab=1"


def die(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


def podman(*args: str, check: bool = True, capture: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(["podman", *args], capture_output=capture, text=True, check=False)  # noqa: S603, S607
    if check and proc.returncode != 0:
        die(f"podman {' '.join(args[:2])} failed: {proc.stderr.strip()}")
    return proc


def inventory() -> tuple[dict, dict]:
    """Hosts with their resolved lab variables, and each host's groups, read through ansible-inventory."""
    # ansible-inventory comes from the project venv, which scripts/lib.sh puts on PATH.
    proc = subprocess.run(  # noqa: S603
        ["ansible-inventory", "-i", str(INVENTORY), "--list"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    if proc.returncode != 0:
        die(f"cannot read {INVENTORY}: {proc.stderr.strip()}. Fix: run `make setup` first.")
    data = json.loads(proc.stdout)
    hostvars = data["_meta"]["hostvars"]
    if not hostvars:
        die(f"{INVENTORY} lists no hosts. Fix: restore it from git.")
    groups: dict[str, list[str]] = {host: [] for host in hostvars}
    for group, members in data.items():
        for host in members.get("hosts", []) if isinstance(members, dict) else []:
            groups.setdefault(host, []).append(group)
    return hostvars, groups


def host_image(settings: dict, host_groups: list[str]) -> str:
    """The tier image of the host's first group listed in lab_tier_images, else the bare image."""
    if os.environ.get("GOVOPS_LAB_BARE") == "1":
        return settings["lab_container_image"]
    for group, image in settings["lab_tier_images"].items():
        if group in host_groups:
            return image
    return settings["lab_container_image"]


def lab_settings(hostvars: dict) -> dict:
    first = next(iter(hostvars.values()))
    keys = (
        "lab_network_name",
        "lab_network_subnet",
        "lab_network_gateway",
        "lab_container_image",
        "lab_tier_images",
        "lab_container_memory",
    )
    missing = [key for key in keys if key not in first]
    if missing:
        die(f"{', '.join(missing)} not set. Fix: define them in inventories/lab/group_vars/all/lab.yml.")
    return {key: first[key] for key in keys}


def container_name(host: str, hv: dict) -> str:
    # ansible_host is set per host in hosts.yml; a templated one is expanded here.
    return str(hv.get("ansible_host", "govops-{{ inventory_hostname }}")).replace("{{ inventory_hostname }}", host)


def ensure_network(settings: dict) -> None:
    name = settings["lab_network_name"]
    if podman("network", "exists", name, check=False).returncode == 0:
        return
    podman(
        "network",
        "create",
        "--label",
        LABEL,
        "--subnet",
        settings["lab_network_subnet"],
        "--gateway",
        settings["lab_network_gateway"],
        name,
    )
    print(f"==> network {name} ({settings['lab_network_subnet']}) created")


def wait_running(names: list[str], timeout: int = 120) -> None:
    """Wait until systemd in every container reports running (or degraded)."""
    deadline = time.monotonic() + timeout
    pending = list(names)
    while pending and time.monotonic() < deadline:
        for name in list(pending):
            state = podman("exec", name, "systemctl", "is-system-running", check=False).stdout.strip()
            if state in ("running", "degraded"):
                pending.remove(name)
                if state == "degraded":
                    failed = podman("exec", name, "systemctl", "--failed", "--no-legend", check=False).stdout.strip()
                    print(f"warning: {name} booted degraded: {failed}", file=sys.stderr)
        if pending:
            time.sleep(1)
    if pending:
        die(
            f"systemd did not finish booting in {', '.join(pending)} within {timeout}s. "
            "Fix: look at `podman logs <name>` and `make lab-shell HOST=<host>`."
        )


def up() -> None:
    hostvars, groups = inventory()
    settings = lab_settings(hostvars)
    images = {host: host_image(settings, groups[host]) for host in hostvars}
    for image in sorted(set(images.values())):
        if podman("image", "exists", image, check=False).returncode != 0:
            die(f"image {image} is missing. Fix: run scripts/build-images.sh (./govops images).")
    ensure_network(settings)
    names = []
    for host, hv in sorted(hostvars.items()):
        name = container_name(host, hv)
        names.append(name)
        if "lab_ip" not in hv:
            die(f"host {host} has no lab_ip. Fix: give it one in {INVENTORY}.")
        inspect = podman("container", "inspect", "--format", "{{.State.Running}}", name, check=False)
        if inspect.returncode == 0:
            if inspect.stdout.strip() != "true":
                podman("start", name)
                print(f"==> {host}: started ({name})")
            continue
        podman(
            "run",
            "--detach",
            "--name",
            name,
            "--hostname",
            host,
            "--label",
            LABEL,
            "--network",
            settings["lab_network_name"],
            "--ip",
            str(hv["lab_ip"]),
            "--network-alias",
            host,
            # /etc/hosts belongs to the image (roles/common manages it), not podman.
            "--no-hosts",
            "--systemd",
            "always",
            "--memory",
            settings["lab_container_memory"],
            images[host],
            "/sbin/init",
        )
        print(f"==> {host}: created ({name}, {hv['lab_ip']}, {images[host]})")
    wait_running(names)
    print(f"==> lab up: {len(names)} hosts")


def down() -> None:
    names = podman("ps", "-a", "--filter", f"label={LABEL}", "--format", "{{.Names}}").stdout.split()
    if names:
        podman("rm", "--force", "--time", "5", *names)
    for net in podman("network", "ls", "--filter", f"label={LABEL}", "--format", "{{.Name}}").stdout.split():
        podman("network", "rm", net)
    print(f"==> lab down: {len(names)} containers removed")


def status() -> None:
    hostvars, _groups = inventory()
    for host, hv in sorted(hostvars.items()):
        name = container_name(host, hv)
        proc = podman("container", "inspect", "--format", "{{.State.Status}}", name, check=False)
        state = proc.stdout.strip() if proc.returncode == 0 else "absent"
        print(f"{host:10} {name:18} {hv.get('lab_ip', '-'):15} {state}")


def shell(host: str) -> None:
    hostvars, _groups = inventory()
    if host not in hostvars:
        die(f"no host {host!r} in the lab inventory. Fix: use one of {', '.join(sorted(hostvars))}.")
    os.execvp("podman", ["podman", "exec", "-it", container_name(host, hostvars[host]), "/bin/bash", "-l"])  # noqa: S606, S607


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["up", "down", "status", "shell"])
    parser.add_argument("host", nargs="?")
    args = parser.parse_args()
    if os.geteuid() != 0:
        die("the lab needs root (rootful podman). Fix: run it as root or with sudo.")
    if "CONTAINERS_CONF" not in os.environ:
        die("CONTAINERS_CONF is not set. Fix: run it through make (it sets scripts/lab/containers.conf).")
    if args.action == "shell":
        if not args.host:
            die("which host? Fix: make lab-shell HOST=db1")
        shell(args.host)
    {"up": up, "down": down, "status": status}[args.action]()


if __name__ == "__main__":
    main()
