#!/usr/bin/python3
"""Build the scenario's local Debian repositories (test fixture, runs in the repo container).

Two flat repositories under ROOT, each with a Packages index and a Release file,
so apt sees a real origin and suite (what security-only mode filters on):

  ROOT/main      suite trixie-updates:  govops-demo-tool, govops-demo-reboot, govops-demo-broken
  ROOT/security  suite trixie-security: govops-demo-lib

Every package exists in versions 1.0 and 1.1. govops-demo-reboot 1.1 asks for a
reboot the Debian way (/var/run/reboot-required + .pkgs); govops-demo-broken 1.1
fails in postinst (the host that gets it fails, which stops the roll-out).
Every package carries a Debian changelog (/usr/share/doc/<pkg>/changelog.Debian.gz);
govops-demo-lib 1.1's entry is urgency=high and names CVE-2026-10001 and
CVE-2026-10002 (what the patch record must extract).
Only python3 and dpkg-deb are needed; no apt-utils/dpkg-dev.
"""

from __future__ import annotations

import gzip
import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(sys.argv[1] if len(sys.argv) > 1 else "/srv/patching-repo")
REPOS = {
    "main": ("trixie-updates", ["govops-demo-tool", "govops-demo-reboot", "govops-demo-broken"]),
    "security": ("trixie-security", ["govops-demo-lib"]),
}
# Fixed, so the index (and what apt caches) is the same on every run.
DATE = "Thu, 01 Jan 2026 00:00:00 UTC"
POSTINST = {
    ("govops-demo-reboot", "1.1"): (
        "#!/bin/sh\nset -e\ntouch /var/run/reboot-required\necho govops-demo-reboot >> /var/run/reboot-required.pkgs\n"
    ),
    ("govops-demo-broken", "1.1"): '#!/bin/sh\necho "govops-demo-broken: simulated failure" >&2\nexit 1\n',
}


CHANGES = {
    ("govops-demo-lib", "1.1"): ("high", "  * Security fix for CVE-2026-10001 and CVE-2026-10002 (demo)."),
}


def changelog(name: str, version: str) -> str:
    entries = []
    for older in [v for v in ("1.1", "1.0") if v <= version]:
        urgency, text = CHANGES.get((name, older), ("medium", f"  * govops demo release {older}."))
        suite = "trixie-security" if name == "govops-demo-lib" else "trixie-updates"
        entries.append(
            f"{name} ({older}) {suite}; urgency={urgency}\n\n{text}\n\n"
            f" -- govops test <test@example.invalid>  {DATE.replace('UTC', '+0000')}\n"
        )
    return "\n".join(entries)


def build(name: str, version: str, dest: Path) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "DEBIAN").mkdir()
        (root / "DEBIAN" / "control").write_text(
            f"Package: {name}\nVersion: {version}\nArchitecture: all\nSection: misc\nPriority: optional\n"
            f"Maintainer: govops test <test@example.invalid>\nDescription: govops patching test package {version}\n",
            encoding="utf-8",
        )
        (root / "usr" / "share" / name).mkdir(parents=True)
        (root / "usr" / "share" / name / "VERSION").write_text(version + "\n", encoding="utf-8")
        (root / "usr" / "share" / "doc" / name).mkdir(parents=True)
        with gzip.GzipFile(root / "usr" / "share" / "doc" / name / "changelog.Debian.gz", "wb", mtime=0) as handle:
            handle.write(changelog(name, version).encode("utf-8"))
        script = POSTINST.get((name, version))
        if script:
            (root / "DEBIAN" / "postinst").write_text(script, encoding="utf-8")
            (root / "DEBIAN" / "postinst").chmod(0o755)
        deb = dest / f"{name}_{version}_all.deb"
        cmd = ["dpkg-deb", "--root-owner-group", "--build", str(root), str(deb)]
        subprocess.run(cmd, check=True, capture_output=True)  # noqa: S603 - fixed argv, test fixture
    return deb


def stanza(deb: Path) -> str:
    cmd = ["dpkg-deb", "-f", str(deb)]
    control = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout  # noqa: S603
    data = deb.read_bytes()
    return (
        control.rstrip("\n")
        + f"\nFilename: ./{deb.name}\nSize: {len(data)}\nMD5sum: {hashlib.md5(data).hexdigest()}\n"  # noqa: S324 - apt index field
        + f"SHA256: {hashlib.sha256(data).hexdigest()}\n"
    )


def main() -> None:
    for repo, (suite, names) in REPOS.items():
        dest = ROOT / repo
        dest.mkdir(parents=True, exist_ok=True)
        debs = [build(name, version, dest) for name in names for version in ("1.0", "1.1")]
        packages = "\n".join(stanza(deb) for deb in debs)
        (dest / "Packages").write_text(packages, encoding="utf-8")
        digest = hashlib.sha256(packages.encode()).hexdigest()
        label = "govops-demo-Security" if repo == "security" else "govops-demo"
        (dest / "Release").write_text(
            f"Origin: govops-demo\nLabel: {label}\nSuite: {suite}\nCodename: {suite}\nDate: {DATE}\n"
            "Architectures: all\n"
            f"Components: main\nDescription: govops patching test repository\n"
            f"SHA256:\n {digest} {len(packages.encode())} Packages\n",
            encoding="utf-8",
        )
    print(f"repositories built under {ROOT}")


if __name__ == "__main__":
    main()
