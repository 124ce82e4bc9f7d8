# Shared building blocks for the acceptance-check modules in plugins/modules.
#
# Every check module returns the same structure, which the acceptance report
# (playbooks/acceptance.yml, plugins/filter/acceptance.py) prints and stores:
#
#   checks: [{id, title: {zh_CN, en}, status, evidence, measured}]
#   summary: {pass, fail, warn, skip, total}
#
# status is one of pass / fail / warn / skip. "evidence" says in words what was
# looked at; "measured" is the figure or value found (or None).
from __future__ import annotations

import json
import os
import re
import subprocess

STATUSES = ("pass", "fail", "warn", "skip")


class CheckList:
    """Collects check results in the order they were made."""

    def __init__(self) -> None:
        self.checks: list[dict] = []

    def add(self, check_id, title_zh, title_en, status, evidence, measured=None):
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
        self.checks.append(
            {
                "id": check_id,
                "title": {"zh_CN": title_zh, "en": title_en},
                "status": status,
                "evidence": evidence,
                "measured": measured,
            }
        )

    def verdict(self, check_id, title_zh, title_en, ok, evidence, measured=None):
        """Add a pass/fail check from a boolean."""
        self.add(check_id, title_zh, title_en, "pass" if ok else "fail", evidence, measured)

    def summary(self) -> dict:
        counts = {status: 0 for status in STATUSES}
        for check in self.checks:
            counts[check["status"]] += 1
        counts["total"] = len(self.checks)
        return counts

    def result(self) -> dict:
        return {"checks": self.checks, "summary": self.summary()}


