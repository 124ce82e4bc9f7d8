#!/usr/bin/python
# 等保 (GB/T 22239-2019 level 3) checks for roles/hardening. Read-only: safe in
# check mode, changes nothing.
from __future__ import annotations

DOCUMENTATION = r"""
---
module: dengbao_check
short_description: Judge a Linux host against GB/T 22239-2019 level 3 (等保三级), 8.1.4
description:
  - Looks at the running host and reports one check per hardening measure of
    C(roles/hardening) (status pass/warn/fail/skip, plus the verdict word, the
    evidence - the configuration line or command output - and what a hardening
    run would change), then folds them into one verdict per item of the control
    catalog C(roles/hardening/catalog/gbt22239_l3.yml) - 符合 (compliant),
    部分符合 (partially), 不符合 (non-compliant), 不适用 (not applicable or
    interview only) or 例外 (approved exception).
  - Behaviour is checked where it can be - the effective sshd configuration
    (sshd -T), what sudo grants each account (sudo -l), the umask and TMOUT of a
    real login shell, the listening sockets. Inside a container, what the kernel
    does not allow (loading audit rules, non-namespaced sysctls) is reported as
    部分符合 with the persistent configuration as evidence, never as a pass.
  - Read-only; supports check mode. The task does not fail when a check fails.
options:
  catalog:
    description: The C(items) of the control catalog (id, automation, checks, ...).
    type: list
    elements: dict
    required: true
  exceptions:
    description: Exceptions that apply to this host (control, reason, approver, expires).
    type: list
    elements: dict
    default: []
  today:
    description: Today's date (YYYY-MM-DD) on the control host, for the exceptions.
    type: str
  settings:
    description:
      - The variables of C(roles/hardening) by their own names - every C(hardening_*) variable, plus the
        internal C(__hardening_sod_accounts), C(__hardening_audit_rules_file) and C(__hardening_rsyslog_forward).
        C(roles/hardening/tasks/verify.yml) passes them all.
      - The module has no defaults of its own for them - every threshold and list is the role's. A variable
        the checks read (C(SETTINGS) in the module) that is missing or of the wrong type fails the task,
        naming it, before anything is probed. Other variables are ignored.
    type: dict
    required: true
extends_documentation_fragment: [govops_check]
author: govops maintainers
"""

EXAMPLES = r"""
- name: Judge the host against 等保 level 3
  dengbao_check:
    catalog: "{{ (lookup('file', 'roles/hardening/catalog/gbt22239_l3.yml') | from_yaml)['items'] }}"
    exceptions: []
    settings: "{{ dict(__names | zip(query('ansible.builtin.vars', *__names))) }}"
  vars:
    __names: "{{ query('ansible.builtin.varnames', '^hardening_') }}"
  register: dengbao
"""

RETURN = r"""
checks:
  description: The checks in the order they ran (fields under NOTES), each with three more.
  returned: always
  type: list
  elements: dict
  contains:
    verdict: {description: "符合, 部分符合, 不符合, 不适用 or 例外.", type: str}
    remediation: {description: What a hardening run would change; empty when nothing., type: str}
    controls: {description: Catalog ids the check serves., type: list}
controls:
  description: One item per catalog item, with its verdict, evidence and remediation.
  returned: always
  type: list
  elements: dict
summary: {description: Checks per status and the total (NOTES)., returned: always, type: dict}
verdicts:
  description: Counts of the catalog items per verdict, and the total.
  returned: always
  type: dict
"""

import glob
import grp
import os
import pwd
import re
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.govops_checks import (
    SettingError,
    Settings,
    has_full_sudo,
    in_container,
    run,
    sshd_settings,
    sudo_rules,
)
from ansible.module_utils.govops_dengbao import DengbaoCheckList, control_verdicts, verdict_summary

# Every check this module can report; tests/test_hardening_catalog.py compares
# this tuple with the catalog and with the calls below.
CHECK_IDS = (
    "hardening.unique_accounts",
    "hardening.uid0",
    "hardening.empty_passwords",
    "hardening.pwquality",
    "hardening.password_aging",
    "hardening.password_history",
    "hardening.faillock",
    "hardening.tmout",
    "hardening.ssh_session",
    "hardening.ssh_crypto",
    "hardening.cleartext_remote",
    "hardening.ssh_key_auth",
    "hardening.sod_accounts",
    "hardening.ssh_root_login",
    "hardening.system_account_shells",
    "hardening.accounts_absent",
    "hardening.inactive_lock",
    "hardening.sod_sudo",
    "hardening.full_sudo_accounts",
    "hardening.su_wheel",
    "hardening.critical_files",
    "hardening.umask",
    "hardening.auditd_service",
    "hardening.audit_rules",
    "hardening.auditd_conf",
    "hardening.log_forward",
    "hardening.log_retention",
    "hardening.log_permissions",
    "hardening.audit_protection",
    "hardening.packages_absent",
    "hardening.services_disabled",
    "hardening.high_risk_ports",
    "hardening.kernel_modules_disabled",
    "hardening.ssh_access",
    "hardening.pending_updates",
    "hardening.aide",
    "hardening.shell_history",
    "hardening.core_dumps",
    "hardening.tmp_cleanup",
)

# The role variables the checks read, and how (Settings: int, bool, list, dict,
# str). No defaults here: roles/hardening/defaults/main.yml and vars/main.yml
# are the only source; tests/test_check_settings.py checks that the role defines
# every name and that this module reads exactly these.
SETTINGS = {
    "hardening_pwquality_minlen": "int",
    "hardening_pwquality_minclass": "int",
    "hardening_password_max_days": "int",
    "hardening_password_min_days": "int",
    "hardening_password_warn_days": "int",
    "hardening_password_remember": "int",
    "hardening_password_aging_exempt": "list",
    "hardening_password_inactive_days": "int",
    "hardening_faillock_deny": "int",
    "hardening_faillock_unlock_time": "int",
    "hardening_faillock_even_deny_root": "bool",
    "hardening_session_timeout": "int",
    "hardening_ssh_client_alive_interval": "int",
    "hardening_ssh_client_alive_count_max": "int",
    "hardening_ssh_max_auth_tries": "int",
    "hardening_ssh_ciphers": "list",
    "hardening_ssh_macs": "list",
    "hardening_ssh_kex": "list",
    "hardening_ssh_allow_groups": "list",
    "hardening_system_accounts_with_shell": "list",
    "hardening_accounts_absent": "list",
    "hardening_sod_roles": "list",
    "__hardening_sod_accounts": "list",
    "hardening_sod_full_sudo_accounts": "list",
    "hardening_su_group": "str",
    "hardening_critical_files": "list",
    "hardening_umask": "str",
    "__hardening_audit_rules_file": "str",
    "hardening_auditd_settings": "dict",
    "hardening_log_remote_host": "str",
    "__hardening_rsyslog_forward": "str",
    "hardening_log_retention_days": "int",
    "hardening_packages_absent": "list",
    "hardening_services_disabled": "list",
    "hardening_kernel_modules_disabled": "list",
    "hardening_high_risk_ports": "list",
    "hardening_high_risk_ports_allowed": "list",
    "hardening_aide_enabled": "bool",
    "hardening_shell_history_size": "int",
    "hardening_tmp_max_age": "str",
}

