#!/usr/bin/env python3
"""List the 等保 catalog items whose implementation changed in a git range.

For auditors reviewing a change to roles/hardening: every diff hunk in the
role's tasks, defaults, templates and catalog, and in the check module, is
mapped to the catalog items (GB/T 22239-2019 8.1.4.x-y) it touches, and printed
under each item - in the terminal, or as Markdown for a change ticket.

    scripts/dengbao_diff.py v1.2..HEAD
    scripts/dengbao_diff.py origin/main --markdown > change.md

A range "A" means "A..HEAD". Hunks that map to no item (handlers, internal
variables, shared helpers) are listed under "其他 / Other".
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROLE = "roles/hardening"
CATALOG = f"{ROLE}/catalog/gbt22239_l3.yml"
MODULE = "plugins/modules/dengbao_check.py"
PATHS = [ROLE, MODULE, "plugins/module_utils/govops_dengbao.py"]
CONTROL_ID = re.compile(r"\b(8\.1\.4\.\d{1,2}-[a-g])\b")
HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$")
OTHER = "其他 / Other"


@dataclass
class Hunk:
    path: str
    header: str
    old_start: int
    new_start: int
    new_len: int
    lines: list[str] = field(default_factory=list)

    def changed_lines(self):
        """Line numbers on the new side that were added, or next to which lines were removed."""
        changed, number = set(), self.new_start
        for line in self.lines:
            if line.startswith("+"):
                changed.add(number)
                number += 1
            elif line.startswith("-"):
                changed.add(max(number, 1))
            elif line.startswith(" "):
                number += 1
        return changed


def git(repo, *args):
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)  # noqa: S603,S607
    if proc.returncode != 0:
        raise SystemExit(f"error: git {' '.join(args)} failed: {proc.stderr.strip()}. Fix: check the range and --repo.")
    return proc.stdout


def show(repo, rev, path):
    proc = subprocess.run(  # noqa: S603
        ["git", "-C", str(repo), "show", f"{rev}:{path}"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout if proc.returncode == 0 else ""


def parse_diff(text):
    hunks, path, current = [], None, None
    for line in text.splitlines():
        if line.startswith("diff --git "):
            path, current = None, None
        elif line.startswith("+++ "):
            path = line[6:] if line.startswith("+++ b/") else None
        elif line.startswith("--- ") and path is None:
            old = line[6:] if line.startswith("--- a/") else None
            path = old
        elif line.startswith("@@"):
            match = HUNK.match(line)
            if match and path:
                current = Hunk(
                    path=path,
                    header=line,
                    old_start=int(match.group(1)),
                    new_start=int(match.group(3)),
                    new_len=int(match.group(4) if match.group(4) is not None else 1),
                )
                hunks.append(current)
        elif current is not None and line[:1] in (" ", "+", "-", "\\"):
            current.lines.append(line)
    return hunks


def spans(text, start_pattern):
    """(first line, last line, text) of each top-level section that starts with start_pattern."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if re.match(start_pattern, line)]
    result = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        result.append((start + 1, end, "\n".join(lines[start:end])))
    return result


