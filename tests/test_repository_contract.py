"""The layout every role and scenario builds on (docs/layout.md), checked so it cannot drift."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from check_harness import run_module
from fake_servers import FakePostgres, db_proxy_check_args, redis_check_args, redis_instance

REPO = Path(__file__).resolve().parent.parent
ROLES = sorted(p.name for p in (REPO / "roles").iterdir() if p.is_dir())
CHECK_MODULES = sorted((REPO / "plugins" / "modules").glob("*.py"))


def load(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("role", ROLES)
def test_every_public_default_is_documented_in_argument_specs(role):
    entry_points = load(REPO / "roles" / role / "meta" / "argument_specs.yml")["argument_specs"]
    # Roles run step by step (tasks_from only, e.g. db_restore_drill) share one
    # option set across their entry points and have no main; the first one counts.
    specs = (entry_points.get("main") or next(iter(entry_points.values())))["options"]
    defaults_file = REPO / "roles" / role / "defaults" / "main.yml"
    defaults = load(defaults_file) or {} if defaults_file.exists() else {}
    undocumented = sorted(set(defaults) - set(specs))
    assert not undocumented, f"roles/{role}: add {undocumented} to meta/argument_specs.yml"
    badly_named = sorted(name for name in specs if not name.startswith(f"{role}_"))
    assert not badly_named, f"roles/{role}: public variables must start with '{role}_': {badly_named}"
    internal = sorted(name for name in defaults if name.startswith("__"))
    assert not internal, f"roles/{role}: internal variables {internal} belong in vars/main.yml"


def _with_imports(path: Path) -> str:
    """A playbook's text plus the text of the playbooks it imports (one level)."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    for imported in re.findall(r"import_playbook:\s*(\S+)", text):
        target = (path.parent / imported).resolve()
        if target.is_file():
            text += target.read_text(encoding="utf-8")
    return text


def _site_roles() -> set[str]:
    return set(re.findall(r"role: (\w+)", _with_imports(REPO / "playbooks" / "site.yml")))


@pytest.mark.parametrize("role", ROLES)
def test_every_role_has_a_molecule_scenario_and_a_verify(role):
    # A role is proven by a scenario that converges it (role: X, itself or in
    # an imported playbook) or, for an operation such as a restore drill, runs
    # it in verify (include_role name: X).
    scenarios = [p.parent for p in (REPO / "molecule").glob("*/molecule.yml")]
    converged = [s.name for s in scenarios if re.search(rf"role: {role}\b", _with_imports(s / "converge.yml"))]
    exercised = [s.name for s in scenarios if re.search(rf"name: {role}\b", _with_imports(s / "verify.yml"))]
    assert converged or exercised, f"roles/{role} is converged or run by no molecule scenario; add molecule/{role}/"
    # What site.yml applies is checked by the acceptance report: it needs its checks.
    if role in _site_roles():
        assert (REPO / "roles" / role / "tasks" / "verify.yml").exists(), f"roles/{role}/tasks/verify.yml is missing"


@pytest.mark.parametrize("role", ROLES)
def test_role_meta_names_the_namespace(role):
    info = load(REPO / "roles" / role / "meta" / "main.yml")["galaxy_info"]
    assert info["namespace"] == "govops" and info["role_name"] == role


@pytest.mark.parametrize("path", CHECK_MODULES, ids=lambda p: p.stem)
def test_modules_are_documented(path):
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    names = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if hasattr(t, "id")}
    for block in ("DOCUMENTATION", "EXAMPLES", "RETURN"):
        assert block in names, f"{path.name} has no {block}"
    doc = yaml.safe_load(
        ast.literal_eval(
            next(
                n.value
                for n in tree.body
                if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "DOCUMENTATION"
            )
        )
    )
    assert doc["module"] == path.stem


# --- check mode: every module runs against a fixture and changes nothing -------
# Each case gives a module the arguments of a realistic call and answers its
# probes (tests/check_harness.py runs main() in-process with Ansible's own
# argument handling, records every command and refuses every file write).
# Asserted for each: changed is false, no file write was attempted, every
# command it ran is one of the read-only probes below, and it reported checks.