NOLOGIN = re.compile(r"(nologin|false)$")
WEAK_ALGORITHMS = re.compile(r"(cbc|arcfour|3des|md5|sha1(?!\d)|group1-|group14-sha1|-96)", re.IGNORECASE)
CLEARTEXT_PORTS = {21: "ftp", 23: "telnet", 512: "rexec", 513: "rlogin", 514: "rsh"}
REQUIRED_AUDIT_RULES = (
    ("-w /etc/passwd -p wa -k identity", "identity"),
    ("-w /etc/shadow -p wa -k identity", "identity"),
    ("-w /etc/group -p wa -k identity", "identity"),
    ("-w /etc/gshadow -p wa -k identity", "identity"),
    ("-w /var/run/faillock -p wa -k logins", "logins"),
    ("-w /etc/sudoers -p wa -k scope", "privileges"),
    ("-F path=/usr/bin/sudo -F perm=x", "privileged commands"),
    ("-k time-change", "time changes"),
    ("-k modules", "kernel modules"),
)


# --- small readers ---------------------------------------------------------
def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def active_lines(text):
    return [line.strip() for line in (text or "").splitlines() if line.strip() and not line.strip().startswith("#")]


def key_values(text, sep="="):
    """key = value and bare flags of a config file (keys lower-cased)."""
    values = {}
    for line in active_lines(text):
        if sep in line:
            key, _, value = line.partition(sep)
            values[key.strip().lower()] = value.strip()
        else:
            values[line.split()[0].lower()] = True
    return values


def login_defs():
    values = {}
    for line in active_lines(read("/etc/login.defs")):
        words = line.split()
        if len(words) >= 2:
            values[words[0]] = words[1]
    return values


def to_int(value, default=None):
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def login_shell(command):
    """Run a command in a real login shell of root (reads /etc/profile.d)."""
    return run(["/bin/bash", "-l", "-c", command])


def passwd_entries():
    entries = []
    for line in (read("/etc/passwd") or "").splitlines():
        fields = line.split(":")
        if len(fields) >= 7:
            entries.append(fields)
    return entries


def shadow_entries():
    entries = {}
    for line in (read("/etc/shadow") or "").splitlines():
        fields = line.split(":")
        if len(fields) >= 8:
            entries[fields[0]] = fields
    return entries


def installed_packages(names):
    if not names:
        return []
    _rc, out, _err = run(["dpkg-query", "-W", "-f", "${Package} ${db:Status-Abbrev}\n", *names])
    return sorted({line.split()[0] for line in out.splitlines() if len(line.split()) >= 2 and line.split()[1] == "ii"})


def listening_ports():
    _rc, out, _err = run(["ss", "-Hlntu"])
    found = {}
    for line in out.splitlines():
        words = line.split()
        if len(words) >= 5:
            port = to_int(words[4].rsplit(":", 1)[-1])
            if port is not None:
                found.setdefault(port, set()).add(f"{words[0]} {words[4]}")
    return found


# --- 8.1.4.1-a identities and passwords -------------------------------------
def check_identities(checks):
    entries = passwd_entries()
    names = [fields[0] for fields in entries]
    uids = [fields[2] for fields in entries]
    dup_names = sorted({name for name in names if names.count(name) > 1})
    dup_uids = sorted({uid for uid in uids if uids.count(uid) > 1})
    checks.verdict(
        "hardening.unique_accounts",
        "身份标识唯一",
        "Unique user identities",
        not dup_names and not dup_uids,
        f"/etc/passwd: {len(entries)} accounts; duplicate names: {', '.join(dup_names) or 'none'}; "
        f"duplicate UIDs: {', '.join(dup_uids) or 'none'}",
        len(entries),
        "give each account its own name and UID (by hand; the role stops until then)",
    )
    uid0 = [fields[0] for fields in entries if fields[2] == "0"]
    checks.verdict(
        "hardening.uid0",
        "仅 root 拥有 UID 0",
        "Only root has UID 0",
        uid0 == ["root"],
        f"UID 0 accounts: {', '.join(uid0)}",
        len(uid0),
        "remove UID 0 from every account but root (by hand)",
    )


def check_empty_passwords(checks):
    shadow = shadow_entries()
    empty = sorted(name for name, fields in shadow.items() if fields[1] == "")
    nullok = [
        line for line in active_lines(read("/etc/pam.d/common-auth")) if "pam_unix.so" in line and "nullok" in line
    ]
    problems = []
    if not shadow:
        problems.append("/etc/shadow unreadable")
    if empty:
        problems.append(f"empty password: {', '.join(empty)}")
    if nullok:
        problems.append(f"common-auth allows empty passwords: {nullok[0]}")
    checks.verdict(
        "hardening.empty_passwords",
        "无空口令账户",
        "No account with an empty password",
        not problems,
        "; ".join(problems) or f"{len(shadow)} shadow entries, none empty; pam_unix without nullok",
        len(empty),
        "lock the accounts with an empty password (passwd -l) and drop nullok from pam_unix in common-auth",
    )


def check_pwquality(checks, role):
    text = "\n".join(
        filter(
            None,
            [read("/etc/security/pwquality.conf")]
            + [read(p) for p in sorted(glob.glob("/etc/security/pwquality.conf.d/*.conf"))],
        )
    )
    conf = key_values(text)
    stack = [line for line in active_lines(read("/etc/pam.d/common-password")) if "pam_pwquality.so" in line]
    minlen = to_int(conf.get("minlen"), 0)
    minclass = to_int(conf.get("minclass"), 0)
    wanted_minlen = role.integer("hardening_pwquality_minlen")
    wanted_minclass = role.integer("hardening_pwquality_minclass")
    problems = []
    if minlen < wanted_minlen:
        problems.append(f"minlen {minlen} < {wanted_minlen} (hardening_pwquality_minlen)")
    if minclass < wanted_minclass:
        problems.append(f"minclass {minclass} < {wanted_minclass} (hardening_pwquality_minclass)")
    if "enforce_for_root" not in conf:
        problems.append("enforce_for_root missing")
    if not stack:
        problems.append("pam_pwquality.so not in /etc/pam.d/common-password")
    checks.verdict(
        "hardening.pwquality",
        "口令复杂度",
        "Password complexity",
        not problems,
        "; ".join(problems)
        or f"pwquality.conf minlen={minlen} minclass={minclass} enforce_for_root; common-password: {stack[0]}",
        f"minlen={minlen} minclass={minclass}",
        f"set minlen {wanted_minlen}, minclass {wanted_minclass}, "
        "enforce_for_root "
        "in /etc/security/pwquality.conf and pam_pwquality.so in common-password",
    )


