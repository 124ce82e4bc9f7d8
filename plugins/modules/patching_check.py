#!/usr/bin/python
# Acceptance checks for roles/patching. Read-only: safe in check mode, changes nothing.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: patching_check
short_description: Verify the patch state of a Debian host
description:
  - Reports, check by check, whether the host is in a state that patching left
    it in correctly - the package database is consistent (no half-installed or
    half-configured package after a failed run), apt can resolve an upgrade,
    no security update is pending, and no reboot is pending.
  - A pending security update or reboot is a warning (it needs a maintenance
    window, not a repair); an inconsistent package database is a failure.
  - Read-only (apt simulation, dpkg --audit); supports check mode. The task does
    not fail when a check fails; the acceptance report does.
options:
  security_pattern:
    description: Case-insensitive text that marks a release as a security release.
    type: str
    default: -security
extends_documentation_fragment: [govops_check]
author: govops maintainers
"""

EXAMPLES = r"""
- name: Check the patch state
  patching_check:
  register: patching_acceptance
"""

RETURN = r"""
checks: {description: One item per check, in order (fields under NOTES)., returned: always, type: list, elements: dict}
summary: {description: Checks per status and the total (NOTES)., returned: always, type: dict}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.govops_apt import APT_GET, is_security, parse_simulation, read_reboot_required
from ansible.module_utils.govops_checks import CheckList, in_container, run


def main():
    module = AnsibleModule(
        argument_spec={"security_pattern": {"type": "str", "default": "-security"}},
        supports_check_mode=True,
    )
    checks = CheckList()

    rc, out, err = run(["dpkg", "--audit"])
    problems = [line for line in out.splitlines() if line.strip()]
    checks.verdict(
        "patching.dpkg_consistent",
        "软件包数据库一致",
        "Package database consistent",
        rc == 0 and not problems,
        "dpkg --audit: " + ("nothing to report" if not problems else " | ".join(problems[:5])) + (err.strip() or ""),
        len(problems),
    )

    rc, out, err = run([*APT_GET, "dist-upgrade"], timeout=300)
    checks.verdict(
        "patching.apt_resolvable",
        "升级可解析",
        "Upgrade resolvable",
        rc == 0,
        "apt-get -s dist-upgrade " + ("resolves" if rc == 0 else f"fails (rc {rc}): {(err or out).strip()[-300:]}"),
        rc,
    )
    installs, _removals = parse_simulation(out) if rc == 0 else ([], [])
    security = sorted(
        f"{i['name']} {i['from'] or 'new'}->{i['to']}"
        for i in installs
        if is_security(i["release"], module.params["security_pattern"])
    )
    checks.add(
        "patching.security_pending",
        "无待安装的安全更新",
        "No security update pending",
        "pass" if not security else "warn",
        f"{len(installs)} update(s) pending, {len(security)} from a security release"
        + (f": {', '.join(security[:10])}; patch them in the next maintenance window" if security else ""),
        len(security),
    )

    required, pkgs = read_reboot_required()
    if required and in_container():
        evidence = (
            f"/var/run/reboot-required present ({', '.join(pkgs) or 'no package list'}); container: the kernel "
            "is the container host's, reboot that host in its window"
        )
    elif required:
        evidence = f"/var/run/reboot-required present ({', '.join(pkgs) or 'no package list'}); reboot in a window"
    else:
        evidence = "/var/run/reboot-required absent"
    checks.add(
        "patching.reboot_pending",
        "无待重启",
        "No reboot pending",
        "warn" if required else "pass",
        evidence,
        pkgs if required else None,
    )
    module.exit_json(changed=False, **checks.result())


if __name__ == "__main__":
    main()
