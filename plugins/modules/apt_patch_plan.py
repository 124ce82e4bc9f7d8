#!/usr/bin/python
# Resolves the pending patch set of a Debian host. Read-only: it only runs apt
# simulations (apt-get -s) and reads files; safe in check mode, changes nothing.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: apt_patch_plan
short_description: Resolve the pending patch set of a Debian host (read-only)
description:
  - Runs C(apt-get -s) (a simulation, no lock, nothing installed) and parses
    its C(Inst)/C(Remv) lines into the patch set that C(roles/patching) applies
    and records - a sorted manifest of C({name, from, to}) and its SHA-256, the
    hash the test-first gate compares between the test and production stages.
  - C(mode=all) simulates C(dist-upgrade). C(mode=security) keeps the packages
    whose candidate comes from a release whose origin, label or suite contains
    I(security_pattern), then simulates installing exactly those versions so
    that new dependencies are part of the manifest. C(mode=packages) simulates
    installing the pinned I(packages) (and whatever they pull in).
  - Also reports what a reboot or a service restart needs -
    C(/var/run/reboot-required), C(/var/run/reboot-required.pkgs) and, when
    needrestart is installed, C(needrestart -b -r l) (list only, restarts nothing).
  - Read-only; supports check mode. The apt cache is not refreshed here
    (use M(ansible.builtin.apt) with C(update_cache) before).
options:
  mode:
    description: Which updates make up the patch set.
    type: str
    choices: [all, security, packages]
    default: all
  packages:
    description:
      - For C(mode=packages), the packages and the exact versions to install.
        A version apt does not know fails the module, naming the package.
    type: list
    elements: dict
    default: []
  security_pattern:
    description: Case-insensitive text that marks a release as a security release.
    type: str
    default: -security
  names:
    description: Extra package names whose installed version is reported in C(installed).
    type: list
    elements: str
    default: []
  changes:
    description:
      - Packages just changed, C([{name, from, to}]) (a manifest). For each one installed at C(to), the entries of its
        Debian changelog newer than C(from) are read offline and returned in C(advisories) (CVE ids, urgency).
    type: list
    elements: dict
    default: []
author: govops maintainers
"""

EXAMPLES = r"""
- name: Resolve the security updates pending on this host
  apt_patch_plan:
    mode: security
  register: plan

- name: Resolve an explicit, pinned patch set
  apt_patch_plan:
    mode: packages
    packages:
      - {name: openssl, version: 3.5.1-1+deb13u1}
"""

RETURN = r"""
manifest:
  description: The patch set, sorted by name; C(from) is null for a new package, C(to) null for a removal.
  returned: always
  type: list
  elements: dict
  sample: [{name: govops-demo-tool, from: "1.0", to: "1.1"}]
hash:
  description: SHA-256 of the canonical JSON of C(manifest) (sorted keys, no spaces).
  returned: always
  type: str
plan:
  description: The manifest with the release each candidate comes from and whether it is a security release.
  returned: always
  type: list
  elements: dict
installed:
  description: Installed version of every package in the manifest and in I(names) (null when not installed).
  returned: always
  type: dict
reboot_required:
  description: True when /var/run/reboot-required exists or needrestart reports a pending kernel.
  returned: always
  type: bool
reboot_required_pkgs:
  description: Packages listed in /var/run/reboot-required.pkgs.
  returned: always
  type: list
  elements: str
needrestart:
  description: "needrestart's view: {installed, kernel_status, kernel_reboot, services}."
  returned: always
  type: dict
advisories:
  description: >-
    Per package of I(changes) that is installed at its C(to) version, what the upgrade fixes according to the
    package's own Debian changelog (/usr/share/doc/<pkg>/changelog.Debian.gz, entries after C(from) up to C(to)):
    {source, versions, cves, urgency, entries}. Empty for packages without a changelog or not yet installed.
  returned: always
  type: dict
  sample: {openssl: {source: /usr/share/doc/openssl/changelog.Debian.gz, versions: [3.5.1-1+deb13u1],
           cves: [CVE-2025-9230], urgency: medium, entries: [{version: 3.5.1-1+deb13u1, urgency: medium,
           cves: [CVE-2025-9230]}]}}