def check_password_aging(checks, role):
    defs = login_defs()
    max_days = role.integer("hardening_password_max_days")
    min_days = role.integer("hardening_password_min_days")
    warn_days = role.integer("hardening_password_warn_days")
    problems = []
    if to_int(defs.get("PASS_MAX_DAYS"), 99999) > max_days:
        problems.append(f"login.defs PASS_MAX_DAYS {defs.get('PASS_MAX_DAYS')} > {max_days}")
    if to_int(defs.get("PASS_MIN_DAYS"), 0) < min_days:
        problems.append(f"login.defs PASS_MIN_DAYS {defs.get('PASS_MIN_DAYS')} < {min_days}")
    if to_int(defs.get("PASS_WARN_AGE"), 0) < warn_days:
        problems.append(f"login.defs PASS_WARN_AGE {defs.get('PASS_WARN_AGE')} < {warn_days}")
    exempt = set(role.items("hardening_password_aging_exempt"))
    unaged = []
    for name, fields in sorted(shadow_entries().items()):
        if name in exempt or not fields[1] or fields[1][0] in "!*":
            continue
        if to_int(fields[4], 99999) > max_days:
            unaged.append(f"{name} (max {fields[4] or 'none'})")
    if unaged:
        problems.append(f"accounts with a password that never expires in time: {', '.join(unaged)}")
    checks.verdict(
        "hardening.password_aging",
        "口令定期更换",
        "Passwords expire regularly",
        not problems,
        "; ".join(problems)
        or f"login.defs PASS_MAX_DAYS {defs.get('PASS_MAX_DAYS')} PASS_MIN_DAYS {defs.get('PASS_MIN_DAYS')} "
        f"PASS_WARN_AGE {defs.get('PASS_WARN_AGE')}; every account with a password expires within {max_days} days",
        defs.get("PASS_MAX_DAYS"),
        f"set PASS_MAX_DAYS {max_days}, PASS_MIN_DAYS {min_days}, PASS_WARN_AGE {warn_days} "
        "and chage the accounts listed",
    )


def check_password_history(checks, role):
    wanted = role.integer("hardening_password_remember")
    lines = [line for line in active_lines(read("/etc/pam.d/common-password")) if "pam_pwhistory.so" in line]
    remember = 0
    for line in lines:
        match = re.search(r"remember=(\d+)", line)
        remember = max(remember, int(match.group(1)) if match else 10)
    history = read("/etc/security/pwhistory.conf")
    if history:
        remember = max(remember, to_int(key_values(history).get("remember"), 0)) if lines else remember
    checks.verdict(
        "hardening.password_history",
        "口令历史",
        "Password history",
        bool(lines) and remember >= wanted,
        f"common-password: {lines[0] if lines else 'no pam_pwhistory.so'}",
        remember,
        f"add 'password requisite pam_pwhistory.so remember={wanted} enforce_for_root use_authtok' before pam_unix",
    )


# --- 8.1.4.1-b lockout and timeouts -----------------------------------------
def check_faillock(checks, role):
    conf = key_values(read("/etc/security/faillock.conf"))
    auth = active_lines(read("/etc/pam.d/common-auth"))
    account = active_lines(read("/etc/pam.d/common-account"))
    # pam_faillock's own defaults when faillock.conf does not set them (man faillock.conf).
    deny = to_int(conf.get("deny"), 3)
    unlock = to_int(conf.get("unlock_time"), 600)
    wanted_deny = role.integer("hardening_faillock_deny")
    wanted_unlock = role.integer("hardening_faillock_unlock_time")
    problems = []
    if not any("pam_faillock.so" in line and "preauth" in line for line in auth):
        problems.append("common-auth lacks pam_faillock.so preauth")
    if not any("pam_faillock.so" in line and "authfail" in line for line in auth):
        problems.append("common-auth lacks pam_faillock.so authfail")
    if not any("pam_faillock.so" in line for line in account):
        problems.append("common-account lacks pam_faillock.so")
    if deny > wanted_deny or deny < 1:
        problems.append(f"deny={deny} (expected 1-{wanted_deny}, hardening_faillock_deny)")
    if 0 < unlock < wanted_unlock:
        problems.append(f"unlock_time={unlock} < {wanted_unlock} (hardening_faillock_unlock_time)")
    if role.flag("hardening_faillock_even_deny_root") and "even_deny_root" not in conf:
        problems.append("even_deny_root missing")
    checks.verdict(
        "hardening.faillock",
        "登录失败锁定",
        "Account lockout after failed logins",
        not problems,
        "; ".join(problems)
        or f"faillock.conf deny={deny} unlock_time={unlock} even_deny_root; "
        "pam_faillock in common-auth and common-account",
        f"deny={deny} unlock_time={unlock}",
        f"faillock.conf deny={wanted_deny} unlock_time={wanted_unlock} "
        "even_deny_root and pam_faillock preauth/authfail around pam_unix",
    )


def check_tmout(checks, role):
    limit = role.integer("hardening_session_timeout")
    _rc, out, _err = login_shell("printf '%s\\n' \"${TMOUT:-unset}\"; readonly -p | grep -c ' TMOUT=' || true")
    lines = out.split()
    value = to_int(lines[0]) if lines else None
    readonly = len(lines) > 1 and lines[1] != "0"
    checks.verdict(
        "hardening.tmout",
        "会话超时自动退出",
        "Idle login shells time out",
        value is not None and 0 < value <= limit and readonly,
        f"bash -l: TMOUT={lines[0] if lines else 'unset'}, "
        f"{'readonly' if readonly else 'not readonly'} (limit {limit} s)",
        value,
        f"set readonly TMOUT={limit} in /etc/profile.d/govops-tmout.sh",
    )


def check_ssh_session(checks, role, sshd):
    # sshd's own defaults when sshd -T does not print them (sshd_config(5)).
    interval = to_int(sshd.get("clientaliveinterval"), 0)
    count = to_int(sshd.get("clientalivecountmax"), 3)
    tries = to_int(sshd.get("maxauthtries"), 6)
    idle = interval * count
    wanted_interval = role.integer("hardening_ssh_client_alive_interval")
    wanted_count = role.integer("hardening_ssh_client_alive_count_max")
    wanted_tries = role.integer("hardening_ssh_max_auth_tries")
    limit = wanted_interval * wanted_count
    problems = []
    if interval <= 0:
        problems.append("clientaliveinterval 0: idle sessions are never ended")
    elif idle > limit:
        problems.append(
            f"idle sessions end after {idle} s, more than the role's {limit} s "
            f"(hardening_ssh_client_alive_interval {wanted_interval} x hardening_ssh_client_alive_count_max "
            f"{wanted_count})"
        )
    if tries > wanted_tries:
        problems.append(f"maxauthtries {tries} > {wanted_tries} (hardening_ssh_max_auth_tries)")
    checks.verdict(
        "hardening.ssh_session",
        "SSH 空闲断开与尝试次数",
        "SSH idle disconnect and auth tries",
        not problems,
        "; ".join(problems)
        or f"sshd -T: clientaliveinterval {interval}, clientalivecountmax {count} (idle sessions end after {idle} s, "
        f"limit {limit} s), maxauthtries {tries} (limit {wanted_tries}), logingracetime {sshd.get('logingracetime')}",
        f"{idle} s",
        f"ClientAliveInterval {wanted_interval}, ClientAliveCountMax {wanted_count}, MaxAuthTries {wanted_tries}",
    )


