#!/usr/bin/python
# Acceptance checks for roles/common. Read-only: safe in check mode, changes nothing.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: common_baseline_check
short_description: Verify the common baseline of a platform host
description:
  - Looks at the running host and reports, check by check, whether the baseline
    of C(roles/common) holds - time zone, chrony, clock synchronisation, host
    name, name resolution of the platform hosts, persistent journald, sshd, the
    operations accounts (keys and sudo rules) and the validity of sudoers.
  - Behaviour is checked where it can be (names are resolved, sudo is asked
    what an account may run, the journal is looked for on disk), not only files.
  - Read-only; supports check mode. The task does not fail when a check fails;
    the results go to the acceptance report, which fails at the end.
options:
  timezone:
    description: Expected IANA time zone.
    type: str
    required: true
  ntp_servers:
    description:
      - NTP servers chrony must use (C(common_ntp_servers)). An empty list means time synchronisation is not
        configured, and the check C(common.ntp_config) fails - a clock nobody synchronises is never a pass.
    type: list
    elements: str
    required: true
  ntp_max_offset_ms:
    description: Largest accepted clock offset in milliseconds (outside containers).
    type: int
    default: 100
  hostname:
    description: Expected host name.
    type: str
  hosts:
    description: Names that must resolve, mapped to the address each must resolve to.
    type: dict
    default: {}
  journald_storage:
    description: Expected journald Storage= value.
    type: str
    default: persistent
  ops_group:
    description: Group every operations account belongs to.
    type: str
    default: ops
  ops_users:
    description:
      - Operations accounts as in C(common_ops_users) (name, ssh_public_keys,
        sudo_commands, state).
    type: list
    elements: dict
    default: []
extends_documentation_fragment: [govops_check]
author: govops maintainers
"""

EXAMPLES = r"""
- name: Check the common baseline
  common_baseline_check:
    timezone: Asia/Shanghai
    ntp_servers: [ntp.ntsc.ac.cn]
    hostname: db1
    hosts: {db1: 10.89.60.21, db2: 10.89.60.22}
    ops_users:
      - name: opsadmin
        ssh_public_keys: ["ssh-ed25519 AAAA... ops@example"]
        sudo_commands: [ALL]
  register: baseline
