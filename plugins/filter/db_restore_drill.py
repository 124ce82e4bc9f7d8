# Filters for roles/db_restore_drill: the drill's verdict against the RTO /
# RPO targets, and the trend over earlier drills (with the points of a small
# SVG line chart for the HTML report).
# Plain Python on purpose: tests import it directly.
from __future__ import annotations

import statistics

CHART_WIDTH = 360
CHART_HEIGHT = 80


def _num(value):
    try:
        return None if value in (None, "") else float(value)
    except (TypeError, ValueError):
        return None


def _table_rows(before, after, target):
    """Per table: the count on the primary before the marker, in the copy, and a status."""
    rows = []
    for name in sorted(before or {}):
        was, now = before.get(name), (after or {}).get(name)
        if now is None:
            status, note = "fail", "not read from the copy"
        elif now == was:
            status, note = "pass", "equal"
        elif now > was:
            status, note = "pass", f"{now - was} row(s) more: written after the count"
        elif target == "time":
            status, note = "pass", "fewer: the target time is before the count"
        else:
            status, note = "fail", f"{was - now} row(s) missing in the copy"
        rows.append({"table": name, "primary": was, "restored": now, "status": status, "note": note})
    return rows


def db_restore_drill_report(run, repo, marker, result, targets):
    """The drill's figures, checks and verdict.

    run: the drill's id, start, operator, change id, target (validate.yml);
    repo: the repository's newest backup (plan_repo.yml); marker: the marker
    and the measured RPO on the primary (marker.yml), empty when that step
    failed; result: the restore on the drill host (restore.yml);
    targets: {rto_minutes, rpo_minutes}.
    """
    marker = marker or {}
    result = result or {}
    rto_target = float(targets["rto_minutes"]) * 60
    rpo_target = float(targets["rpo_minutes"]) * 60
    rto, rpo = _num(result.get("rto_seconds")), _num(marker.get("rpo_seconds"))
    checks = []

    def check(check_id, zh, en, ok, evidence):
        checks.append(
            {"id": check_id, "title": {"zh_CN": zh, "en": en}, "status": "pass" if ok else "fail", "evidence": evidence}
        )

    if marker.get("error") or not marker.get("id"):
        check(
            "drill.marker",
            "主库写入演练标记",
            "Marker written on the primary",
            False,
            marker.get("error") or "the marker step did not run",
        )
    else:
        check(
            "drill.marker",
            "主库写入演练标记",
            "Marker written on the primary",
            True,
            f"{marker['id']} in WAL file {marker['wal_file']}",
        )
        check(
            "drill.rpo",
            "RPO 在目标之内",
            "RPO within target",
            rpo is not None and rpo <= rpo_target,
            f"the marker reached the off-host repository {rpo} s after its commit "
            f"(archived {marker.get('archived_wal')}); target {targets['rpo_minutes']} min",
        )
    if result.get("error"):
        check("drill.restore", "从异机备份恢复", "Restore from the off-host backup", False, result["error"])
    elif not result:
        check(
            "drill.restore", "从异机备份恢复", "Restore from the off-host backup", False, "the restore step did not run"
        )
    else:
        check(
            "drill.restore",
            "从异机备份恢复",
            "Restore from the off-host backup",
            True,
            f"backup set {result.get('backup_set') or 'unknown'} from {_repo_name(repo)} "
            f"restored on {result.get('host')} in {result.get('restore_seconds')} s, "
            f"recovery until the first write {result.get('recovery_seconds')} s",
        )
        check(
            "drill.rto",
            "RTO 在目标之内",
            "RTO within target",
            rto is not None and rto <= rto_target,
            f"restore start to a usable database (a write accepted): {rto} s; target {targets['rto_minutes']} min",
        )
        if run.get("target") in ("latest", "marker"):
            check(
                "drill.marker_restored",
                "恢复后的数据包含演练标记",
                "Restored data holds the marker",
                bool(result.get("marker_found")),
                "marker row found in the copy"
                if result.get("marker_found")
                else "marker row NOT in the copy: data written before the drill was lost",
            )
    tables = (
        _table_rows(marker.get("counts"), result.get("counts"), run.get("target"))
        if result and not result.get("error")
        else []
    )
    for row in tables:
        check(
            f"drill.rows.{row['table']}",
            f"行数核对 {row['table']}",
            f"Row count {row['table']}",
            row["status"] == "pass",
            f"primary {row['primary']}, copy {row['restored']}: {row['note']}",
        )
    failed = [c for c in checks if c["status"] == "fail"]
    return {
        "kind": "restore_drill",
        "id": run.get("id"),
        "started": run.get("started"),
        "operator": run.get("operator"),
        "change_id": run.get("change_id"),
        "target": run.get("target"),
        "target_time": run.get("target_time") or None,
        "drill_host": run.get("drill_host"),
        "backup": {
            "repository": int(_num(repo.get("index")) or 1),
            "set": result.get("backup_set") or repo.get("newest"),
            "newest_in_repository": repo.get("newest"),
            "type": repo.get("newest_type"),
            "database_size_bytes": int(_num(repo.get("database_size")) or 0),
        },
        "figures": {
            "rto_seconds": rto,
            "rpo_seconds": rpo,
            "restore_seconds": _num(result.get("restore_seconds")),
            "recovery_seconds": _num(result.get("recovery_seconds")),
            "rto_target_seconds": rto_target,
            "rpo_target_seconds": rpo_target,
        },
        "tables": tables,
        "checks": checks,
        "verdict": "fail" if failed else "pass",
        "reason": "; ".join(f"{c['id']}: {c['evidence']}" for c in failed),
        "recovery_stop": result.get("recovery_stop") or [],
        "log_tail": result.get("log_tail", []),
    }