# --- 8.1.4.1-c/d SSH crypto and authentication ------------------------------
def check_ssh_crypto(checks, role, sshd):
    problems = []
    measured = {}
    for key, wanted_key in (
        ("ciphers", "hardening_ssh_ciphers"),
        ("macs", "hardening_ssh_macs"),
        ("kexalgorithms", "hardening_ssh_kex"),
    ):
        offered = [algo for algo in sshd.get(key, "").split(",") if algo]
        measured[key] = len(offered)
        weak = [algo for algo in offered if WEAK_ALGORITHMS.search(algo)]
        wanted = role.items(wanted_key)
        extra = [algo for algo in offered if algo not in wanted]
        if not wanted:
            problems.append(f"{key}: no approved list ({wanted_key} is empty)")
        if not offered:
            problems.append(f"{key}: not found in sshd -T")
        if weak:
            problems.append(f"{key} offers weak {', '.join(weak)}")
        if extra and not weak:
            problems.append(f"{key} offers {', '.join(extra)} beyond the approved list")
    checks.verdict(
        "hardening.ssh_crypto",
        "SSH 加密算法",
        "SSH ciphers, MACs and key exchange",
        not problems,
        "; ".join(problems)
        or f"sshd -T: ciphers {sshd.get('ciphers')}; macs {sshd.get('macs')}; "
        f"kexalgorithms {sshd.get('kexalgorithms')}",
        measured,
        "set Ciphers, MACs and KexAlgorithms to the approved lists (sshd_config.d/00-govops-crypto.conf)",
    )


def check_cleartext_remote(checks, ports, role):
    listening = {
        f"{name}/{port}: {', '.join(sorted(ports[port]))}" for port, name in CLEARTEXT_PORTS.items() if port in ports
    }
    packages = installed_packages(
        [p for p in role.items("hardening_packages_absent") if re.search(r"telnet|rsh|rlogin|ftp", p)]
    )
    checks.verdict(
        "hardening.cleartext_remote",
        "无明文远程管理",
        "No clear-text remote administration",
        not listening and not packages,
        f"listening: {'; '.join(sorted(listening)) or 'no ftp/telnet/rsh/rlogin port'}; "
        f"installed: {', '.join(packages) or 'no telnet/rsh/ftp server package'}",
        len(listening) + len(packages),
        "purge the clear-text servers (telnetd, rsh-server, ...) and administer over SSH only",
    )


def check_ssh_key_auth(checks, sshd):
    pubkey = sshd.get("pubkeyauthentication")
    pw_login_setting = sshd.get("passwordauthentication")
    methods = sshd.get("authenticationmethods", "any")
    kbd = sshd.get("kbdinteractiveauthentication", "no")
    empty = sshd.get("permitemptypasswords")
    no_passwords = pw_login_setting == "no" and kbd == "no"
    key_required = no_passwords or ("publickey" in methods and methods != "any")
    ok = pubkey == "yes" and key_required and empty == "no"
    checks.verdict(
        "hardening.ssh_key_auth",
        "SSH 密钥(密码技术)鉴别",
        "SSH key-based (cryptographic) authentication",
        ok,
        f"sshd -T: pubkeyauthentication {pubkey}, passwordauthentication {pw_login_setting}, "
        f"kbdinteractiveauthentication {kbd}, "
        f"authenticationmethods {methods}, permitemptypasswords {empty}",
        methods,
        "PubkeyAuthentication yes, PasswordAuthentication no (or AuthenticationMethods publickey,password)",
    )


# --- 8.1.4.2 access control --------------------------------------------------
def check_sod_accounts(checks, role):
    accounts = [a for a in role.items("__hardening_sod_accounts") if a["state"] == "present"]
    groups = [item.get("group") for item in role.items("hardening_sod_roles")]
    problems = []
    for group in groups:
        try:
            grp.getgrnam(group)
        except KeyError:
            problems.append(f"group {group} missing")
    covered = set()
    for account in accounts:
        try:
            entry = pwd.getpwnam(account["name"])
        except KeyError:
            problems.append(f"{account['name']} missing")
            continue
        try:
            if entry.pw_gid != grp.getgrnam(account.get("group", "")).gr_gid:
                problems.append(f"{account['name']} not in group {account.get('group')}")
            else:
                covered.add(account.get("group"))
        except KeyError:
            pass
        keys = active_lines(read(os.path.join(entry.pw_dir, ".ssh", "authorized_keys")))
        if not keys:
            problems.append(f"{account['name']} has no authorized key")
    uncovered = [group for group in groups if group not in covered]
    status = "fail" if problems else ("warn" if uncovered else "pass")
    checks.add(
        "hardening.sod_accounts",
        "管理员账户分配(三权分立)",
        "Administrator accounts per role (separation of duties)",
        status,
        "; ".join(problems)
        or (
            f"accounts: {', '.join(a['name'] + '/' + a.get('group', '') for a in accounts) or 'none'}"
            + (f"; no account yet for role(s) {', '.join(uncovered)}" if uncovered else "")
        ),
        len(accounts),
        "create the accounts of hardening_sod_accounts (one per person, key only) for every role",
    )


def check_root_login(checks, sshd):
    value = sshd.get("permitrootlogin")
    status = (
        "pass"
        if value == "no"
        else ("warn" if value in ("prohibit-password", "without-password", "forced-commands-only") else "fail")
    )
    checks.add(
        "hardening.ssh_root_login",
        "禁止 root 远程登录",
        "root cannot log in over SSH",
        status,
        f"sshd -T: permitrootlogin {value}",
        value,
        "PermitRootLogin no (sshd_config.d/00-govops-root.conf); administer through named accounts and sudo",
    )


def check_system_shells(checks, role):
    allowed = set(role.items("hardening_system_accounts_with_shell"))
    offenders = [
        f"{f[0]} ({f[6]})"
        for f in passwd_entries()
        if to_int(f[2], 0) < 1000 and f[0] not in allowed and not NOLOGIN.search(f[6])
    ]
    checks.verdict(
        "hardening.system_account_shells",
        "系统账户无登录 shell",
        "System accounts have no login shell",
        not offenders,
        f"system accounts with a login shell: {', '.join(offenders) or 'none'}",
        len(offenders),
        "set /usr/sbin/nologin as the shell of the accounts listed",
    )


def check_accounts_absent(checks, role):
    absent = role.items("hardening_accounts_absent")
    present = [f[0] for f in passwd_entries() if f[0] in set(absent)]
    checks.verdict(
        "hardening.accounts_absent",
        "多余账户已删除",
        "Surplus accounts removed",
        not present,
        f"listed for removal: {', '.join(absent) or 'none'}; still present: {', '.join(present) or 'none'}",
        len(present),
        f"remove {', '.join(present)}",
    )


def check_inactive(checks, role):
    wanted = role.integer("hardening_password_inactive_days")
    value = to_int(key_values(read("/etc/default/useradd")).get("inactive"), -1)
    checks.verdict(
        "hardening.inactive_lock",
        "过期账户自动停用",
        "Expired accounts lock",
        0 <= value <= wanted,
        f"/etc/default/useradd INACTIVE={value if value >= 0 else 'unset (never)'}",
        value,
        f"INACTIVE={wanted} in /etc/default/useradd",
    )