class Mapper:
    """Maps a hunk to catalog ids using the files at the new revision."""

    def __init__(self, repo, rev):
        self.repo, self.rev = repo, rev
        self.catalog = (yaml.safe_load(show(repo, rev, CATALOG) or "{}") or {}).get("items") or []
        self.check_items = {}
        for item in self.catalog:
            for check in item.get("checks") or []:
                self.check_items.setdefault(check, set()).add(item["id"])
        self.blocks = []  # (path, first, last, text, ids)
        for path in self._files(f"{ROLE}/tasks", ".yml"):
            for first, last, body in spans(show(repo, rev, path), r"^- "):
                ids = set(CONTROL_ID.findall(" ".join(re.findall(r"tags:\s*\[([^\]]*)\]", body))))
                self.blocks.append((path, first, last, body, ids))

    def _files(self, folder, suffix):
        out = git(self.repo, "ls-tree", "-r", "--name-only", self.rev, "--", folder)
        return [line for line in out.splitlines() if line.endswith(suffix)]

    def ids_using(self, word):
        return set().union(*[ids for _p, _f, _l, body, ids in self.blocks if word in body]) if self.blocks else set()

    def template_ids(self, path):
        text = show(self.repo, self.rev, path)
        stem = Path(path).name.removesuffix(".j2")
        return self.ids_using(stem) | set(CONTROL_ID.findall(text.split("\n", 3)[1] if text.count("\n") > 1 else ""))

    def variable_ids(self, name):
        match = re.match(r"hardening_control_(\d+)_(\d+)_(\d+)_(\d+)_([a-g])$", name)
        if match:
            return {"{}.{}.{}.{}-{}".format(*match.groups())}
        ids = self.ids_using(name)
        for path in self._files(f"{ROLE}/templates", ".j2"):
            if name in show(self.repo, self.rev, path):
                ids |= self.template_ids(path)
        return ids

    def _section_ids(self, text, changed, pattern, ids_of):
        ids = set()
        for first, last, body in spans(text, pattern):
            if changed & set(range(first, last + 1)):
                ids |= ids_of(body)
        return ids

    def hunk_ids(self, hunk):
        changed = hunk.changed_lines()
        path = hunk.path
        text = show(self.repo, self.rev, path)
        if path == CATALOG:
            return self._section_ids(
                text, changed, r"^  - id: ", lambda body: set(CONTROL_ID.findall(body.splitlines()[0]))
            )
        if path.startswith(f"{ROLE}/tasks/"):
            return set().union(
                set(),
                *[
                    ids
                    for p, first, last, _b, ids in self.blocks
                    if p == path and changed & set(range(first, last + 1))
                ],
            )
        if path.startswith(f"{ROLE}/templates/"):
            return self.template_ids(path)
        if path == f"{ROLE}/defaults/main.yml":
            return self._section_ids(
                text, changed, r"^hardening_\w+:", lambda body: self.variable_ids(body.split(":", 1)[0])
            )
        if path == MODULE:
            return self._section_ids(
                text,
                changed,
                r"^def \w+",
                lambda body: set().union(
                    set(), *[self.check_items.get(c, set()) for c in re.findall(r'"(hardening\.[a-z0-9_]+)"', body)]
                ),
            )
        return set()


def collect(repo, rev_range):
    old, _, new = rev_range.partition("..")
    new = new or "HEAD"
    hunks = parse_diff(git(repo, "diff", "--no-color", "-U3", f"{old}..{new}", "--", *PATHS))
    mapper = Mapper(repo, new)
    by_item = {}
    for hunk in hunks:
        for control in sorted(mapper.hunk_ids(hunk)) or [OTHER]:
            by_item.setdefault(control, []).append(hunk)
    items = {item["id"]: item for item in mapper.catalog}
    order = [item["id"] for item in mapper.catalog if item["id"] in by_item]
    order += sorted(key for key in by_item if key not in items and key != OTHER)
    order += [OTHER] if OTHER in by_item else []
    return [(key, items.get(key), by_item[key]) for key in order], f"{old}..{new}"


def title(key, item):
    if not item:
        return key
    return f"{key} {item.get('category', {}).get('zh_CN', '')} — {item.get('text', {}).get('zh_CN', '')}"


def render_text(result, rev_range):
    out = [f"等保 catalog items changed in {rev_range}: {sum(1 for key, _i, _h in result if key != OTHER)}", ""]
    for key, item, hunks in result:
        out.append(f"■ {title(key, item)}")
        if item:
            out.append(f"  {item.get('text', {}).get('en', '')} [{item.get('automation', '')}]")
        for hunk in hunks:
            out.append(f"  {hunk.path} {hunk.header}")
            out.extend(f"    {line}" for line in hunk.lines)
        out.append("")
    return "\n".join(out)


def render_markdown(result, rev_range):
    out = [f"## 等保控制项变更 / 等保 catalog items changed in `{rev_range}`", ""]
    changed = [key for key, _i, _h in result if key != OTHER]
    out.append(f"Items: {', '.join(f'`{key}`' for key in changed) or 'none'}")
    out.append("")
    for key, item, hunks in result:
        out.append(f"### {title(key, item)}")
        if item:
            out.append(f"_{item.get('text', {}).get('en', '')}_ — automation: `{item.get('automation', '')}`")
        out.append("")
        for hunk in hunks:
            out.append(f"`{hunk.path}`")
            out.append("```diff")
            out.append(hunk.header)
            out.extend(hunk.lines)
            out.append("```")
        out.append("")
    return "\n".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("range", help='git range, e.g. "v1.0..HEAD" (a single revision means REV..HEAD)')
    parser.add_argument("--markdown", action="store_true", help="Markdown for a change ticket")
    parser.add_argument(
        "--repo", default=str(Path(__file__).resolve().parent.parent), help="repository (default: this one)"
    )
    args = parser.parse_args(argv)
    result, rev_range = collect(args.repo, args.range)
    sys.stdout.write((render_markdown if args.markdown else render_text)(result, rev_range) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