def _sql_is_read_only(sql):
    return re.match(r"\s*(SELECT|WITH)\b", sql, re.IGNORECASE) is not None and ";" not in sql.strip().rstrip(";")


def _script_is_read_only(script):
    """A login-shell probe: only commands that print (printf, readonly -p, grep -c, umask, true), no redirection."""
    if re.search(r"[>`]|\$\(", script):
        return False
    commands = [part.split()[0] for part in re.split(r"\|\||;|\|", script) if part.split()]
    return all(command in ("printf", "readonly", "grep", "umask", "true") for command in commands)


READ_ONLY_PROBES = {
    "systemctl": lambda a: a[1] in ("is-active", "is-enabled", "show"),
    "sshd": lambda a: a[1] == "-T",
    "sudo": lambda a: a[1:3] == ["-n", "-l"],
    "dpkg-query": lambda a: a[1] == "-W",
    "dpkg": lambda a: a[1:] == ["--audit"],
    "apt-get": lambda a: "-s" in a,
    "ss": lambda a: a[1].startswith("-H"),
    "find": lambda a: not {"-delete", "-exec", "-execdir", "-ok", "-okdir", "-fprint", "-fprintf", "-fls"} & set(a),
    "visudo": lambda a: a[1:] == ["-c"],
    "date": lambda a: all(arg.startswith("+") for arg in a[1:]),
    "chronyc": lambda a: a[-1] == "tracking",
    "journalctl": lambda a: a[1:] == ["--disk-usage"],
    "systemd-analyze": lambda a: a[1] == "cat-config",
    "auditctl": lambda a: a[1:] == ["-l"],
    "rsyslogd": lambda a: a[1:] == ["-N1"],
    "bash": lambda a: a[1:3] == ["-l", "-c"] and _script_is_read_only(a[3]),
    "restic": lambda a: a[1:3] == ["--no-lock", "--no-cache"] and a[3] in ("cat", "snapshots"),
    "needrestart": lambda a: a[1:] == ["-b", "-r", "l"],
    "pgbackrest": lambda a: a[-1] == "info",
    "psql": lambda a: "-c" in a and _sql_is_read_only(a[a.index("-c") + 1]),
    "runuser": lambda a: "--" in a and _read_only_probe(a[a.index("--") + 1 :]),
}


def _read_only_probe(argv):
    judge = READ_ONLY_PROBES.get(Path(argv[0]).name)
    return judge is not None and judge(argv)


def test_the_read_only_probe_list_refuses_writing_commands():
    for argv in (
        ["systemctl", "restart", "haproxy"],
        ["apt-get", "dist-upgrade", "-y"],
        ["find", "/var/log", "-type", "f", "-delete"],
        ["runuser", "-u", "postgres", "--", "psql", "-c", "DROP TABLE x"],
        ["runuser", "-u", "postgres", "--", "psql", "-c", "SELECT 1; DELETE FROM t"],
        ["runuser", "-u", "pgbackrest", "--", "pgbackrest", "--stanza=s", "backup"],
        ["bash", "-l", "-c", "umask > /etc/x"],
        ["bash", "-l", "-c", "printf x; rm -rf /tmp/x"],
        ["restic", "--no-lock", "--no-cache", "forget", "--prune"],
        ["rm", "-rf", "/"],
    ):
        assert not _read_only_probe(argv), argv
    assert _read_only_probe(["runuser", "-u", "postgres", "--", "psql", "-X", "-c", "\nSELECT json_build_object()\n"])


PG_SETTINGS = {
    "in_recovery": False,
    "data_checksums": "on",
    "ssl": "on",
    "password_encryption": "scram-sha-256",
    "synchronous_standby_names": "",
    "hba": [],
}


def _case_common(tmp_path):
    args = {
        "timezone": "Asia/Shanghai",
        "ntp_servers": ["ntp.ntsc.ac.cn"],
        "ntp_max_offset_ms": 100,
        "hostname": "db1",
        "hosts": {"localhost": "127.0.0.1"},
        "journald_storage": "persistent",
        "ops_group": "ops",
        "ops_users": [{"name": "opsadmin", "ssh_public_keys": ["ssh-ed25519 AAAA ops"], "sudo_commands": ["ALL"]}],
    }
    return args, [(("systemctl", "is-active"), (0, "active\n", ""))], None


