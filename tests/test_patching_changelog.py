"""CVE/advisory extraction for the patch record: Debian changelog entries between the old and the new version."""

from __future__ import annotations

import gzip
import sys

import pytest

CHANGELOG = """\
openssl (3.5.4-1~deb13u1) trixie-security; urgency=high

  * New upstream security release.
    - CVE-2025-9230: out-of-bounds read/write in RFC 3211 KEK unwrap.
    - CVE-2025-9231 (timing side channel, SM2 on arm64), cve-2025-9232.
  * Mention CVE-2025-9230 twice: reported once.

 -- Debian Security Team <team@security.debian.org>  Tue, 30 Sep 2025 20:00:00 +0200

openssl (3.5.1-1+deb13u1) trixie; urgency=medium

  * Fix CVE-2025-4575 (-addreject option).

 -- Sebastian Andrzej Siewior <sebastian@breakpoint.cc>  Sat, 02 Aug 2025 10:00:00 +0200

openssl (3.5.1-1) unstable; urgency=low

  * New upstream version; fixes CVE-2024-0001 according to upstream.

 -- Sebastian Andrzej Siewior <sebastian@breakpoint.cc>  Wed, 02 Jul 2025 10:00:00 +0200
"""


@pytest.fixture
def apt(plugin):
    plugin("modules", "apt_patch_plan")  # loads the module_utils it imports
    return sys.modules["ansible.module_utils.govops_apt"]


def test_entries_between_old_and_new_version_give_cves_and_highest_urgency(apt):
    result = apt.parse_changelog(CHANGELOG, "3.5.1-1", "3.5.4-1~deb13u1")
    assert result["versions"] == ["3.5.4-1~deb13u1", "3.5.1-1+deb13u1"]
    assert result["cves"] == ["CVE-2025-4575", "CVE-2025-9230", "CVE-2025-9231", "CVE-2025-9232"]
    assert result["urgency"] == "high"
    assert result["entries"][1] == {"version": "3.5.1-1+deb13u1", "urgency": "medium", "cves": ["CVE-2025-4575"]}


def test_the_old_version_itself_is_not_counted(apt):
    result = apt.parse_changelog(CHANGELOG, "3.5.1-1+deb13u1", "3.5.4-1~deb13u1")
    assert result["versions"] == ["3.5.4-1~deb13u1"]
    assert "CVE-2025-4575" not in result["cves"]


def test_unknown_old_version_reads_to_the_end_and_new_version_none_reads_from_the_top(apt):
    result = apt.parse_changelog(CHANGELOG, None, None)
    assert result["versions"] == ["3.5.4-1~deb13u1", "3.5.1-1+deb13u1", "3.5.1-1"]
    assert "CVE-2024-0001" in result["cves"]


def test_nothing_newer_gives_nothing(apt):
    result = apt.parse_changelog(CHANGELOG, "3.5.4-1~deb13u1", "3.5.4-1~deb13u1")
    assert result == {"versions": [], "cves": [], "urgency": None, "entries": []}


def test_changelog_without_cves_or_urgency(apt):
    text = "govops-demo-tool (1.1) trixie-security; foo=bar\n\n  * Demo fix.\n\n -- x <x@y>  Mon, 1 Jan 2026\n"
    result = apt.parse_changelog(text, "1.0", "1.1")
    assert result == {
        "versions": ["1.1"],
        "cves": [],
        "urgency": None,
        "entries": [{"version": "1.1", "urgency": None, "cves": []}],
    }


def test_read_advisories_reads_the_gzipped_changelog(apt, tmp_path, monkeypatch):
    doc = tmp_path / "openssl"
    doc.mkdir()
    with gzip.open(doc / "changelog.Debian.gz", "wt", encoding="utf-8") as handle:
        handle.write(CHANGELOG)
    monkeypatch.setattr(apt, "changelog_paths", lambda name: [str(doc / "changelog.Debian.gz")])
    result = apt.read_advisories("openssl", "3.5.1-1+deb13u1", "3.5.4-1~deb13u1")
    assert result["source"].endswith("changelog.Debian.gz")
    assert result["cves"] == ["CVE-2025-9230", "CVE-2025-9231", "CVE-2025-9232"]


def test_read_advisories_without_a_changelog(apt, monkeypatch):
    monkeypatch.setattr(apt, "changelog_paths", lambda name: ["/nonexistent/changelog.Debian.gz"])
    assert apt.read_advisories("nothing", "1", "2")["source"] == ""
