"""Secrets never travel in an Ansible ``environment:``.

Ansible writes a task's environment into the command it runs on the remote
host (``/bin/sh -c 'NAME=value ... /usr/bin/python3 ...'``): every local user
of that host sees it in ``ps`` while the task runs, and ``-vvv`` prints it on
the controller, whatever ``no_log`` says. So a password, a token or a vault
value must reach a remote process another way: a ``no_log`` module option, a
file only its owner can read (``.pgpass``, ``RESTIC_PASSWORD_FILE``), or
``stdin`` of ansible.builtin.command (it travels inside the module payload).

The scan reads every YAML file under roles/, playbooks/ and molecule/, finds
every ``environment:`` (play, block or task level) and judges its names and
values. An environment given as a variable (``environment: "{{ __redis_cli_env }}"``)
is resolved through every place a variable is defined: role vars and defaults,
inventories' group_vars and host_vars, Molecule's inventory, ``vars:`` and
``set_fact``. A value is a secret when any variable it refers to, directly or
through those definitions, is named like one (``vault_*``, ``*password*``,
``*_pass``, ``*passphrase*``, ``*secret*``, ``*token*``); a name such as
``*_password_file`` holds a path and is allowed, its definition is still
followed. An environment name is a secret carrier when it looks like one
(``PGPASSWORD``, ``REDISCLI_AUTH``, ``RESTIC_PASSWORD``, ``*_TOKEN``, ``*_KEY``...); names
ending in ``FILE``, ``_PATH`` or ``_DIR`` point to a file and are allowed
(``PGPASSFILE``, ``RESTIC_PASSWORD_FILE``).
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from ansible_run import local_vars, run_playbook

REPO = Path(__file__).resolve().parent.parent
SCANNED = ("roles", "playbooks", "molecule")
# Where variables are defined (for resolving an environment given by name).
DEFINED = (*SCANNED, "inventories")

# Variable names that hold a secret.
SECRET_VAR = re.compile(r"(^|_)vault_|^vault|password|passwd|passphrase|secret|token|_pass$|_pass_", re.IGNORECASE)
# ... unless the name says it is a path to a file that holds it.
PATH_VAR = re.compile(r"(_file|_files|_path|_dir|passfile)$", re.IGNORECASE)
# Environment names that carry a secret to the process.
SECRET_ENV = re.compile(
    r"PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|(^|_)AUTH$|^PGPASS|(^|_)PWD$|(^|_)PASS$|_KEY$",
    re.IGNORECASE,
)
PATH_ENV = re.compile(r"(FILE|_PATH|_DIR)$", re.IGNORECASE)
JINJA = re.compile(r"{{(.*?)}}|{%(.*?)%}", re.DOTALL)
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Jinja and Ansible words that are not variables.
NOT_VARIABLES = frozenset(
    {
        *("if", "else", "elif", "endif", "for", "endfor", "in", "is", "not", "and", "or", "set", "endset"),
        *("true", "false", "True", "False", "none", "None", "default", "d", "omit", "range", "dict", "list"),
        *("item", "lookup", "query", "q", "hostvars", "groups", "inventory_hostname", "vars"),
    }
)


class Vaulted(str):
    """An inline ``!vault`` value: a secret whatever its name."""


class _Loader(yaml.SafeLoader):
    """Ansible's YAML: ``!vault`` is a secret, ``!unsafe`` and other tags are plain values."""


