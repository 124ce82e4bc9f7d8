# Pure parsers for apt's simulation output and Debian's reboot signals, shared
# by plugins/modules/apt_patch_plan.py (what roles/patching applies) and
# plugins/modules/patching_check.py (the acceptance checks). No I/O except
# read_reboot_required; no imports of other module_utils (tests load them in
# alphabetical order).
from __future__ import annotations

import hashlib
import json
import os
import re

# apt-get in simulation mode: no lock, no root needed, nothing installed.
APT_GET = [
    "apt-get",
    "-s",
    "-q",
    "-y",
    "-o",
    "Debug::NoLocking=true",
    "-o",
    "APT::Get::Show-User-Simulation-Note=false",
]
INST = re.compile(
    r"^Inst (?P<name>\S+)(?: \[(?P<from>[^\]]*)\])? \((?P<to>\S+)(?: (?P<release>[^\[)]*?))?(?: \[[^\]]*\])?\)"
)
REMV = re.compile(r"^Remv (?P<name>\S+)(?: \[(?P<from>[^\]]*)\])?")
REBOOT_FILE = "/var/run/reboot-required"


def parse_simulation(text):
    """Parse `apt-get -s` output into (installs, removals).

    installs: [{name, from, to, release}] (from is None for a new package);
    removals: [{name, from}]. Conf/Purg lines and apt's chatter are ignored.
    """
    installs, removals = [], []
    for line in text.splitlines():
        match = INST.match(line)
        if match:
            installs.append(
                {
                    "name": match["name"],
                    "from": match["from"] or None,
                    "to": match["to"],
                    "release": (match["release"] or "").strip(),
                }
            )
            continue
        match = REMV.match(line)
        if match:
            removals.append({"name": match["name"], "from": match["from"] or None})
    return installs, removals


def is_security(release, pattern="-security"):
    """True when any origin/label/suite of the release string contains the pattern."""
    return bool(pattern) and pattern.lower() in (release or "").lower()


def build_manifest(installs, removals=()):
    """The canonical patch set: [{name, from, to}] sorted by name (removals have to=None)."""
    items = [{"name": i["name"], "from": i["from"], "to": i["to"]} for i in installs]
    items += [{"name": r["name"], "from": r["from"], "to": None} for r in removals]
    return sorted(items, key=lambda item: (item["name"], item["from"] or "", item["to"] or ""))


def manifest_hash(manifest):
    """SHA-256 of the manifest's canonical JSON; the same set always gives the same hash."""
    canonical = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def parse_needrestart(text):
    """Parse `needrestart -b` output.

    NEEDRESTART-KSTA: 0 unknown, 1 current kernel, 2 ABI-compatible upgrade
    pending, 3 version upgrade pending (2 and 3 need a reboot).
    NEEDRESTART-SVC lines name the services running outdated code.
    """
    status, services = None, []
    for line in text.splitlines():
        key, _sep, value = line.partition(":")
        value = value.strip()
        if key == "NEEDRESTART-KSTA" and value.isdigit():
            status = int(value)
        elif key == "NEEDRESTART-SVC" and value:
            services.append(value)
    return {"kernel_status": status, "kernel_reboot": status in (2, 3), "services": sorted(set(services))}


def read_reboot_required(path=REBOOT_FILE):
    """(required, packages) from Debian's reboot-required flag file and its .pkgs list."""
    if not os.path.exists(path):
        return False, []
    try:
        with open(path + ".pkgs", encoding="utf-8") as handle:
            pkgs = sorted({line.strip() for line in handle if line.strip()})
    except OSError:
        pkgs = []
    return True, pkgs