def check_sod_sudo(checks, role):
    problems = []
    granted = []
    roles = {item.get("group"): item for item in role.items("hardening_sod_roles")}
    rules_file = read("/etc/sudoers.d/govops-sod") or ""
    for group in roles:
        if not re.search(rf"^%{re.escape(group)}\s", rules_file, re.MULTILINE):
            problems.append(f"no rule for %{group} in /etc/sudoers.d/govops-sod")
    for account in role.items("__hardening_sod_accounts"):
        if account["state"] != "present" or account.get("group") not in roles:
            continue
        rules = sudo_rules(account["name"])
        commands = [c.split()[0] for c in roles[account["group"]].get("commands") or []]
        missing = [c for c in commands if c not in rules]
        if has_full_sudo(rules):
            problems.append(f"{account['name']} has full sudo (ALL)")
        if missing:
            problems.append(f"{account['name']} lacks {', '.join(missing)}")
        granted.append(f"{account['name']}: {len(commands) - len(missing)}/{len(commands)} role commands")
    rc, out, err = run(["/usr/sbin/visudo", "-c"])
    if rc != 0:
        problems.append(f"visudo -c: {(out + err).strip()}")
    checks.verdict(
        "hardening.sod_sudo",
        "最小权限 sudo 规则",
        "Least-privilege sudo rules per role",
        not problems,
        "; ".join(problems) or f"sudo -l per account: {'; '.join(granted) or 'no role accounts yet'}; visudo -c ok",
        len(granted),
        "install the per-role allow-lists in /etc/sudoers.d/govops-sod; give no role account ALL",
    )


def check_full_sudo(checks, role):
    approved = set(role.items("hardening_sod_full_sudo_accounts"))
    full = []
    for fields in passwd_entries():
        if fields[0] == "root" or NOLOGIN.search(fields[6]) or fields[6].endswith("/sync"):
            continue
        if has_full_sudo(sudo_rules(fields[0])):
            full.append(fields[0])
    unapproved = [name for name in full if name not in approved]
    checks.add(
        "hardening.full_sudo_accounts",
        "全权 sudo 账户受控",
        "Full-sudo accounts are approved",
        "warn" if unapproved else "pass",
        f"full sudo (ALL): {', '.join(full) or 'none'}; approved: {', '.join(sorted(approved)) or 'none'}"
        + (f"; not approved: {', '.join(unapproved)}" if unapproved else ""),
        len(full),
        "take ALL away from the accounts listed, or approve them in hardening_sod_full_sudo_accounts",
    )


def check_su_wheel(checks, role):
    group = role.text("hardening_su_group")
    lines = [
        line
        for line in active_lines(read("/etc/pam.d/su"))
        if "pam_wheel.so" in line and "deny" not in line and "trust" not in line
    ]
    ok_line = any(re.search(r"^auth\s+required\s+pam_wheel\.so", line) and f"group={group}" in line for line in lines)
    try:
        members = grp.getgrnam(group).gr_mem
        exists = True
    except KeyError:
        members, exists = [], False
    checks.verdict(
        "hardening.su_wheel",
        "su 仅限特定组",
        f"su limited to group {group}",
        ok_line and exists,
        f"/etc/pam.d/su: {lines[0] if lines else 'no pam_wheel.so line'}; group {group}: "
        f"{'members ' + ', '.join(members) if members else ('no members' if exists else 'missing')}",
        len(members),
        f"auth required pam_wheel.so group={group} use_uid in /etc/pam.d/su",
    )


