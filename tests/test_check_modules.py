"""The shared check structure (module_utils/govops_checks.py), common_baseline_check and dengbao_check."""

from __future__ import annotations

import os
import pwd
from pathlib import Path
from types import SimpleNamespace

import pytest
from ansible.module_utils import govops_checks
from check_harness import run_module


def test_checklist_records_in_order_with_bilingual_titles():
    checks = govops_checks.CheckList()
    checks.verdict("r.a", "甲", "A", True, "looked at a", 1)
    checks.verdict("r.b", "乙", "B", False, "looked at b")
    checks.add("r.c", "丙", "C", "warn", "container limit")
    result = checks.result()
    assert [c["id"] for c in result["checks"]] == ["r.a", "r.b", "r.c"]
    assert result["checks"][0] == {
        "id": "r.a",
        "title": {"zh_CN": "甲", "en": "A"},
        "status": "pass",
        "evidence": "looked at a",
        "measured": 1,
    }
    assert result["summary"] == {"pass": 1, "fail": 1, "warn": 1, "skip": 0, "total": 3}


def test_checklist_refuses_an_unknown_status():
    with pytest.raises(ValueError, match="status must be one of"):
        govops_checks.CheckList().add("r.a", "甲", "A", "ok", "x")


def test_run_never_raises():
    assert govops_checks.run(["/nonexistent/binary"])[0] == 127
    rc, out, _err = govops_checks.run(["sh", "-c", "echo $LC_ALL"])
    assert (rc, out.strip()) == (0, "C")
    assert govops_checks.run(["sleep", "5"], timeout=1)[0] == 124


@pytest.fixture
def baseline(plugin):
    return plugin("modules", "common_baseline_check")


def test_key_identity_ignores_options_comments_and_blank_lines(baseline):
    assert baseline.key_identity("ssh-ed25519 AAAAkey ops@host") == ("ssh-ed25519", "AAAAkey")
    assert baseline.key_identity("ssh-ed25519 AAAAkey") == baseline.key_identity("ssh-ed25519 AAAAkey other")
    assert baseline.key_identity("garbage") is None


def test_authorized_keys_problems(baseline, tmp_path):
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    keys = home / ".ssh" / "authorized_keys"
    keys.write_text("# comment\nssh-ed25519 AAAAone a@b\nssh-ed25519 AAAAextra x@y\n")
    keys.chmod(0o666)
    entry = SimpleNamespace(pw_dir=str(home), pw_uid=os.getuid(), pw_name=pwd.getpwuid(os.getuid()).pw_name)
    problems: list[str] = []
    found = baseline.authorized_key_problems(entry, ["ssh-ed25519 AAAAone a@b", "ssh-ed25519 AAAAtwo"], problems)
    assert found == {("ssh-ed25519", "AAAAone"), ("ssh-ed25519", "AAAAextra")}
    assert any("group/world writable" in p for p in problems)
    assert "1 key(s) missing, 1 unexpected" in problems