"""

RETURN = r"""
checks: {description: One item per check, in order (fields under NOTES)., returned: always, type: list, elements: dict}
summary: {description: Checks per status and the total (NOTES)., returned: always, type: dict}
"""

import glob
import grp
import os
import pwd
import socket

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.govops_checks import CheckList, in_container, run, sudo_rules


def check_timezone(checks, expected):
    link = os.path.realpath("/etc/localtime")
    zone = link.split("/zoneinfo/", 1)[1] if "/zoneinfo/" in link else link
    _rc, offset, _err = run(["date", "+%z"])
    checks.verdict(
        "common.timezone",
        "时区",
        "Time zone",
        zone == expected,
        f"/etc/localtime -> {link}; expected {expected}",
        f"{zone} ({offset.strip()})",
    )


def chrony_sources():
    servers = []
    paths = ["/etc/chrony/chrony.conf", *sorted(glob.glob("/etc/chrony/sources.d/*.sources"))]
    for path in paths:
        try:
            with open(path, encoding="utf-8") as handle:
                for line in handle:
                    words = line.split()
                    if len(words) >= 2 and words[0] in ("server", "pool", "peer"):
                        servers.append(words[1])
        except OSError:
            continue
    return servers


def check_ntp(checks, expected, max_offset_ms):
    configured = chrony_sources()
    missing = [server for server in expected if server not in configured]
    problems = []
    if not expected:
        problems.append(
            "no NTP server expected (common_ntp_servers is empty): time synchronisation is not configured. "
            "Fix: list the data centre's time sources in common_ntp_servers"
        )
    if missing:
        problems.append(f"missing: {', '.join(missing)}")
    checks.verdict(
        "common.ntp_config",
        "时间同步源配置",
        "NTP sources configured",
        not problems,
        f"chrony sources: {', '.join(configured) or 'none'}" + "".join(f"; {p}" for p in problems),
        len(configured),
    )
    if in_container():
        checks.add(
            "common.clock_sync",
            "时钟同步",
            "Clock synchronisation",
            "warn",
            "container: the clock is the host kernel's and cannot be verified from inside "
            "(chronyd cannot set it without CAP_SYS_TIME). Verified instead: chrony is configured "
            "(common.ntp_config). Synchronise the container host.",
            "host clock (not verifiable here)",
        )
        return
    rc, out, err = run(["chronyc", "-n", "tracking"])
    fields = dict((key.strip(), value.strip()) for key, _, value in (line.partition(":") for line in out.splitlines()))
    leap = fields.get("Leap status", "")
    offset_ms = None
    if "System time" in fields:
        words = fields["System time"].split()
        offset_ms = abs(float(words[0])) * 1000
    ok = rc == 0 and leap == "Normal" and offset_ms is not None and offset_ms <= max_offset_ms
    checks.verdict(
        "common.clock_sync",
        "时钟同步",
        "Clock synchronisation",
        ok,
        f"chronyc tracking: leap status {leap or err.strip() or 'unknown'}, "
        f"reference {fields.get('Reference ID', 'none')}; limit {max_offset_ms} ms",
        None if offset_ms is None else f"{offset_ms:.3f} ms",
    )


def check_names(checks, hostname, hosts):
    if hostname:
        actual = socket.gethostname()
        checks.verdict(
            "common.hostname",
            "主机名",
            "Host name",
            actual == hostname,
            f"gethostname() = {actual}; expected {hostname}",
            actual,
        )
    if not hosts:
        return
    wrong = []
    for name, address in sorted(hosts.items()):
        try:
            found = sorted({info[4][0] for info in socket.getaddrinfo(name, None, socket.AF_INET)})
        except socket.gaierror as exc:
            found = [f"unresolved ({exc.strerror})"]
        if str(address) not in found:
            wrong.append(f"{name} -> {', '.join(found)} (expected {address})")
    checks.verdict(
        "common.name_resolution",
        "平台主机名解析",
        "Platform host names resolve",
        not wrong,
        "all platform hosts resolve to their addresses" if not wrong else "; ".join(wrong),
        f"{len(hosts) - len(wrong)}/{len(hosts)}",
    )


def check_journald(checks, expected):
    _rc, out, _err = run(["systemd-analyze", "cat-config", "systemd/journald.conf"])
    storage = "auto"
    for raw in out.splitlines():
        setting = raw.strip()
        if setting.startswith("Storage="):
            storage = setting.split("=", 1)[1].strip()
    evidence = f"effective Storage={storage}"
    ok = storage == expected
    measured = storage
    if expected == "persistent":
        files = glob.glob("/var/log/journal/*/system*.journal")
        ok = ok and bool(files)
        _rc, usage, _err = run(["journalctl", "--disk-usage"])
        evidence += f"; {len(files)} journal file(s) under /var/log/journal; {usage.strip()}"
        measured = f"{storage}, {len(files)} file(s)"
    checks.verdict("common.journald", "日志持久化存储", "journald keeps logs on disk", ok, evidence, measured)


def check_sshd(checks):
    rc, out, _err = run(["systemctl", "is-active", "ssh"])
    checks.verdict(
        "common.sshd",
        "SSH 服务运行",
        "sshd is running",
        rc == 0,
        f"systemctl is-active ssh: {out.strip()}",
        out.strip(),
    )


def key_identity(line):
    words = line.split()
    return (words[0], words[1]) if len(words) >= 2 else None


def read_authorized_keys(home):
    path = os.path.join(home, ".ssh", "authorized_keys")
    try:
        st = os.stat(path)
        with open(path, encoding="utf-8") as handle:
            keys = {key_identity(line) for line in handle if line.strip() and not line.startswith("#")}
    except OSError:
        return path, None, set()
    return path, st, keys - {None}


def authorized_key_problems(entry, wanted_keys, problems):
    """Compare ~/.ssh/authorized_keys with the inventory; returns the keys found."""
    path, st, keys = read_authorized_keys(entry.pw_dir)
    expected = {key_identity(key) for key in wanted_keys} - {None}
    if st is None:
        problems.append(f"{path} missing")
        return keys
    if st.st_uid != entry.pw_uid:
        problems.append(f"{path} not owned by {entry.pw_name}")
    if st.st_mode & 0o022:
        problems.append(f"{path} is group/world writable ({oct(st.st_mode & 0o777)})")
    if keys != expected:
        problems.append(f"{len(expected - keys)} key(s) missing, {len(keys - expected)} unexpected")
    return keys


def sudo_problems(name, commands):
    """Ask sudo itself what the account may run and compare with the inventory."""
    rules = sudo_rules(name)
    problems = [f"sudo does not grant {command}" for command in commands if command not in rules]
    if not commands and rules:
        problems.append("sudo grants commands but sudo_commands is empty")
    return problems


def check_ops_user(checks, user, ops_group):
    name = user["name"]
    check_id = f"common.ops_user.{name}"
    title = ("运维账号 " + name, "Operations account " + name)
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        entry = None
    if user.get("state", "present") == "absent":
        checks.verdict(
            check_id, *title, entry is None, "account absent as required" if entry is None else "account still exists"
        )
        return
    if entry is None:
        checks.verdict(check_id, *title, False, "account does not exist")
        return
    problems = []
    try:
        if entry.pw_gid != grp.getgrnam(ops_group).gr_gid:
            problems.append(f"primary group is not {ops_group}")
    except KeyError:
        problems.append(f"group {ops_group} does not exist")
    keys = authorized_key_problems(entry, user.get("ssh_public_keys") or [], problems)
    commands = user.get("sudo_commands") or []
    problems.extend(sudo_problems(name, commands))
    checks.verdict(
        check_id,
        *title,
        not problems,
        "; ".join(problems)
        or f"exists, {len(keys)} authorized key(s) as in inventory, sudo grants {', '.join(commands) or 'nothing'}",
        f"{len(keys)} key(s)",
    )


def check_sudoers(checks):
    rc, out, err = run(["/usr/sbin/visudo", "-c"])
    checks.verdict(
        "common.sudoers_valid",
        "sudoers 语法有效",
        "sudoers parses",
        rc == 0,
        (out + err).strip().replace("\n", "; "),
    )


def main():
    module = AnsibleModule(
        argument_spec={
            "timezone": {"type": "str", "required": True},
            "ntp_servers": {"type": "list", "elements": "str", "required": True},
            "ntp_max_offset_ms": {"type": "int", "default": 100},
            "hostname": {"type": "str"},
            "hosts": {"type": "dict", "default": {}},
            "journald_storage": {"type": "str", "default": "persistent"},
            "ops_group": {"type": "str", "default": "ops"},
            "ops_users": {"type": "list", "elements": "dict", "default": [], "no_log": False},
        },
        supports_check_mode=True,
    )
    params = module.params
    checks = CheckList()
    check_timezone(checks, params["timezone"])
    check_ntp(checks, params["ntp_servers"], params["ntp_max_offset_ms"])
    check_names(checks, params["hostname"], params["hosts"])
    check_journald(checks, params["journald_storage"])
    check_sshd(checks)
    for user in params["ops_users"]:
        check_ops_user(checks, user, params["ops_group"])
    check_sudoers(checks)
    module.exit_json(changed=False, **checks.result())


if __name__ == "__main__":
    main()