def owner_name(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def group_name(gid):
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def check_critical_files(checks, role, container=False):
    """Every file of hardening_critical_files exists with its owner, group and a mode no wider than listed.

    A missing file is a failure (what cannot be seen cannot be judged), with
    one exception that a container cannot show: files under /boot belong to
    the boot loader of a VM or a physical host, and a container has none; there
    they are reported as 部分符合 (warn), never as a pass.
    """
    items = role.items("hardening_critical_files")
    problems, missing, no_boot, seen = [], [], [], 0
    for item in items:
        lacking = [key for key in ("path", "mode", "owner", "group") if not item.get(key)]
        if lacking:
            raise SettingError(f"hardening_critical_files item {item!r} lacks {', '.join(lacking)}")
        path = item["path"]
        try:
            st = os.stat(path)
        except OSError as exc:
            if container and path.startswith("/boot/"):
                no_boot.append(path)
            else:
                missing.append(f"{path} ({exc.strerror})")
            continue
        seen += 1
        mode = stat.S_IMODE(st.st_mode)
        wanted = int(str(item["mode"]), 8)
        owner, group = owner_name(st.st_uid), group_name(st.st_gid)
        if mode & ~wanted:
            problems.append(f"{path} mode {oct(mode)} wider than {oct(wanted)}")
        if owner != item["owner"] or group != item["group"]:
            problems.append(f"{path} owned {owner}:{group}, expected {item['owner']}:{item['group']}")
    if not items:
        problems.append("no critical files to check (hardening_critical_files is empty)")
    if missing:
        problems.append(f"missing: {', '.join(missing)}")
    status = "fail" if problems else ("warn" if no_boot else "pass")
    evidence = "; ".join(problems) or f"{seen}/{len(items)} critical files with the owner, group and mode listed"
    if no_boot:
        evidence += (
            f"; container: {', '.join(no_boot)} not present (no boot loader in a container; "
            "checked on a VM or physical host)"
        )
    checks.add(
        "hardening.critical_files",
        "重要文件权限",
        "Critical file permissions",
        status,
        evidence,
        seen,
        "chown/chmod the files listed to the values of hardening_critical_files; a file that is missing must be "
        "restored, or taken out of hardening_critical_files for hosts that do not have it",
    )


def check_umask(checks, role):
    wanted_text = role.text("hardening_umask")
    wanted = int(wanted_text, 8)
    _rc, out, _err = login_shell("umask")
    value = to_int(out.strip() or None, None)
    actual = int(out.strip(), 8) if out.strip().isdigit() else None
    defs = login_defs().get("UMASK", "unset")
    ok = actual is not None and actual & wanted == wanted
    checks.verdict(
        "hardening.umask",
        "默认 umask",
        "Default umask",
        ok,
        f"bash -l: umask {out.strip() or '?'}; login.defs UMASK {defs} (required at least {oct(wanted)})",
        out.strip() if value is not None else None,
        f"umask {wanted_text} in /etc/profile.d/govops-umask.sh and UMASK in login.defs",
    )


# --- 8.1.4.3 audit -------------------------------------------------------------
def check_auditd_service(checks, container):
    _rc, enabled, _err = run(["systemctl", "is-enabled", "auditd"])
    rc, active, _err = run(["systemctl", "is-active", "auditd"])
    enabled, active = enabled.strip(), active.strip()
    if rc == 0 and enabled == "enabled":
        status, note = "pass", ""
    elif container and enabled == "enabled":
        status, note = (
            "warn",
            "; container: auditd cannot run without CAP_AUDIT_CONTROL (host kernel); enabled for a VM",
        )
    else:
        status, note = "fail", ""
    checks.add(
        "hardening.auditd_service",
        "审计服务运行",
        "auditd is running",
        status,
        f"systemctl: auditd {enabled}, {active}{note}",
        active,
        "install auditd, enable and start it",
    )


def check_audit_rules(checks, role, container):
    path = role.text("__hardening_audit_rules_file")
    persistent = read(path) or ""
    compiled = read("/etc/audit/audit.rules") or ""
    missing = [what for rule, what in REQUIRED_AUDIT_RULES if rule not in persistent]
    not_compiled = [what for rule, what in REQUIRED_AUDIT_RULES if rule not in compiled]
    rc, loaded, err = run(["/usr/sbin/auditctl", "-l"])
    runtime_ok = rc == 0 and "-w /etc/passwd -p wa -k identity" in loaded
    found = f"{path}: {len(active_lines(persistent))} rules"
    if missing or not_compiled:
        status = "fail"
        evidence = (
            f"{found}; missing in {path}: {', '.join(sorted(set(missing))) or 'none'}; "
            f"not in /etc/audit/audit.rules: {', '.join(sorted(set(not_compiled))) or 'none'}"
        )
    elif runtime_ok:
        status = "pass"
        evidence = (
            f"{found}, compiled into /etc/audit/audit.rules and loaded "
            f"(auditctl -l: {len(loaded.splitlines())} rules, incl. -w /etc/passwd -p wa -k identity)"
        )
    elif container:
        status = "warn"
        evidence = (
            f"{found} incl. '-w /etc/passwd -p wa -k identity', compiled into /etc/audit/audit.rules "
            "(persistent config verified); "
            "NOT loaded: auditd cannot load rules in an unprivileged container (auditctl: "
            f"{(err or loaded).strip()[:80] or 'no rules'}) - runtime not verified"
        )
    else:
        status = "fail"
        evidence = f"{found}; rules not loaded in the kernel (auditctl -l: {(err or loaded).strip()[:120]})"
    checks.add(
        "hardening.audit_rules",
        "审计规则(身份、登录、特权、时间、模块)",
        "Audit rules (identity, logins, privileges, time, modules)",
        status,
        evidence,
        len(active_lines(persistent)),
        f"write {path} and load it (augenrules --load)",
    )


def check_auditd_conf(checks, role):
    conf = key_values(read("/etc/audit/auditd.conf"))
    wanted = role.mapping("hardening_auditd_settings")
    wrong = [] if wanted else ["no auditd.conf settings to compare with (hardening_auditd_settings is empty)"]
    wrong += [
        f"{k}={conf.get(k.lower())} (want {v})"
        for k, v in wanted.items()
        if str(conf.get(k.lower(), "")).lower() != str(v).lower()
    ]
    checks.verdict(
        "hardening.auditd_conf",
        "审计记录内容与存储",
        "Audit record content and storage",
        not wrong,
        "; ".join(wrong) or "auditd.conf: " + ", ".join(f"{k}={conf.get(k.lower())}" for k in wanted),
        conf.get("log_format"),
        "set " + ", ".join(f"{k} = {v}" for k, v in wanted.items()) + " in /etc/audit/auditd.conf",
    )


def check_audit_protection(checks, container):
    problems = []
    _rc, out, _err = run(["systemctl", "show", "auditd", "-p", "RefuseManualStop"])
    if "RefuseManualStop=yes" not in out:
        problems.append(f"auditd {out.strip() or 'RefuseManualStop unknown'}")
    for tool in ("auditctl", "auditd", "ausearch", "aureport", "augenrules"):
        path = f"/usr/sbin/{tool}"
        if os.path.exists(path) and stat.S_IMODE(os.stat(path).st_mode) & 0o007:
            problems.append(f"{path} usable by other users ({oct(stat.S_IMODE(os.stat(path).st_mode))})")
    if os.path.isdir("/var/log/audit") and stat.S_IMODE(os.stat("/var/log/audit").st_mode) & 0o027:
        problems.append(f"/var/log/audit mode {oct(stat.S_IMODE(os.stat('/var/log/audit').st_mode))}")
    immutable = os.path.exists("/etc/audit/rules.d/99-govops-immutable.rules")
    checks.verdict(
        "hardening.audit_protection",
        "审计进程保护",
        "Audit process protected",
        not problems,
        "; ".join(problems)
        or "auditd RefuseManualStop=yes; audit tools root-only; /var/log/audit root-only; immutable rules "
        + ("on (-e 2)" if immutable else "off (hardening_audit_immutable)")
        + ("; container: auditd does not run here" if container else ""),
        "immutable" if immutable else "mutable",
        "auditd unit drop-in RefuseManualStop=yes, chmod 0750 the audit tools, chmod 0700 /var/log/audit",
    )


def check_log_forward(checks, role):
    host = role.text("hardening_log_remote_host")
    path = role.text("__hardening_rsyslog_forward")
    _rc, active, _err = run(["systemctl", "is-active", "rsyslog"])
    if not host:
        checks.add(
            "hardening.log_forward",
            "日志转发至日志服务器",
            "Logs forwarded to the log host",
            "warn",
            f"no log host configured (hardening_log_remote_host is empty); rsyslog {active.strip()}, local files only",
            None,
            "set hardening_log_remote_host to the log host / SOC collector",
        )
        return
    text = read(path) or ""
    rc, out, err = run(["/usr/sbin/rsyslogd", "-N1"])
    ok = f'target="{host}"' in text and rc == 0 and active.strip() == "active"
    checks.verdict(
        "hardening.log_forward",
        "日志转发至日志服务器",
        "Logs forwarded to the log host",
        ok,
        f"{path}: {'forwards to ' + host if host in text else 'no forwarding to ' + host}; "
        f"rsyslogd -N1 rc={rc}; rsyslog {active.strip()}" + ("" if rc == 0 else f"; {(out + err).strip()[:120]}"),
        host,
        f"forward *.* to {host} with a disk-assisted queue ({path})",
    )


def check_log_retention(checks, role):
    wanted = role.integer("hardening_log_retention_days")
    text = read("/etc/logrotate.d/rsyslog") or ""
    words = " ".join(active_lines(text)).split()
    rotate = to_int(words[words.index("rotate") + 1], 0) if "rotate" in words else 0
    period = next((p for p in ("daily", "weekly", "monthly", "yearly") if p in words), "weekly")
    days = rotate * {"daily": 1, "weekly": 7, "monthly": 30, "yearly": 365}[period]
    checks.verdict(
        "hardening.log_retention",
        "日志保存期限",
        f"Logs kept at least {wanted} days",
        days >= wanted,
        f"/etc/logrotate.d/rsyslog: {period}, rotate {rotate} = {days} days (required {wanted})",
        days,
        f"rotate the rsyslog files daily and keep {wanted} of them",
    )


def check_log_permissions(checks):
    _rc, out, _err = run(["find", "/var/log", "-xdev", "-type", "f", "-perm", "/0007"])
    files = out.split()
    checks.verdict(
        "hardening.log_permissions",
        "日志文件权限",
        "Log file permissions",
        not files,
        f"files under /var/log readable or writable by others: {', '.join(files[:10]) or 'none'}"
        + (" ..." if len(files) > 10 else ""),
        len(files),
        "chmod o-rwx the files listed; rsyslog $FileCreateMode 0640",
    )


# --- 8.1.4.4 intrusion prevention -----------------------------------------------
def check_packages_absent(checks, role):
    unwanted = role.items("hardening_packages_absent")
    present = installed_packages(unwanted)
    checks.verdict(
        "hardening.packages_absent",
        "最小安装",
        "Minimal installation",
        not present,
        f"unneeded packages installed: {', '.join(present) or 'none'} (of {len(unwanted)} checked)",
        len(present),
        f"apt-get purge {' '.join(present)}",
    )


def check_services(checks, role):
    running = []
    services = role.items("hardening_services_disabled")
    for name in services:
        _rc, enabled, _err = run(["systemctl", "is-enabled", name])
        _rc, active, _err = run(["systemctl", "is-active", name])
        if enabled.strip() in ("enabled", "static") or active.strip() == "active":
            running.append(f"{name} ({enabled.strip()}, {active.strip()})")
    checks.verdict(
        "hardening.services_disabled",
        "关闭不需要的服务",
        "Unneeded services disabled",
        not running,
        f"enabled or running: {', '.join(running) or 'none'} (of {len(services)} checked)",
        len(running),
        "systemctl disable --now the services listed",
    )


def blocked_modules(texts):
    """Modules that modprobe may not load: "install <module> /bin/false" (or /bin/true) lines."""
    blocked = set()
    for text in texts:
        for line in text.splitlines():
            words = line.split("#", 1)[0].split()
            if len(words) >= 3 and words[0] == "install" and words[2] in ("/bin/false", "/bin/true", "/usr/bin/false"):
                blocked.add(words[1].replace("-", "_"))
    return blocked


def check_kernel_modules(
    checks, role, container=False, modprobe_dirs=("/etc/modprobe.d", "/usr/lib/modprobe.d", "/lib/modprobe.d")
):
    texts = []
    for directory in modprobe_dirs:
        for path in sorted(glob.glob(os.path.join(directory, "*.conf"))):
            try:
                with open(path, encoding="utf-8", errors="replace") as handle:
                    texts.append(handle.read())
            except OSError:
                continue
    blocked = blocked_modules(texts)
    try:
        with open("/proc/modules", encoding="utf-8") as handle:
            loaded = {line.split()[0] for line in handle if line.strip()}
    except OSError:
        loaded = set()
    wanted = [name.replace("-", "_") for name in role.items("hardening_kernel_modules_disabled")]
    loadable = [name for name in wanted if name not in blocked]
    in_kernel = [name for name in wanted if name in loaded]
    if loadable:
        status = "fail"
    elif in_kernel:
        # A container shares the host's kernel: it can neither load nor unload
        # modules; what is loaded is the host's business (checked there).
        status = "warn" if container else "fail"
    else:
        status = "pass"
    checks.add(
        "hardening.kernel_modules_disabled",
        "不需要的网络协议内核模块不可加载",
        "Kernel modules of unused network protocols cannot be loaded",
        status,
        f"modprobe.d blocks {len(wanted) - len(loadable)}/{len(wanted)} "
        f"({', '.join(sorted(blocked & set(wanted))) or 'none'}); "
        f"loadable: {', '.join(loadable) or 'none'}; loaded in the kernel now: {', '.join(in_kernel) or 'none'}"
        + ("; container: the host's kernel" if container and in_kernel else ""),
        len(loadable) + len(in_kernel),
        "install <module> /bin/false in /etc/modprobe.d/govops-disabled-modules.conf; rmmod a loaded one or reboot",
    )


def check_high_risk_ports(checks, role, ports):
    allowed = {int(port) for port in role.items("hardening_high_risk_ports_allowed")}
    watched = sorted({int(port) for port in role.items("hardening_high_risk_ports")} - allowed)
    risky = sorted(set(watched) & set(ports))
    checks.verdict(
        "hardening.high_risk_ports",
        "高危端口未开放",
        "No high-risk port open",
        not risky,
        "ss -lntu: "
        + (
            "; ".join(f"{port}: {', '.join(sorted(ports[port]))}" for port in risky)
            or f"no listener on the {len(watched)} high-risk ports"
        )
        + (f"; allowed here: {', '.join(str(p) for p in sorted(allowed))}" if allowed else "")
        + f" (listening ports: {', '.join(str(p) for p in sorted(ports)) or 'none'})",
        risky,
        "stop the services behind the ports listed, or allow them in hardening_high_risk_ports_allowed",
    )


def check_ssh_access(checks, role, sshd):
    groups = sshd.get("allowgroups", "")
    wanted = role.items("hardening_ssh_allow_groups")
    banner = sshd.get("banner", "none")
    problems = []
    if banner in ("", "none"):
        problems.append("no banner")
    if wanted and sorted(groups.split()) != sorted(wanted):
        problems.append(f"allowgroups '{groups}' is not the role's hardening_ssh_allow_groups {' '.join(wanted)}")
    status = "fail" if problems else ("pass" if groups else "warn")
    checks.add(
        "hardening.ssh_access",
        "管理终端接入限制",
        "Management access restricted",
        status,
        ("; ".join(problems) + "; " if problems else "")
        + f"sshd -T: allowgroups {groups or 'not set (any account may log in)'}; banner {banner}; "
        f"x11forwarding {sshd.get('x11forwarding')}; allowagentforwarding {sshd.get('allowagentforwarding')}"
        + ("; source addresses are limited by the network firewall / bastion (interview)" if status == "pass" else ""),
        groups or None,
        "set hardening_ssh_allow_groups to the management groups; Banner /etc/issue.net",
    )


def check_pending_updates(checks):
    rc, out, err = run(["apt-get", "-s", "-o", "Debug::NoLocking=1", "dist-upgrade"], timeout=120)
    pending = [line for line in out.splitlines() if line.startswith("Inst ")]
    security = [line for line in pending if "security" in line.lower()]
    periodic = os.path.exists("/etc/apt/apt.conf.d/20govops-periodic")
    if rc != 0:
        status, evidence = "warn", f"apt-get -s dist-upgrade failed: {err.strip()[:120]}"
    else:
        status = "pass" if not pending and periodic else "warn"
        evidence = (
            f"apt-get -s dist-upgrade: {len(pending)} pending update(s), {len(security)} from security"
            + (f" (e.g. {pending[0][5:60]})" if pending else "")
            + f"; daily list refresh {'on' if periodic else 'off'}"
        )
    checks.add(
        "hardening.pending_updates",
        "已知漏洞补丁",
        "Known vulnerabilities patched",
        status,
        evidence,
        len(pending),
        "apply the pending updates through the tested patching change",
    )


def check_aide(checks, role):
    if not role.flag("hardening_aide_enabled"):
        checks.add(
            "hardening.aide",
            "文件完整性检测(AIDE)",
            "File integrity monitoring (AIDE)",
            "warn",
            "AIDE not enabled (hardening_aide_enabled: false); "
            "intrusion detection relies on audit records and the log host",
            None,
            "set hardening_aide_enabled: true (first database build takes minutes)",
        )
        return
    db = os.path.exists("/var/lib/aide/aide.db")
    _rc, timer, _err = run(["systemctl", "is-enabled", "dailyaidecheck.timer"])
    checks.verdict(
        "hardening.aide",
        "文件完整性检测(AIDE)",
        "File integrity monitoring (AIDE)",
        db and timer.strip() == "enabled",
        f"/var/lib/aide/aide.db {'present' if db else 'missing'}; dailyaidecheck.timer {timer.strip()}",
        db,
        "aideinit, and enable dailyaidecheck.timer",
    )


# --- 8.1.4.10 residual information ----------------------------------------------
def check_shell_history(checks, role):
    wanted = role.integer("hardening_shell_history_size")
    _rc, out, _err = login_shell('printf "%s %s\\n" "${HISTSIZE:-unset}" "${HISTFILESIZE:-unset}"')
    words = out.split()
    size = to_int(words[0]) if words else None
    filesize = to_int(words[1]) if len(words) > 1 else None
    checks.verdict(
        "hardening.shell_history",
        "命令历史受限",
        "Shell history bounded",
        size is not None and filesize is not None and 0 < size <= wanted and 0 < filesize <= wanted,
        f"bash -l: HISTSIZE={words[0] if words else '?'} "
        f"HISTFILESIZE={words[1] if len(words) > 1 else '?'} (limit {wanted})",
        filesize,
        f"HISTSIZE/HISTFILESIZE={wanted} in /etc/profile.d/govops-history.sh",
    )


def check_core_dumps(checks, container):
    limits = " ".join(active_lines(read("/etc/security/limits.d/govops-core.conf")))
    limit_ok = bool(re.search(r"\*\s+hard\s+core\s+0", limits))
    persistent = "\n".join(filter(None, (read(p) for p in sorted(glob.glob("/etc/sysctl.d/*.conf")))))
    persistent_ok = bool(re.search(r"^\s*fs\.suid_dumpable\s*=\s*0\s*$", persistent, re.MULTILINE))
    runtime = (read("/proc/sys/fs/suid_dumpable") or "?").strip()
    evidence = (
        f"limits.d: {'* hard core 0' if limit_ok else 'no hard core 0'}; /etc/sysctl.d: fs.suid_dumpable "
        f"{'= 0' if persistent_ok else 'not set'}; runtime fs.suid_dumpable = {runtime}"
    )
    if limit_ok and persistent_ok and runtime == "0":
        status = "pass"
    elif limit_ok and persistent_ok and container:
        status = "warn"
        evidence += (
            " (container: fs.suid_dumpable is the host kernel's and cannot be set here; persistent config verified)"
        )
    else:
        status = "fail"
    checks.add(
        "hardening.core_dumps",
        "禁止核心转储",
        "No core dumps",
        status,
        evidence,
        runtime,
        "'* hard core 0' in limits.d and fs.suid_dumpable = 0 in /etc/sysctl.d",
    )


def check_tmp_cleanup(checks, role):
    wanted = role.text("hardening_tmp_max_age")
    text = " ".join(active_lines(read("/etc/tmpfiles.d/tmp.conf")))
    lines = [line for line in active_lines(read("/etc/tmpfiles.d/tmp.conf")) if line.split()[1:2] == ["/tmp"]]  # noqa: S108 - reads the config
    age = lines[0].split()[5] if lines and len(lines[0].split()) >= 6 else None
    aged = age not in (None, "-", "")
    _rc, timer, _err = run(["systemctl", "is-enabled", "systemd-tmpfiles-clean.timer"])
    checks.verdict(
        "hardening.tmp_cleanup",
        "临时文件定期清除",
        "Temporary files cleaned by age",
        aged and age == wanted and timer.strip() in ("enabled", "static"),
        f"/etc/tmpfiles.d/tmp.conf: {text or 'missing'} (/tmp age {age or 'none'}, hardening_tmp_max_age {wanted}); "
        f"systemd-tmpfiles-clean.timer {timer.strip()}",
        age if aged else None,
        f"D /tmp 1777 root root {wanted} in /etc/tmpfiles.d/tmp.conf",
    )


def run_checks(checks, role):
    container = in_container()
    _rc, sshd, _error = sshd_settings()
    ports = listening_ports()
    check_identities(checks)
    check_empty_passwords(checks)
    check_pwquality(checks, role)
    check_password_aging(checks, role)
    check_password_history(checks, role)
    check_faillock(checks, role)
    check_tmout(checks, role)
    check_ssh_session(checks, role, sshd)
    check_ssh_crypto(checks, role, sshd)
    check_cleartext_remote(checks, ports, role)
    check_ssh_key_auth(checks, sshd)
    check_sod_accounts(checks, role)
    check_root_login(checks, sshd)
    check_system_shells(checks, role)
    check_accounts_absent(checks, role)
    check_inactive(checks, role)
    check_sod_sudo(checks, role)
    check_full_sudo(checks, role)
    check_su_wheel(checks, role)
    check_critical_files(checks, role, container)
    check_umask(checks, role)
    check_auditd_service(checks, container)
    check_audit_rules(checks, role, container)
    check_auditd_conf(checks, role)
    check_log_forward(checks, role)
    check_log_retention(checks, role)
    check_log_permissions(checks)
    check_audit_protection(checks, container)
    check_packages_absent(checks, role)
    check_services(checks, role)
    check_high_risk_ports(checks, role, ports)
    check_kernel_modules(checks, role, container)
    check_ssh_access(checks, role, sshd)
    check_pending_updates(checks)
    check_aide(checks, role)
    check_shell_history(checks, role)
    check_core_dumps(checks, container)
    check_tmp_cleanup(checks, role)


def main():
    module = AnsibleModule(
        argument_spec={
            "catalog": {"type": "list", "elements": "dict", "required": True},
            "exceptions": {"type": "list", "elements": "dict", "default": []},
            "today": {"type": "str"},
            "settings": {"type": "dict", "required": True},
        },
        supports_check_mode=True,
    )
    params = module.params
    role = Settings(params["settings"], SETTINGS)
    problems = role.problems()
    if problems:
        module.fail_json(
            msg=f"dengbao_check: {'; '.join(problems)}. Fix: pass the role's variables by their own names "
            "(roles/hardening/tasks/verify.yml builds settings from every hardening_* variable); the module has "
            "no defaults of its own.",
            missing=role.missing(),
        )
    checks = DengbaoCheckList(params["catalog"], params["exceptions"])
    try:
        run_checks(checks, role)
    except SettingError as exc:
        module.fail_json(msg=f"dengbao_check: {exc}. Fix: correct the role variable named.")
    controls = control_verdicts(params["catalog"], checks.checks, params["exceptions"])
    module.exit_json(changed=False, controls=controls, verdicts=verdict_summary(controls), **checks.result())


if __name__ == "__main__":
    main()
