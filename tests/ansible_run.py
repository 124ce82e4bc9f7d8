"""Run a playbook against a local-connection inventory with the project's settings and read each host's result.

The one way the unit tests run ansible-playbook: the tests that prove a refusal
(tests/test_bad_inventory.py, tests/test_input_rules.py, tests/test_patching_gate.py),
the ones that run a role's tasks for real on this host (tests/test_check_settings.py,
tests/test_no_secrets_in_environment.py) and tests/test_molecule_verify.py. Every
host of such an inventory is the control host itself (connection local, no become:
local_vars()); a case is a host with its own variables, so that one ansible-playbook
run covers several cases and each host's failure is read back on its own. Results are
printed one per line as JSON (callback_result_format json), so messages are never
wrapped. Extra arguments (-vvv, --tags, -e ...) and environment variables (a PATH
with a fake command first, ANSIBLE_LIBRARY ...) are the caller's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
PLAYBOOK = shutil.which("ansible-playbook", path=str(Path(sys.executable).parent)) or "ansible-playbook"
# "fatal: [host]: FAILED! => {...}", "failed: [host] (item=...) => {...}", "fatal: [host -> localhost]: ..."
RESULT = re.compile(r"^(?:fatal|failed): \[(?P<host>[^\]]+?)(?: -> [^\]]+)?\].*? => (?P<result>\{.*\})\s*$")
RECAP = re.compile(r"^(?P<host>\S+)\s+:\s+(?P<counts>(?:\w+=\d+\s*)+)$")


def local_vars(**extra) -> dict:
    """Inventory variables that make every host the control host."""
    return {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "ansible_become": False,
        **extra,
    }


@dataclass
class Run:
    rc: int
    out: str

    def failures(self, host: str) -> str:
        """Every failure message of one host, whitespace-normalised, in order."""
        messages = []
        for line in self.out.splitlines():
            match = RESULT.match(line)
            if not match or match.group("host") != host:
                continue
            try:
                result = json.loads(match.group("result"))
            except json.JSONDecodeError:
                messages.append(match.group("result"))
                continue
            messages.append(str(result.get("msg", result)))
        return " ".join(" ".join(messages).split())

    def recap(self, host: str) -> dict[str, int]:
        """The PLAY RECAP counts of one host (empty when the host is not in it)."""
        recap = self.out.split("PLAY RECAP", 1)[-1] if "PLAY RECAP" in self.out else ""
        for line in recap.splitlines():
            match = RECAP.match(line.strip())
            if match and match.group("host") == host:
                return {k: int(v) for k, v in (pair.split("=") for pair in match.group("counts").split())}
        return {}

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.out.splitlines()[-lines:])


def run_playbook(tmp_path: Path, inventory: dict, playbook: str | Path, *args: str, env: dict | None = None) -> Run:
    """ansible-playbook -i <inventory written to tmp_path> <playbook> <args>, from the repository root."""
    path = tmp_path / f"hosts-{len(list(tmp_path.glob('hosts-*.yml')))}.yml"
    path.write_text(yaml.safe_dump(inventory), encoding="utf-8")
    environment = dict(
        os.environ,
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_CACHE_PLUGIN="ansible.builtin.memory",
        ANSIBLE_GATHERING="explicit",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_CALLBACK_RESULT_FORMAT="json",
        ANSIBLE_DISPLAY_FAILED_STDERR="0",
    )
    # The run records of plugins/callback/govops_run_record.py stay with the test (unless it names a place).
    environment |= {"GOVOPS_RUN_RECORD_DIR": str(tmp_path / "run-records"), "GOVOPS_RUN_RECORD_SYSLOG": "false"}
    environment |= env or {}
    environment.pop("ANSIBLE_VAULT_IDENTITY_LIST", None)
    proc = subprocess.run(
        [PLAYBOOK, "-i", str(path), str(playbook), *args],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return Run(proc.returncode, proc.stdout + proc.stderr)