in_container:
  description: True inside a container (a reboot is never attempted there).
  returned: always
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.govops_apt import (
    APT_GET,
    build_manifest,
    is_security,
    manifest_hash,
    parse_needrestart,
    parse_simulation,
    read_advisories,
    read_reboot_required,
)
from ansible.module_utils.govops_checks import in_container, run


def pinned_specs(packages):
    return [f"{p['name']}={p['version']}" for p in packages]


def installed_versions(names):
    result = {}
    for name in sorted(set(names)):
        rc, out, _err = run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}|${Version}", name])
        status, _sep, version = out.partition("|")
        result[name] = version if rc == 0 and status.startswith("ii") else None
    return result


def simulate(module, args):
    rc, out, err = run(APT_GET + args, timeout=300)
    if rc != 0:
        module.fail_json(
            msg=f"apt-get -s {' '.join(args[:3])}... failed (rc {rc}): {(err or out).strip()[-600:]}. "
            "Fix: correct the package list or versions (patching_packages), or the host's apt sources.",
            rc=rc,
        )
    return parse_simulation(out)


def main():
    module = AnsibleModule(
        argument_spec={
            "mode": {"type": "str", "choices": ["all", "security", "packages"], "default": "all"},
            "packages": {"type": "list", "elements": "dict", "default": []},
            "security_pattern": {"type": "str", "default": "-security"},
            "names": {"type": "list", "elements": "str", "default": []},
            "changes": {"type": "list", "elements": "dict", "default": []},
        },
        supports_check_mode=True,
    )
    mode = module.params["mode"]
    pattern = module.params["security_pattern"]

    if mode == "packages":
        bad = [p for p in module.params["packages"] if not p.get("name") or not p.get("version")]
        if bad or not module.params["packages"]:
            module.fail_json(msg="mode=packages needs packages: [{name, version}, ...] with both keys in every item.")
        installs, removals = simulate(module, ["install", *pinned_specs(module.params["packages"])])
    else:
        installs, removals = simulate(module, ["dist-upgrade"])
        if mode == "security":
            chosen = [{"name": i["name"], "version": i["to"]} for i in installs if is_security(i["release"], pattern)]
            installs, removals = simulate(module, ["install", *pinned_specs(chosen)]) if chosen else ([], [])

    manifest = build_manifest(installs, removals)
    releases = {i["name"]: i["release"] for i in installs}
    plan = [
        {
            **item,
            "release": releases.get(item["name"], ""),
            "security": is_security(releases.get(item["name"]), pattern),
        }
        for item in manifest
    ]

    reboot_file, reboot_pkgs = read_reboot_required()
    needrestart = {"installed": False, "kernel_status": None, "kernel_reboot": False, "services": []}
    rc, out, _err = run(["needrestart", "-b", "-r", "l"], timeout=120)
    if rc != 127:
        needrestart = {"installed": True, **parse_needrestart(out)}

    installed = installed_versions([i["name"] for i in manifest] + module.params["names"])
    advisories = {}
    for change in module.params["changes"]:
        name, old, new = change.get("name"), change.get("from"), change.get("to")
        if name and new and installed_versions([name]).get(name) == new:
            advisories[name] = read_advisories(name, old, new)

    module.exit_json(
        changed=False,
        mode=mode,
        manifest=manifest,
        hash=manifest_hash(manifest),
        plan=plan,
        installed=installed,
        advisories=advisories,
        reboot_required=reboot_file or needrestart["kernel_reboot"],
        reboot_required_pkgs=reboot_pkgs,
        needrestart=needrestart,
        in_container=in_container(),
    )


if __name__ == "__main__":
    main()
