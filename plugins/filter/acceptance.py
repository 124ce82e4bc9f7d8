# Filters that turn the per-host acceptance results (registered by each role's
# tasks/verify.yml as `<role>_acceptance`) into the acceptance report:
# flat rows, a summary with a verdict, and a text table for the terminal.
# Plain Python on purpose: scripts and tests import it directly.
from __future__ import annotations

import unicodedata

STATUS_ORDER = {"fail": 0, "warn": 1, "skip": 2, "pass": 3}
STATUS_LABEL = {"pass": "通过 PASS", "fail": "失败 FAIL", "warn": "警告 WARN", "skip": "跳过 SKIP"}


def acceptance_rows(hostvars, expected):
    """Flatten the registered results of each role's verify into report rows.

    ``expected`` maps a role name to the hosts it was applied to, e.g.
    ``{"common": groups["all"], "redis": groups["redis"]}``. Each role's
    tasks/verify.yml registers ``<role>_acceptance`` (the check module's
    result). A host that has no result for a role it should have (it was
    unreachable, or the verify did not run) gets one failing row, so a
    missing host can never look like a passing one.
    """
    rows = []
    for role, hosts in sorted(expected.items()):
        for host in sorted(hosts):
            result = (hostvars.get(host) or {}).get(f"{role}_acceptance") or {}
            checks = result.get("checks")
            if not checks:
                rows.append(
                    {
                        "host": host,
                        "role": role,
                        "id": f"{role}.acceptance_record",
                        "title": {"zh_CN": "验收记录", "en": "Acceptance record"},
                        "status": "fail",
                        "evidence": f"no {role} acceptance result from this host "
                        "(unreachable, or its verify did not run)",
                        "measured": None,
                    }
                )
                continue
            rows.extend({"host": host, "role": role, **check} for check in checks)
    return rows


def acceptance_summary(rows):
    """Counts per status, host count and the overall verdict (pass/fail)."""
    counts = {status: 0 for status in STATUS_ORDER}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    counts["total"] = len(rows)
    counts["hosts"] = len({row["host"] for row in rows})
    counts["verdict"] = "pass" if counts["fail"] == 0 and rows else "fail"
    return counts


def _width(text):
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text, width):
    return text + " " * max(0, width - _width(text))


def _cell(value, limit=48):
    text = "-" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def acceptance_table(rows):
    """A fixed-width table (wide CJK characters counted as two columns)."""
    header = ["主机 Host", "检查项 Check", "结果 Status", "测量值 Measured", "说明 Title"]
    ordered = sorted(rows, key=lambda r: (r["host"], r["role"], r["id"]))
    body = [
        [
            row["host"],
            row["id"],
            STATUS_LABEL.get(row["status"], row["status"]),
            _cell(row.get("measured")),
            f"{row['title'].get('zh_CN', '')} / {row['title'].get('en', '')}",
        ]
        for row in ordered
    ]
    widths = [max(_width(line[i]) for line in [header, *body]) for i in range(len(header) - 1)]
    lines = []
    for line in [header, None, *body]:
        if line is None:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 20)
            continue
        lines.append("  ".join(_pad(cell, w) for cell, w in zip(line, widths, strict=False)) + "  " + line[-1])
    summary = acceptance_summary(rows)
    lines.append("")
    lines.append(
        f"验收结论 Verdict: {STATUS_LABEL[summary['verdict']]} — "
        f"{summary['pass']} 通过 passed, {summary['fail']} 失败 failed, "
        f"{summary['warn']} 警告 warnings, {summary['skip']} 跳过 skipped, "
        f"{summary['hosts']} 台主机 hosts"
    )
    for row in ordered:
        if row["status"] == "fail":
            lines.append(f"  ✗ {row['host']} {row['id']}: {row['evidence']}")
    return "\n".join(lines)


class FilterModule:
    """Acceptance report filters."""

    def filters(self):
        return {
            "acceptance_rows": acceptance_rows,
            "acceptance_summary": acceptance_summary,
            "acceptance_table": acceptance_table,
        }
