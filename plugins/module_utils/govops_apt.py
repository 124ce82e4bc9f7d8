# Pure parsers for apt's simulation output and Debian's reboot signals, shared
# by plugins/modules/apt_patch_plan.py (what roles/patching applies) and
# plugins/modules/patching_check.py (the acceptance checks). No I/O except
# read_reboot_required; no imports of other module_utils (tests load them in
# alphabetical order).
from __future__ import annotations

import gzip
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


# Debian changelog entry header: "pkg (version) dist; urgency=high".
CHANGELOG_HEADER = re.compile(
    r"^(?P<source>[a-z0-9][a-z0-9+.-]*) \((?P<version>[^)\s]+)\) (?P<dists>[^;]*);(?P<opts>.*)$", re.IGNORECASE
)
CVE = re.compile(r"\bCVE-\d{4}-\d{4,}\b", re.IGNORECASE)
URGENCY_RANK = {"low": 0, "medium": 1, "high": 2, "emergency": 3, "critical": 4}


def parse_changelog(text, old_version=None, new_version=None):
    """What a package upgrade fixes, from its Debian changelog (newest entry first).

    Reads the entries from new_version (or the top when None/not found) down to,
    not including, old_version (or to the end when None/not found: a new package).
    Returns {versions, cves (sorted, unique, upper case), urgency (highest of the
    entries, None when there is none), entries: [{version, urgency, cves}]}.
    Stopping at the old version's header needs no version comparison: Debian
    changelogs are ordered newest first.
    """
    entries, current = [], None
    for line in text.splitlines():
        header = CHANGELOG_HEADER.match(line)
        if header:
            opts = dict(
                part.strip().split("=", 1) for part in header["opts"].split(",") if "=" in part and part.strip()
            )
            current = {"version": header["version"], "urgency": opts.get("urgency", "").lower() or None, "cves": []}
            entries.append(current)
        elif current is not None:
            current["cves"].extend(match.upper() for match in CVE.findall(line))
    versions = [entry["version"] for entry in entries]
    start = versions.index(new_version) if new_version in versions else 0
    stop = versions.index(old_version) if old_version in versions else len(entries)
    chosen = entries[start:stop] if stop >= start else []
    for entry in chosen:
        entry["cves"] = sorted(set(entry["cves"]))
    urgencies = [e["urgency"] for e in chosen if e["urgency"]]
    return {
        "versions": [e["version"] for e in chosen],
        "cves": sorted({cve for e in chosen for cve in e["cves"]}),
        "urgency": max(urgencies, key=lambda u: URGENCY_RANK.get(u, -1)) if urgencies else None,
        "entries": chosen,
    }


def changelog_paths(name):
    """Where Debian keeps a binary package's changelog (native packages have no .Debian)."""
    base = f"/usr/share/doc/{name.split(':', 1)[0]}"
    return [f"{base}/changelog.Debian.gz", f"{base}/changelog.gz", f"{base}/changelog.Debian"]


def read_advisories(name, old_version, new_version):
    """parse_changelog() of the installed package's changelog, plus the file used ('' when none)."""
    for path in changelog_paths(name):
        if not os.path.exists(path):
            continue
        opener = gzip.open if path.endswith(".gz") else open
        try:
            with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
                text = handle.read(2_000_000)
        except OSError:
            continue
        return {"source": path, **parse_changelog(text, old_version, new_version)}
    return {"source": "", "versions": [], "cves": [], "urgency": None, "entries": []}
