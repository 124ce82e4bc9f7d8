"""The shared check structure (module_utils/govops_checks.py) and common_baseline_check's pure parts."""

from __future__ import annotations

import os
import pwd
from pathlib import Path
from types import SimpleNamespace

import pytest
from ansible.module_utils import govops_checks


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
    wanted = {"kernel_modules_disabled": ["dccp", "sctp", "tipc"]}
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
