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

import os
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