def _case_dengbao(tmp_path):
    settings = load(REPO / "roles" / "hardening" / "defaults" / "main.yml")
    internal = load(REPO / "roles" / "hardening" / "vars" / "main.yml")
    settings.update(
        {k: v for k, v in internal.items() if k in ("__hardening_audit_rules_file", "__hardening_rsyslog_forward")}
    )
    settings["__hardening_sod_accounts"] = []
    catalog = load(REPO / "roles" / "hardening" / "catalog" / "gbt22239_l3.yml")["items"]
    sshd = "clientaliveinterval 300\nclientalivecountmax 2\nmaxauthtries 3\npermitrootlogin no\nbanner /etc/issue.net\n"
    answers = [(("/usr/sbin/sshd", "-T"), (0, sshd, "")), (("apt-get",), (0, "", ""))]
    return {"catalog": catalog, "exceptions": [], "today": "2026-01-01", "settings": settings}, answers, None


def _case_patching(tmp_path):
    return {"security_pattern": "-security"}, [(("dpkg", "--audit"), (0, "", "")), (("apt-get",), (0, "", ""))], None


def _case_apt_patch_plan(tmp_path):
    return {"mode": "all"}, [(("apt-get",), (0, "", "")), (("dpkg-query",), (1, "", ""))], None


def _pg_answer(stats):
    def reply(argv):
        sql = argv[argv.index("-c") + 1]
        if "pg_stat_archiver" in sql:
            return 0, json.dumps(stats), ""
        if "pg_hba_file_rules" in sql:
            return 0, json.dumps(PG_SETTINGS), ""
        if "pg_stat_replication" in sql:
            return 0, json.dumps({"replication": [], "slots": []}), ""
        return 1, "", "unexpected query"

    return reply


def _case_pgbackrest_pg(tmp_path):
    stats = {
        "in_recovery": False,
        "now": 10_000.0,
        "current_lsn": "0/4000000",
        "segment_size": 16 * 1024 * 1024,
        "archive_mode": "on",
        "archive_timeout": 60,
        "archived_count": 3,
        "last_archived_wal": "000000010000000000000003",
        "last_archived_time": 9_990.0,
        "failed_count": 0,
        "last_failed_wal": None,
        "last_failed_time": None,
        "ready": 0,
        "pg_wal_bytes": 48 * 1024 * 1024,
        "data_directory": str(tmp_path),
    }
    args = {"scope": "pg", "stanza": "govops", "archive_timeout": 60, "rpo_target_seconds": 300, "wal_budget_mb": 1}
    return args, [(("runuser",), _pg_answer(stats))], None


def _case_pgbackrest_repo(tmp_path):
    info = [
        {
            "name": "govops",
            "status": {"code": 0, "message": "ok"},
            "repo": [{"key": 1, "cipher": "aes-256-cbc", "status": {"code": 0}}],
            "archive": [{"id": "17-1", "min": "000000010000000000000001", "max": "000000010000000000000003"}],
            "backup": [{"label": "F1", "type": "full", "timestamp": {"start": 1, "stop": 2}}],
        }
    ]
    args = {"scope": "repo", "stanza": "govops", "max_age_hours": {"full": 192}, "timers": ["pgbackrest-full.timer"]}
    answers = [(("runuser",), (0, json.dumps(info), "")), (("systemctl",), (0, "active\n", ""))]
    return args, answers, None


def _case_pgbackrest_offsite(tmp_path):
    (tmp_path / ".ssh").mkdir()
    (tmp_path / ".ssh" / "authorized_keys").write_text(
        'restrict,command="/usr/lib/openssh/sftp-server" ssh-ed25519 AAAA pgbackrest@backup1\n'
    )
    return {"scope": "offsite", "stanza": "govops", "offsite_path": str(tmp_path), "offsite_user": "root"}, [], None


def _case_pg_replication(tmp_path):
    args = {"role": "primary", "port": 5432, "mirrors": ["db2"], "primary_address": "10.0.0.21"}
    return args, [(("runuser",), _pg_answer({}))], None