def _tagged(loader, tag_suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        return Vaulted(value) if tag_suffix == "vault" else value
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


_Loader.add_multi_constructor("!", _tagged)


def parse_yaml(text: str) -> list:
    """Every document of a YAML text (Ansible files are one document, some files are several)."""
    return [doc for doc in yaml.load_all(text, Loader=_Loader) if doc is not None]


def load_yaml(path: Path) -> list:
    return parse_yaml(path.read_text(encoding="utf-8"))


@dataclass
class Definitions:
    """Every value each variable name is given anywhere in the repository (an over-approximation on purpose)."""

    values: dict[str, list] = field(default_factory=dict)

    def add(self, name, value) -> None:
        if isinstance(name, str):
            self.values.setdefault(name, []).append(value)

    def add_mapping(self, mapping) -> None:
        if isinstance(mapping, dict):
            for name, value in mapping.items():
                self.add(name, value)


def _walk(node):
    """Every mapping in a parsed YAML tree."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


SET_FACT = ("ansible.builtin.set_fact", "set_fact", "ansible.legacy.set_fact")


def collect_definitions(files: dict[Path, list]) -> Definitions:
    defs = Definitions()
    for path, docs in files.items():
        parts = path.relative_to(REPO).parts
        for doc in docs:
            if isinstance(doc, dict) and (
                {"vars", "defaults", "group_vars", "host_vars"} & set(parts[:-1]) or path.parent.name == "group_vars"
            ):
                defs.add_mapping(doc)
            if path.name == "molecule.yml" and isinstance(doc, dict):
                inventory = (doc.get("provisioner") or {}).get("inventory") or {}
                for scope in ("group_vars", "host_vars"):
                    for mapping in (inventory.get(scope) or {}).values():
                        defs.add_mapping(mapping)
            for mapping in _walk(doc):
                defs.add_mapping(mapping.get("vars"))
                for module in SET_FACT:
                    if isinstance(mapping.get(module), dict):
                        defs.add_mapping({k: v for k, v in mapping[module].items() if k != "cacheable"})
    return defs


def _names_in(text: str) -> set[str]:
    names = set()
    for match in JINJA.finditer(text):
        expression = match.group(1) or match.group(2) or ""
        names.update(n for n in IDENTIFIER.findall(expression) if n not in NOT_VARIABLES)
    return names


def is_secret_name(name: str) -> bool:
    return bool(SECRET_VAR.search(name)) and not PATH_VAR.search(name)


def secrets_in(value, defs: Definitions, seen: frozenset = frozenset()) -> list[str]:
    """Why a value (an environment value, or a whole environment mapping) carries a secret; empty if it does not."""
    if isinstance(value, Vaulted):
        return ["an inline !vault value"]
    if isinstance(value, dict):
        found = []
        for name, inner in value.items():
            if isinstance(name, str) and SECRET_ENV.search(name) and not PATH_ENV.search(name):
                found.append(f"environment name {name}")
            found += [f"{name}: {why}" for why in secrets_in(inner, defs, seen)]
        return found
    if isinstance(value, list):
        return [why for inner in value for why in secrets_in(inner, defs, seen)]
    if not isinstance(value, str):
        return []
    found = []
    for name in sorted(_names_in(value)):
        if is_secret_name(name):
            found.append(f"variable {name}")
        if name in defs.values and name not in seen:
            found += [f"{name} -> {why}" for d in defs.values[name] for why in secrets_in(d, defs, seen | {name})]
    return found


@dataclass
class Finding:
    path: Path
    where: str
    environment: object
    reasons: list[str]


def _label(mapping: dict) -> str:
    return str(mapping.get("name") or mapping.get("hosts") or "(unnamed)")


def unresolved(value, defs: Definitions) -> bool:
    """An environment given as a template none of whose variables is defined anywhere: it cannot be judged."""
    return isinstance(value, str) and not any(name in defs.values for name in _names_in(value))


def scan(files: dict[Path, list], defs: Definitions) -> tuple[int, list[Finding], list[Finding]]:
    """(environment blocks seen, those carrying a secret, those that cannot be judged)."""
    seen, bad, blind = 0, [], []
    for path, docs in files.items():
        for doc in docs:
            # Task lists and playbooks are lists; vars, defaults, argument specs and molecule.yml are mappings.
            if not isinstance(doc, list):
                continue
            for mapping in _walk(doc):
                if "environment" not in mapping:
                    continue
                seen += 1
                environment = mapping["environment"]
                reasons = list(dict.fromkeys(secrets_in(environment, defs)))
                if reasons:
                    bad.append(Finding(path, _label(mapping), environment, reasons))
                elif unresolved(environment, defs):
                    blind.append(Finding(path, _label(mapping), environment, ["no definition found"]))
    return seen, bad, blind


def repository_files() -> dict[Path, list]:
    files = {}
    for top in DEFINED:
        for path in sorted((REPO / top).rglob("*")):
            if path.suffix in {".yml", ".yaml"} and path.is_file() and "files" not in path.relative_to(REPO).parts:
                files[path] = load_yaml(path)
    return files


@pytest.fixture(scope="module")
def repository():
    files = repository_files()
    return files, collect_definitions(files)


def _report(findings: list[Finding]) -> str:
    return "\n".join(
        f"  {f.path.relative_to(REPO)}: '{f.where}': {f.environment!r}: {'; '.join(f.reasons)}" for f in findings
    )


def test_no_environment_carries_a_secret(repository):
    files, defs = repository
    scanned = {p: d for p, d in files.items() if p.relative_to(REPO).parts[0] in SCANNED}
    seen, bad, blind = scan(scanned, defs)
    # The scan must see what it judges: the repository has environment blocks (restic, psql, apt).
    assert seen >= 10, f"only {seen} environment blocks found: the scan does not read the task files"
    assert not bad, (
        "environment: is written into the remote `/bin/sh -c` command line (ps, -vvv), whatever no_log says.\n"
        "Fix: pass the secret as a no_log module option, in a 0600 file (PGPASSFILE, RESTIC_PASSWORD_FILE), "
        "or on stdin (ansible.builtin.command stdin:, redis-cli --askpass):\n" + _report(bad)
    )
    assert not blind, "environment given by a variable that is defined nowhere, cannot be judged:\n" + _report(blind)


# A secret moved out of the environment travels on stdin (redis-cli --askpass):
# stdin is a module option, shown with the task's invocation at -v and on
# failure unless the task (or its block or play) has no_log.
CHILDREN = ("block", "rescue", "always", "tasks", "pre_tasks", "post_tasks", "handlers")


def _is_true(value) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in {"true", "yes"})


def stdin_findings(files: dict[Path, list], defs: Definitions) -> tuple[int, list[Finding]]:
    """(commands that read a password from stdin, those that leak it or do not send it)."""
    seen, bad = 0, []

    def visit(node, path: Path, no_log: bool) -> None:
        nonlocal seen
        if isinstance(node, list):
            for item in node:
                visit(item, path, no_log)
            return
        if not isinstance(node, dict):
            return
        no_log = _is_true(node.get("no_log", no_log))
        for key in CHILDREN:
            if key in node:
                visit(node[key], path, no_log)
        for args in (v for k, v in node.items() if k not in CHILDREN and isinstance(v, dict)):
            argv, stdin = args.get("argv", args.get("cmd", "")), args.get("stdin")
            asks = "--askpass" in str(argv) or "__redis_cli_ops" in str(argv)
            carries = stdin is not None and bool(secrets_in(stdin, defs))
            if not (asks or carries):
                continue
            seen += 1
            reasons = []
            if asks and not carries:
                reasons.append("redis-cli --askpass without the password on stdin")
            if carries and not no_log:
                reasons.append("a password on stdin without no_log")
            if reasons:
                bad.append(Finding(path, _label(node), stdin, reasons))

    for path, docs in files.items():
        for doc in docs:
            if isinstance(doc, list):
                visit(doc, path, False)
    return seen, bad


def test_a_password_on_stdin_is_sent_and_never_logged(repository):
    files, defs = repository
    scanned = {p: d for p, d in files.items() if p.relative_to(REPO).parts[0] in SCANNED}
    seen, bad = stdin_findings(scanned, defs)
    # roles/redis and molecule/redis send the password on stdin to redis-cli --askpass.
    assert seen >= 20, f"only {seen} commands read a password from stdin: the scan does not see the redis tasks"
    assert not bad, 'Fix: stdin: "{{ <password> }}" on every --askpass call, and no_log: true:\n' + _report(bad)


@pytest.mark.parametrize(
    ("tasks_yaml", "expected"),
    [
        (
            "- ansible.builtin.command: {argv: [redis-cli, --askpass, PING], stdin: '{{ redis_ops_password }}'}",
            ["a password on stdin without no_log"],
        ),
        (
            "- ansible.builtin.command: {argv: '{{ __redis_cli_ops + [\"PING\"] }}'}\n  no_log: true",
            ["redis-cli --askpass without the password on stdin"],
        ),
        (
            "- block:\n  - ansible.builtin.command: {argv: [redis-cli, --askpass, PING], stdin: '{{ p_password }}'}\n"
            "  no_log: true",
            [],
        ),
        (
            "- ansible.builtin.command: {argv: [redis-cli, --askpass, PING], stdin: '{{ p_password }}'}\n"
            "  no_log: true",
            [],
        ),
    ],
)
def test_the_stdin_scan(tasks_yaml, expected):
    files = {REPO / "roles" / "x" / "tasks" / "main.yml": parse_yaml(tasks_yaml)}
    seen, bad = stdin_findings(files, Definitions())
    assert seen == 1
    assert [r for f in bad for r in f.reasons] == expected


# The detector itself, on small trees: it must catch each way a secret can
# reach an environment, and let paths through.
def _judge(tasks_yaml: str, vars_yaml: str = "{}") -> tuple[int, list[str], list[Finding]]:
    vars_path, tasks_path = REPO / "roles" / "x" / "vars" / "main.yml", REPO / "roles" / "x" / "tasks" / "main.yml"
    files = {
        vars_path: parse_yaml(vars_yaml),
        tasks_path: parse_yaml(tasks_yaml),
    }
    seen, bad, blind = scan(files, collect_definitions(files))
    return seen, [r for f in bad for r in f.reasons], blind


@pytest.mark.parametrize(
    ("tasks_yaml", "vars_yaml", "expected"),
    [
        ("- environment: {PGPASSWORD: x}", "{}", "environment name PGPASSWORD"),
        ("- environment: {REDISCLI_AUTH: '{{ redis_ops_password }}'}", "{}", "environment name REDISCLI_AUTH"),
        ("- environment: {REDISCLI_AUTH: '{{ redis_ops_password }}'}", "{}", "variable redis_ops_password"),
        ("- environment: {RESTIC_PASSWORD: '{{ p }}'}", "{}", "environment name RESTIC_PASSWORD"),
        ("- environment: {X: '{{ vault_db }}'}", "{}", "variable vault_db"),
        ("- environment: {X: '{{ hostvars[h].api_token }}'}", "{}", "variable api_token"),
        ("- environment: {X: '{{ pgbackrest_cipher_pass }}'}", "{}", "variable pgbackrest_cipher_pass"),
        ("- environment: {X: !vault '$ANSIBLE_VAULT;1.1;AES256'}", "{}", "an inline !vault value"),
        # Through a variable, as roles/redis did with __redis_cli_env.
        ("- environment: '{{ __env }}'", "__env: {REDISCLI_AUTH: '{{ redis_ops_password }}'}", "REDISCLI_AUTH"),
        (
            "- environment: {X: '{{ __a }}'}",
            "{__a: '{{ __b }}', __b: '{{ my_secret }}'}",
            "__a -> __b -> variable my_secret",
        ),
        # Play and block level.
        ("- hosts: all\n  environment: {PGPASSWORD: '{{ p }}'}\n  tasks: []", "{}", "PGPASSWORD"),
        ("- block: []\n  environment: {OPS_AUTH: '{{ x }}'}", "{}", "environment name OPS_AUTH"),
        ("- block:\n  - environment: {MYSQL_PWD: '{{ x }}'}", "{}", "environment name MYSQL_PWD"),
    ],
)
def test_the_scan_catches_a_secret(tasks_yaml, vars_yaml, expected):
    seen, reasons, _ = _judge(tasks_yaml, vars_yaml)
    assert seen == 1
    assert any(expected in reason for reason in reasons), reasons


@pytest.mark.parametrize(
    "tasks_yaml",
    [
        "- environment: {PGPASSFILE: /root/.pgpass, PGSSLMODE: require}",
        "- environment: {RESTIC_PASSWORD_FILE: '{{ __backup_files_password_file }}', RESTIC_REPOSITORY: sftp:r}",
        "- environment: {LC_ALL: C, NEEDRESTART_SUSPEND: '1'}",
        "- environment: {PGPASSFILE: '{{ __db_failover_passfile }}'}",
    ],
)
def test_the_scan_lets_paths_and_plain_settings_through(tasks_yaml):
    seen, reasons, blind = _judge(tasks_yaml)
    assert seen == 1
    assert reasons == []
    assert blind == []


def test_a_path_variable_is_still_followed_to_its_definition():
    _, reasons, _ = _judge(
        "- environment: {RESTIC_PASSWORD_FILE: '{{ __x_password_file }}'}", "__x_password_file: '{{ vault_restic }}'"
    )
    assert reasons == ["RESTIC_PASSWORD_FILE: __x_password_file -> variable vault_restic"]


def test_an_environment_variable_defined_nowhere_cannot_pass():
    seen, reasons, blind = _judge("- environment: '{{ __nowhere }}'")
    assert (seen, reasons) == (1, [])
    assert [f.reasons for f in blind] == [["no definition found"]]


# roles/db_failover's write check, run for real on this host with a psql that
# records what it was given: the password reaches it only through the file
# named by passfile= (0600), which parses back to the password and is gone
# afterwards; it is not in psql's argv, not in its environment, not in the log.
TRICKY_PASSWORD = "Xq:9\\z:Lm2-s3cr3t\\"  # noqa: S105 - a test value, ":" and "\\" to escape
FAKE_PSQL = """#!{python}
import json, os, re, stat, sys
found = re.search(r"passfile=(\\S+)", " ".join(sys.argv))
passfile = found.group(1) if found else None
content, mode = None, None
if passfile:
    with open(passfile, encoding="utf-8") as f:
        content = f.read()
    mode = stat.S_IMODE(os.stat(passfile).st_mode)
record = {{"argv": sys.argv[1:], "environ": dict(os.environ), "passfile": passfile, "mode": mode, "content": content}}
with open({record!r}, "w", encoding="utf-8") as f:
    json.dump(record, f)
print("f 4242 192.0.2.22/32")
"""
RESTART_APPS_PLAY = """
- name: the write check of a failover
  hosts: app1
  gather_facts: false
  tasks:
    - name: restart_apps.yml
      ansible.builtin.include_role:
        name: db_failover
        tasks_from: restart_apps.yml
      vars:
        db_failover_app_services: []
        db_failover_check_database: appdb
        db_failover_check_user: app
        db_failover_check_password: "{{ lookup('ansible.builtin.env', 'TEST_CHECK_PASSWORD') }}"
    - name: the result
      ansible.builtin.debug:
        msg: "WRITE ok={{ db_failover_write.ok }} server={{ db_failover_write.server }} xid={{ db_failover_write.xid }}"
"""


def _pgpass_fields(line: str) -> list[str]:
    """Split a .pgpass line the way libpq does: ':' separates, a backslash escapes the next character."""
    fields, current, escaped = [], "", False
    for char in line:
        if escaped:
            current, escaped = current + char, False
        elif char == "\\":
            escaped = True
        elif char == ":":
            fields, current = [*fields, current], ""
        else:
            current += char
    return [*fields, current]


def test_db_failover_write_check_reads_the_password_from_a_private_file(tmp_path):
    bindir, record = tmp_path / "bin", tmp_path / "psql.json"
    bindir.mkdir()
    psql = bindir / "psql"
    psql.write_text(FAKE_PSQL.format(python=sys.executable, record=str(record)), encoding="utf-8")
    psql.chmod(0o755)
    inventory = {
        "all": {
            "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
            "children": {
                "app": {"hosts": {"app1": {}}},
                "db_primary": {"hosts": {"db1": {"platform_address": "192.0.2.21"}}},
                "db_mirror": {"hosts": {"db2": {"platform_address": "192.0.2.22"}}},
            },
        }
    }
    (tmp_path / "play.yml").write_text(RESTART_APPS_PLAY, encoding="utf-8")
    env = {"PATH": f"{bindir}:{os.environ['PATH']}", "TEST_CHECK_PASSWORD": TRICKY_PASSWORD}
    run = run_playbook(tmp_path, inventory, tmp_path / "play.yml", "-vvv", env=env)
    out = run.out
    assert run.rc == 0, out[-3000:]
    seen = json.loads(record.read_text(encoding="utf-8"))
    # The write check judged the fake server's answer, so psql really ran with the file.
    assert "WRITE ok=True server=192.0.2.22 xid=4242" in out, out[-3000:]
    assert "PGPASSWORD" not in seen["environ"], "the password went through the environment (the remote sh -c line)"
    assert seen["passfile"], f"psql was not given a passfile= in its connection string: {seen['argv']}"
    assert seen["mode"] == 0o600
    assert _pgpass_fields(seen["content"].rstrip("\n")) == ["*", "*", "*", "app", TRICKY_PASSWORD]
    assert not Path(seen["passfile"]).exists(), "the password file outlived the check"
    assert not [arg for arg in seen["argv"] if TRICKY_PASSWORD in arg]
    # The fake psql's environment is the module's: TEST_CHECK_PASSWORD comes from this
    # test's controller environment (local connection), nothing else may hold it.
    assert not [
        name for name, value in seen["environ"].items() if TRICKY_PASSWORD in value and name != "TEST_CHECK_PASSWORD"
    ]
    # Nothing in the log, not even at -vvv (no_log on every task that holds it).
    assert TRICKY_PASSWORD not in out
    assert TRICKY_PASSWORD.replace("\\", "\\\\") not in out


# The premise, on this Ansible: an environment value is on the command line
# Ansible runs (printed at -vvv, visible in ps) even with no_log, while stdin
# travels in the module payload and no_log keeps it out of the output.
PREMISE_PLAY = """
- name: where an environment value and stdin go
  hosts: localhost
  gather_facts: false
  tasks:
    - name: a command with both, and no_log
      ansible.builtin.command:
        argv: [cat]
        stdin: stdin-marker-5b1e
      environment:
        PREMISE_VALUE: env-marker-9c2f
      no_log: true
"""


def test_environment_is_on_the_command_line_whatever_no_log_says(tmp_path):
    (tmp_path / "play.yml").write_text(PREMISE_PLAY, encoding="utf-8")
    inventory = {"all": {"hosts": {"localhost": local_vars()}}}
    run = run_playbook(tmp_path, inventory, tmp_path / "play.yml", "-vvv")
    out = run.out
    assert run.rc == 0, out[-3000:]
    executed = [line for line in out.splitlines() if "EXEC" in line]
    assert [line for line in executed if "PREMISE_VALUE=env-marker-9c2f" in line], executed
    assert "stdin-marker-5b1e" not in out


# roles/redis's redis-cli, run for real on this host against a redis-cli that
# records what it was given (tasks/keys.yml: a --cluster subcommand over TLS).
FAKE_REDIS_CLI = """#!{python}
import json, os, sys
first_line = sys.stdin.readline().rstrip("\\n") if "--askpass" in sys.argv else None
record = {{"argv": sys.argv[1:], "environ": dict(os.environ), "stdin_first_line": first_line}}
with open({record!r}, "w", encoding="utf-8") as f:
    json.dump(record, f)
print("127.0.0.1:7000 (abc...) -> 10 keys | 16384 slots | 1 slaves.")
print("[OK] 10 keys in 3 masters.")
"""
KEYS_PLAY = """
- name: the key count of a scale-out
  hosts: redis1
  gather_facts: false
  tasks:
    - name: keys.yml
      ansible.builtin.include_role:
        name: redis
        tasks_from: keys.yml
      vars:
        __redis_pkg: {cli: "{{ lookup('ansible.builtin.env', 'TEST_REDIS_CLI') }}"}
        __redis_key_phase: before
        __redis_seed: redis1
        __redis_seed_endpoint: 127.0.0.1:7000
        redis_tls_enabled: true
        redis_tls_ca_file: /etc/redis/tls/ca.crt
        redis_tls_cert_file: /etc/redis/tls/node.crt
        redis_tls_key_file: /etc/redis/tls/node.key
        redis_ops_password: "{{ lookup('ansible.builtin.env', 'TEST_OPS_PASSWORD') }}"
    - name: the result
      ansible.builtin.debug:
        msg: "KEYS {{ __redis_keys.before }}"
"""


def test_redis_cli_gets_the_password_on_stdin_with_tls_kept(tmp_path):
    password = "ops-Pa55w0rd-for-the-test"  # noqa: S105 - a test value
    cli, record = tmp_path / "redis-cli", tmp_path / "redis-cli.json"
    cli.write_text(FAKE_REDIS_CLI.format(python=sys.executable, record=str(record)), encoding="utf-8")
    cli.chmod(0o755)
    inventory = {
        "all": {
            "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
            "children": {"redis": {"hosts": {"redis1": {"platform_address": "127.0.0.1"}}}},
        }
    }
    (tmp_path / "play.yml").write_text(KEYS_PLAY, encoding="utf-8")
    env = {"TEST_REDIS_CLI": str(cli), "TEST_OPS_PASSWORD": password}
    run = run_playbook(tmp_path, inventory, tmp_path / "play.yml", "-vvv", env=env)
    out = run.out
    assert run.rc == 0, out[-3000:]
    seen = json.loads(record.read_text(encoding="utf-8"))
    assert "REDISCLI_AUTH" not in seen["environ"], "the password went through the environment (the remote sh -c line)"
    assert seen["stdin_first_line"] == password, f"redis-cli did not get the password on stdin: {seen['argv']}"
    assert password not in seen["argv"]
    # As redis-cli parses it: options (TLS, user, --askpass) first, then the cluster subcommand.
    assert seen["argv"] == [
        "--tls",
        "--cacert",
        "/etc/redis/tls/ca.crt",
        "--cert",
        "/etc/redis/tls/node.crt",
        "--key",
        "/etc/redis/tls/node.key",
        "--user",
        "ops",
        "--askpass",
        "--cluster",
        "info",
        "127.0.0.1:7000",
    ]
    assert "KEYS [10, 3]" in out
    assert password not in out