def test_chrony_sources_and_ntp_check_in_a_container(baseline, monkeypatch, tmp_path):
    conf = tmp_path / "chrony.conf"
    conf.write_text("server ntp.ntsc.ac.cn iburst\npool cn.pool.ntp.org\n# server commented.out\n")
    monkeypatch.setattr(baseline.glob, "glob", lambda _pattern: [])
    real_open = open

    def fake_open(path, *args, **kwargs):
        return real_open(conf if path == "/etc/chrony/chrony.conf" else path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", fake_open)
    assert baseline.chrony_sources() == ["ntp.ntsc.ac.cn", "cn.pool.ntp.org"]
    monkeypatch.setattr(baseline, "in_container", lambda: True)
    checks = govops_checks.CheckList()
    baseline.check_ntp(checks, ["ntp.ntsc.ac.cn", "time.example"], 100)
    config, clock = checks.checks
    assert config["status"] == "fail" and "missing: time.example" in config["evidence"]
    assert clock["status"] == "warn" and "cannot be verified" in clock["evidence"]


def test_dengbao_blocked_kernel_modules_are_read_from_modprobe_d(plugin, tmp_path):
    dengbao = plugin("modules", "dengbao_check")
    conf = (
        "# comment\ninstall dccp /bin/false\nblacklist dccp\ninstall sctp /bin/true  # old style\n"
        "install tipc /sbin/modprobe --ignore-install tipc\n"
    )
    assert dengbao.blocked_modules([conf]) == {"dccp", "sctp"}
    wanted = govops_checks.Settings(
        {"hardening_kernel_modules_disabled": ["dccp", "sctp", "tipc"]}, {"hardening_kernel_modules_disabled": "list"}
    )
    (tmp_path / "govops.conf").write_text(conf)
    checks = dengbao.DengbaoCheckList()
    dengbao.check_kernel_modules(checks, wanted, modprobe_dirs=(str(tmp_path),))
    check = checks.checks[0]
    assert check["id"] == "hardening.kernel_modules_disabled" and check["status"] == "fail"
    assert "loadable: tipc" in check["evidence"]
    (tmp_path / "govops.conf").write_text(conf.replace("/sbin/modprobe --ignore-install tipc", "/bin/false"))
    checks = dengbao.DengbaoCheckList()
    dengbao.check_kernel_modules(checks, wanted, modprobe_dirs=(str(tmp_path),))
    proc = Path("/proc/modules")
    loaded = {line.split()[0] for line in proc.read_text().splitlines() if line.strip()} if proc.exists() else set()
    expected = "fail" if loaded & {"dccp", "sctp", "tipc"} else "pass"
    assert "blocks 3/3" in checks.checks[0]["evidence"] and checks.checks[0]["status"] == expected


def test_ntp_config_with_no_expected_server_fails_as_not_configured(baseline, monkeypatch):
    # chrony lists sources, but the role expects none: nobody decided where time comes from.
    monkeypatch.setattr(baseline, "chrony_sources", lambda: ["pool.example"])
    monkeypatch.setattr(baseline, "in_container", lambda: True)
    checks = govops_checks.CheckList()
    baseline.check_ntp(checks, [], 100)
    config = checks.checks[0]
    assert config["id"] == "common.ntp_config" and config["status"] == "fail"
    assert "common_ntp_servers is empty" in config["evidence"] and "not configured" in config["evidence"]
    checks = govops_checks.CheckList()
    baseline.check_ntp(checks, ["pool.example"], 100)
    assert checks.checks[0]["status"] == "pass"


def test_ntp_servers_is_a_required_option(plugin):
    run = run_module(plugin("modules", "common_baseline_check"), {"timezone": "Asia/Shanghai"})
    assert run.result.get("failed") and "ntp_servers" in run.result["msg"]


# --- dengbao_check: judged against the role's own values ---------------------------
@pytest.fixture
def dengbao(plugin):
    return plugin("modules", "dengbao_check")


def settings(dengbao, **values):
    return govops_checks.Settings(values, dengbao.SETTINGS)


def _files(tmp_path, names):
    me = pwd.getpwuid(os.getuid()).pw_name
    group = __import__("grp").getgrgid(os.getgid()).gr_name
    items = []
    for name in names:
        path = tmp_path / name
        if name != "missing":
            path.write_text("x")
            path.chmod(0o600)
        items.append({"path": str(path), "mode": "0600", "owner": me, "group": group})
    return items


def test_a_missing_critical_file_fails(dengbao, tmp_path):
    checks = dengbao.DengbaoCheckList()
    role = settings(dengbao, hardening_critical_files=_files(tmp_path, ["passwd", "missing"]))
    dengbao.check_critical_files(checks, role, container=False)
    check = checks.checks[0]
    assert check["status"] == "fail"
    assert f"missing: {tmp_path / 'missing'} (No such file or directory)" in check["evidence"]
    assert check["measured"] == 1


def test_critical_files_pass_only_when_all_are_there(dengbao, tmp_path):
    checks = dengbao.DengbaoCheckList()
    dengbao.check_critical_files(checks, settings(dengbao, hardening_critical_files=_files(tmp_path, ["a", "b"])))
    assert checks.checks[0]["status"] == "pass" and "2/2 critical files" in checks.checks[0]["evidence"]
    checks = dengbao.DengbaoCheckList()
    dengbao.check_critical_files(checks, settings(dengbao, hardening_critical_files=[]))
    assert checks.checks[0]["status"] == "fail" and "hardening_critical_files is empty" in checks.checks[0]["evidence"]


def test_only_a_boot_file_in_a_container_is_a_warning_never_a_pass(dengbao, tmp_path):
    boot = {"path": "/boot/govops-test-no-such/grub.cfg", "mode": "0400", "owner": "root", "group": "root"}
    items = [*_files(tmp_path, ["passwd"]), boot]
    checks = dengbao.DengbaoCheckList()
    dengbao.check_critical_files(checks, settings(dengbao, hardening_critical_files=items), container=True)
    check = checks.checks[0]
    assert check["status"] == "warn" and "no boot loader in a container" in check["evidence"]
    checks = dengbao.DengbaoCheckList()
    dengbao.check_critical_files(checks, settings(dengbao, hardening_critical_files=items), container=False)
    assert checks.checks[0]["status"] == "fail"


SSH_ROLE = {
    "hardening_ssh_client_alive_interval": 120,
    "hardening_ssh_client_alive_count_max": 2,
    "hardening_ssh_max_auth_tries": 3,
}


def test_the_ssh_idle_limit_is_the_roles_interval_times_count(dengbao):
    # 300 s x 2 = 600 s passed the old literal 600 s limit; the role asks for 120 s x 2 = 240 s.
    sshd = {"clientaliveinterval": "300", "clientalivecountmax": "2", "maxauthtries": "3"}
    checks = dengbao.DengbaoCheckList()
    dengbao.check_ssh_session(checks, settings(dengbao, **SSH_ROLE), sshd)
    check = checks.checks[0]
    assert check["status"] == "fail"
    assert "idle sessions end after 600 s, more than the role's 240 s" in check["evidence"]
    assert "hardening_ssh_client_alive_interval 120" in check["evidence"]
    checks = dengbao.DengbaoCheckList()
    dengbao.check_ssh_session(checks, settings(dengbao, **SSH_ROLE), {**sshd, "clientaliveinterval": "120"})
    assert checks.checks[0]["status"] == "pass" and "limit 240 s" in checks.checks[0]["evidence"]


def test_sshd_t_lists_every_allowed_group(dengbao):
    values = govops_checks.parse_sshd_settings(
        "allowgroups ops\nallowgroups sysadm\nport 22\nport 2222\nbanner /etc/issue.net\n"
    )
    assert values == {"allowgroups": "ops sysadm", "port": "22", "banner": "/etc/issue.net"}
    checks = dengbao.DengbaoCheckList()
    dengbao.check_ssh_access(checks, settings(dengbao, hardening_ssh_allow_groups=["sysadm", "ops"]), values)
    assert checks.checks[0]["status"] == "pass"
    checks = dengbao.DengbaoCheckList()
    dengbao.check_ssh_access(checks, settings(dengbao, hardening_ssh_allow_groups=["ops", "secadm"]), values)
    check = checks.checks[0]
    assert check["status"] == "fail" and "hardening_ssh_allow_groups ops secadm" in check["evidence"]