def _case_backup_files_client(tmp_path):
    env = tmp_path / "restic.env"
    env.write_text("RESTIC_REPOSITORY=sftp:restic@backup1:/repo\nRESTIC_PASSWORD_FILE=/nonexistent\n")
    snapshots = [{"time": "2026-01-01T00:00:00Z", "tags": ["config"], "short_id": "abcd1234"}]

    def restic(argv):
        if argv[3] == "snapshots":
            return 0, json.dumps(snapshots), ""
        if os.environ.get("RESTIC_PASSWORD"):
            return 12, "", "Fatal: wrong password or no key found"
        return 0, json.dumps({"id": "0123456789abcdef", "version": 2}), ""

    args = {"scope": "client", "sets": [{"name": "config", "max_age_hours": 30}], "env_file": str(env)}
    return args, [(("restic",), restic), (("systemctl",), (0, "active\n", ""))], None


def _case_backup_files_repo(tmp_path):
    sshd = "forcecommand internal-sftp\nchrootdirectory /srv/restic/restic-db1\npermittty no\n"
    args = {"scope": "repo", "accounts": {"db1": "restic-db1"}, "repo_root": str(tmp_path)}
    return args, [(("/usr/sbin/sshd", "-T"), (0, sshd, ""))], None


def _case_redis(tmp_path):
    server = redis_instance()
    args = redis_check_args(server, load(REPO / "roles" / "redis" / "defaults" / "main.yml")["redis_alert_thresholds"])

    def no_redis_writes(run):
        server.close()
        assert server.commands, "the check never talked to the instance"
        assert server.writes() == [], f"Redis commands that write: {server.writes()}"

    return args, [], no_redis_writes


def _case_db_proxy(tmp_path):
    server = FakePostgres(tmp_path, {"app": "app-secret"}, ["f", "127.0.0.1", "5432"])
    args = db_proxy_check_args(tmp_path, server, "app-secret")

    def only_a_select(run):
        server.close()
        assert server.queries and all(_sql_is_read_only(q) for q in server.queries), server.queries

    return args, [(("systemctl",), (0, "active\n", ""))], only_a_select


CHECK_MODE_CASES = {
    "common_baseline_check": _case_common,
    "dengbao_check": _case_dengbao,
    "patching_check": _case_patching,
    "apt_patch_plan": _case_apt_patch_plan,
    "pgbackrest_check-pg": _case_pgbackrest_pg,
    "pgbackrest_check-repo": _case_pgbackrest_repo,
    "pgbackrest_check-offsite": _case_pgbackrest_offsite,
    "pg_replication_check": _case_pg_replication,
    "backup_files_check-client": _case_backup_files_client,
    "backup_files_check-repo": _case_backup_files_repo,
    "redis_cluster_check": _case_redis,
    "db_proxy_check": _case_db_proxy,
}


def test_every_module_has_a_check_mode_case():
    covered = {name.split("-")[0] for name in CHECK_MODE_CASES}
    assert covered == {path.stem for path in CHECK_MODULES}


@pytest.mark.parametrize("case", sorted(CHECK_MODE_CASES))
def test_modules_change_nothing_in_check_mode(case, tmp_path, plugin):
    module = plugin("modules", case.split("-")[0])
    args, answers, extra = CHECK_MODE_CASES[case](tmp_path)
    run = run_module(module, args, check_mode=True, answers=answers)
    assert run.exit_code == 0, run.result
    assert run.result.get("changed") is False, run.result
    assert run.writes == [], f"{case} tried to write in check mode: {run.writes}"
    writing = [argv for argv in run.probes if not _read_only_probe(argv)]
    assert writing == [], f"{case} ran commands that are not read-only probes: {writing}"
    if case != "apt_patch_plan":
        assert run.result["checks"], f"{case} reported no checks"
    if extra:
        extra(run)


def test_the_harness_sees_a_write_and_a_writing_command(plugin, tmp_path):
    """The guards are live: a module that writes, or runs a writing command, is caught."""
    mod = plugin("modules", "patching_check")

    def writer(argv):
        try:
            with open(tmp_path / "written", "w") as handle:
                handle.write("x")
        except PermissionError as exc:
            return 1, "", str(exc)
        return 0, "", ""

    run = run_module(mod, {}, answers=[(("dpkg", "--audit"), writer)])
    assert any("written" in write for write in run.writes)
    assert not (tmp_path / "written").exists()
    assert run.probes[1][:3] == ["apt-get", "-s", "-q"]
    assert not _read_only_probe(["apt-get", "-q", "-y", "dist-upgrade"])