def _repo_name(repo):
    """repo1 is the backup host (异机), repo2 the off-site copy (异地)."""
    index = int(_num(repo.get("index")) or 1)
    return "repo2 (off-site)" if index == 2 else f"repo{index} (backup host)"


def _points(values, top):
    """SVG polyline points for values (None skipped), scaled to the chart box."""
    pairs = [(i, v) for i, v in enumerate(values) if v is not None]
    if not pairs or top <= 0:
        return ""
    step = CHART_WIDTH / max(len(values) - 1, 1)
    return " ".join(f"{i * step:.1f},{CHART_HEIGHT - v / top * CHART_HEIGHT:.1f}" for i, v in pairs)


def db_restore_drill_trend(report, previous, count=12):
    """The last `count` drills (earlier reports plus this one), oldest first, with chart points.

    The chart's vertical scale tops out at the larger of the RTO target and
    the largest measured figure, so the target line is always visible.
    """
    rows = []
    for item in [*(previous or []), report]:
        if not isinstance(item, dict) or item.get("kind") != "restore_drill":
            continue
        figures = item.get("figures", {})
        rows.append(
            {
                "id": item.get("id"),
                "started": item.get("started"),
                "verdict": item.get("verdict"),
                "rto_seconds": _num(figures.get("rto_seconds")),
                "rpo_seconds": _num(figures.get("rpo_seconds")),
            }
        )
    rows = sorted(rows, key=lambda r: r["started"] or "")[-int(count) :]
    rto = [r["rto_seconds"] for r in rows]
    rpo = [r["rpo_seconds"] for r in rows]
    target = float(report["figures"]["rto_target_seconds"])
    top = max([target, *[v for v in rto + rpo if v is not None]]) * 1.1
    measured = [v for v in rto if v is not None]
    return {
        "drills": rows,
        "rto_median_seconds": statistics.median(measured) if measured else None,
        "passed": sum(1 for r in rows if r["verdict"] == "pass"),
        "chart": {
            "width": CHART_WIDTH,
            "height": CHART_HEIGHT,
            "rto_points": _points(rto, top),
            "rpo_points": _points(rpo, top),
            "target_y": round(CHART_HEIGHT - target / top * CHART_HEIGHT, 1),
        },
    }


class FilterModule:
    def filters(self):
        return {
            "db_restore_drill_report": db_restore_drill_report,
            "db_restore_drill_trend": db_restore_drill_trend,
        }