def run(argv: list[str], timeout: int = 30) -> tuple[int, str, str]:
    """Run a read-only probe with a fixed locale; never raises on failure."""
    env = dict(os.environ, LANG="C", LC_ALL="C")
    try:
        proc = subprocess.run(  # noqa: S603 - argv lists built by the modules, no shell
            argv, capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
    except FileNotFoundError:
        return 127, "", f"{argv[0]}: not found"
    except subprocess.TimeoutExpired:
        return 124, "", f"{argv[0]}: timed out after {timeout}s"
    return proc.returncode, proc.stdout, proc.stderr


def in_container() -> bool:
    """True inside podman/docker/systemd-nspawn/lxc containers."""
    if os.path.exists("/run/.containerenv") or os.path.exists("/.dockerenv"):
        return True
    try:
        with open("/proc/1/environ", "rb") as handle:
            return b"container=" in handle.read()
    except OSError:
        return False


# --- probes that several check modules read the same way ------------------------
def psql_json(sql, port, os_user="postgres"):
    """(value, error): one JSON value that psql prints, asked as the cluster's OS account over the local socket.

    Peer authentication: no password anywhere. value is None when psql failed
    (error is its message) or printed something that is not JSON.
    """
    argv = ["runuser", "-u", os_user, "--", "psql", "-X", "-A", "-t", "-q", "-p", str(port), "-d", "postgres"]
    rc, out, err = run([*argv, "-c", sql])
    if rc != 0:
        return None, (err or out).strip()
    try:
        return json.loads(out), ""
    except ValueError as exc:
        return None, f"unreadable answer: {exc}"


def unit_properties(text):
    """`systemctl show -p A -p B unit` output -> {A: value, B: value}."""
    return dict(line.partition("=")[::2] for line in text.splitlines() if "=" in line)


def unit_state(text):
    """`systemctl show -p Result -p ExecMainExitTimestamp` output -> (ran, result)."""
    fields = unit_properties(text)
    return bool(fields.get("ExecMainExitTimestamp")), fields.get("Result", "unknown")


def timers_verdict(checks, check_id, title_zh, title_en, timers):
    """One check: every systemd timer of `timers` is active. No timer to look at is a fail, never a pass."""
    inactive = []
    for timer in timers:
        _rc, state, _err = run(["systemctl", "is-active", timer])
        if state.strip() != "active":
            inactive.append(f"{timer} {state.strip() or 'unknown'}")
    active = len(timers) - len(inactive)
    checks.verdict(
        check_id,
        title_zh,
        title_en,
        bool(timers) and not inactive,
        f"{active}/{len(timers)} timers active"
        + (f"; not active: {', '.join(inactive)}" if inactive else "")
        + ("" if timers else ": no timer was named, nothing to judge"),
        active,
    )


def last_run(checks, check_id, title_zh, title_en, unit):
    """One check: the last run of a scheduled service unit succeeded (warn while it has not run yet)."""
    _rc, shown, _err = run(["systemctl", "show", "-p", "Result", "-p", "ExecMainExitTimestamp", unit])
    ran, result = unit_state(shown)
    checks.add(
        check_id,
        title_zh,
        title_en,
        ("pass" if result == "success" else "fail") if ran else "warn",
        f"{unit}: Result={result}, last run "
        + (unit_properties(shown).get("ExecMainExitTimestamp") or "never (first run on its schedule)"),
        result if ran else None,
    )


# sshd -T prints these once per value ("allowgroups ops", "allowgroups sysadm"): joined with spaces.
SSHD_LIST_KEYWORDS = ("allowgroups", "allowusers", "denygroups", "denyusers")


def parse_sshd_settings(text):
    """`sshd -T` output -> {keyword: value}: keywords lower-cased, the first value wins, list keywords joined."""
    settings = {}
    for line in text.splitlines():
        key, _, value = line.strip().partition(" ")
        key, value = key.lower(), value.strip()
        if key in SSHD_LIST_KEYWORDS and key in settings:
            settings[key] += f" {value}"
        elif key and key not in settings:
            settings[key] = value
    return settings


def sshd_settings(connection=None):
    """(rc, settings, error): the effective sshd configuration, `sshd -T` (`-C connection` when given).

    error is what sshd said when it failed (rc not 0), else ''.
    """
    rc, out, err = run(["/usr/sbin/sshd", "-T", *(["-C", connection] if connection else [])])
    return rc, parse_sshd_settings(out), "" if rc == 0 else (err or out).strip()


def sudo_rules(name):
    """The rules `sudo -l -U name` lists for an account ('' when none, or when sudo could not say)."""
    rc, out, _err = run(["sudo", "-n", "-l", "-U", name])
    marker = "may run the following commands"
    return out.split(marker, 1)[1] if rc == 0 and marker in out else ""


def has_full_sudo(rules):
    """True when one of the rules of sudo_rules() grants ALL."""
    return any(re.search(r"\)\s+(NOPASSWD:\s*)?ALL\s*$", line) for line in rules.splitlines())


class SettingError(ValueError):
    """A role variable a check needs is missing or does not have the type the check reads it as."""


class MissingSetting(SettingError):
    """A check needs role variables that the caller did not pass."""

    def __init__(self, names) -> None:
        self.names = sorted(names)
        super().__init__(f"missing role variable(s): {', '.join(self.names)}")


def _integer(name, value):
    if isinstance(value, bool):
        raise SettingError(f"{name} must be an integer, not {value!r}")
    try:
        return int(str(value).strip())
    except ValueError:
        raise SettingError(f"{name} must be an integer, not {value!r}") from None


def _flag(name, value):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off"):
        return False
    raise SettingError(f"{name} must be a boolean, not {value!r}")


def _items(name, value):
    if value is None:
        return []
    if not isinstance(value, list):
        raise SettingError(f"{name} must be a list, not {value!r}")
    return value


def _mapping(name, value):
    if not isinstance(value, dict):
        raise SettingError(f"{name} must be a dict, not {value!r}")
    return value


def _text(_name, value):
    return "" if value is None else str(value)


SETTING_KINDS = {"int": _integer, "bool": _flag, "list": _items, "dict": _mapping, "str": _text}


class Settings:
    """The role's own variables as a check module received them, with no defaults of the module's own.

    A check module that judges a host against a role's settings judges it
    against exactly what the role applies: the role's variables are passed in
    by their own names (e.g. ``hardening_pwquality_minlen``) and the module
    reads them only through this class. ``spec`` maps every variable the
    module reads to its kind (int, bool, list, dict, str). problems() lists
    the declared variables that are missing or of the wrong kind, so the module
    can refuse before it probes anything; reading an undeclared name is a
    programming error (KeyError). Extra variables passed in are ignored.
    """

    def __init__(self, values, spec) -> None:
        unknown = sorted(kind for kind in spec.values() if kind not in SETTING_KINDS)
        if unknown:
            raise ValueError(f"unknown setting kind(s) {unknown}; use one of {sorted(SETTING_KINDS)}")
        self.values = dict(values or {})
        self.spec = dict(spec)

    def missing(self) -> list[str]:
        return sorted(name for name in self.spec if name not in self.values)

    def problems(self) -> list[str]:
        """Why the settings cannot be used: missing names first, then wrong kinds."""
        found = [f"missing role variable(s): {', '.join(self.missing())}"] if self.missing() else []
        for name in sorted(self.spec):
            if name in self.values:
                try:
                    self[name]
                except SettingError as exc:
                    found.append(str(exc))
        return found

    def __getitem__(self, name):
        if name not in self.spec:
            raise KeyError(f"{name} is not a declared setting of this check module")
        if name not in self.values:
            raise MissingSetting([name])
        return SETTING_KINDS[self.spec[name]](name, self.values[name])

    def _read(self, name, kind):
        if self.spec.get(name, kind) != kind:
            raise KeyError(f"{name} is declared as {self.spec[name]}, read as {kind}")
        return self[name]

    def integer(self, name) -> int:
        return self._read(name, "int")

    def flag(self, name) -> bool:
        return self._read(name, "bool")

    def items(self, name) -> list:
        return self._read(name, "list")

    def mapping(self, name) -> dict:
        return self._read(name, "dict")

    def text(self, name) -> str:
        return self._read(name, "str")