def test_requirements_match_the_bundled_collections():
    wanted = {c["name"]: c["version"] for c in load(REPO / "requirements.yml")["collections"]}
    proc = subprocess.run(
        ["ansible-galaxy", "collection", "list", "--format", "json"], capture_output=True, text=True, check=True
    )
    bundled = {}
    for collections in json.loads(proc.stdout).values():
        for name, info in collections.items():
            bundled.setdefault(name, info["version"])
    wrong = {name: (version, bundled.get(name)) for name, version in wanted.items() if bundled.get(name) != version}
    assert not wrong, f"requirements.yml disagrees with the bundle (wanted, bundled): {wrong}"


def test_every_collection_the_code_uses_is_in_requirements():
    wanted = {c["name"] for c in load(REPO / "requirements.yml")["collections"]}
    used = set()
    for path in [*REPO.glob("roles/**/*.yml"), *REPO.glob("playbooks/**/*.yml"), *REPO.glob("molecule/**/*.yml")]:
        used |= set(re.findall(r"\b([a-z_]+\.[a-z_]+)\.[a-z_]+:", path.read_text(encoding="utf-8")))
    used |= {
        m.group(1)
        for path in REPO.glob("inventories/**/*.yml")
        for m in re.finditer(r"ansible_connection: ([a-z_]+\.[a-z_]+)\.", path.read_text(encoding="utf-8"))
    }
    used -= {"ansible.builtin"}
    assert used <= wanted, f"add to requirements.yml: {sorted(used - wanted)}"


def test_ci_runs_exactly_the_readme_test_command():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"^\s*(\./govops \w+)\s+#", readme, flags=re.M)
    assert commands[:2] == ["./govops lab", "./govops test"], "README must open with the two commands"
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^exec \./govops test$", ci, flags=re.M), ".ci/run must call exactly `./govops test`"


def test_lab_and_production_inventories_have_the_same_groups():
    def groups(inventory):
        return {name for path in inventory.glob("*.yml") for name in load(path)["all"]["children"]}

    lab = groups(REPO / "inventories" / "lab")
    production = groups(REPO / "inventories" / "production.example")
    assert lab == production
    required = set(
        load(REPO / "inventories" / "lab" / "group_vars" / "all" / "platform.yml")["platform_required_groups"]
    )
    assert required <= lab


def test_only_db_topology_yml_says_which_database_host_is_primary():
    """./govops topology rewrites db_topology.yml; a db_primary or db_mirror anywhere else would
    merge with it and put two hosts in db_primary after a failover."""
    for inventory in ("lab", "production.example"):
        directory = REPO / "inventories" / inventory
        hosts = load(directory / "hosts.yml")["all"]["children"]
        topology = load(directory / "db_topology.yml")["all"]["children"]
        assert not {"db_primary", "db_mirror"} & set(hosts), inventory
        assert set(topology) == {"db_primary", "db_mirror"}, inventory
        assert set(topology["db_primary"]["hosts"]) | set(topology["db_mirror"]["hosts"]) == set(hosts["db"]["hosts"])
        assert all(value is None for group in topology.values() for value in group["hosts"].values()), (
            "db_topology.yml names hosts only; their variables stay in hosts.yml"
        )


def test_no_secret_is_committed_in_clear():
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    assert "inventories/lab/group_vars/all/vault.yml" not in tracked
    leaks = []
    pattern = re.compile(
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----|^\s*(vault_\w+|\w*password\w*):\s*['\"]?[A-Za-z0-9]{16,}", re.M
    )
    for name in tracked:
        path = REPO / name
        if path.suffix in {".yml", ".yaml", ".cfg", ".conf", ".sh", ".j2"} and path.exists():
            text = path.read_text(encoding="utf-8", errors="replace")
            if not text.startswith("$ANSIBLE_VAULT") and pattern.search(text):
                leaks.append(name)
    assert not leaks, f"clear-text secrets in {leaks}; move them to ansible-vault"
