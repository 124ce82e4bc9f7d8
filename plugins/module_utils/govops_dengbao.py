# 等保 (GB/T 22239-2019) verdicts on top of the acceptance-check structure of
# govops_checks.CheckList, for plugins/modules/dengbao_check.py and the
# hardening evidence report.
#
# Backwards compatible: DengbaoCheckList IS a CheckList (same checks/summary
# structure, same statuses); each check only gains three keys:
#   verdict      the Chinese verdict word for the status (符合 / 部分符合 / 不符合 / 不适用 / 例外)
#   remediation  what a hardening run would change ("" when nothing)
#   controls     the catalog item ids the check serves
# control_verdicts() folds the checks into one verdict per catalog item.
from __future__ import annotations

from ansible.module_utils.govops_checks import CheckList

COMPLIANT = "符合"
PARTIAL = "部分符合"
NON_COMPLIANT = "不符合"
NOT_APPLICABLE = "不适用"
EXCEPTION = "例外"

VERDICT_OF_STATUS = {"pass": COMPLIANT, "warn": PARTIAL, "fail": NON_COMPLIANT, "skip": NOT_APPLICABLE}
STATUS_OF_VERDICT = {
    COMPLIANT: "pass",
    PARTIAL: "warn",
    NON_COMPLIANT: "fail",
    NOT_APPLICABLE: "skip",
    EXCEPTION: "skip",
}
VERDICTS = (COMPLIANT, PARTIAL, NON_COMPLIANT, NOT_APPLICABLE, EXCEPTION)
VERDICT_EN = {
    COMPLIANT: "compliant",
    PARTIAL: "partially compliant",
    NON_COMPLIANT: "non-compliant",
    NOT_APPLICABLE: "not applicable",
    EXCEPTION: "exception",
}


def checks_by_control(catalog):
    """check id -> sorted list of catalog ids that list it."""
    mapping: dict[str, list[str]] = {}
    for item in catalog:
        for check_id in item.get("checks") or []:
            mapping.setdefault(check_id, []).append(item["id"])
    return {key: sorted(value) for key, value in mapping.items()}


class DengbaoCheckList(CheckList):
    """A CheckList whose checks also carry a 等保 verdict, remediation and controls."""

    def __init__(self, catalog=None, exceptions=None) -> None:
        super().__init__()
        self.controls_of = checks_by_control(catalog or [])
        self.exceptions = {item["control"]: item for item in exceptions or []}

    def add(self, check_id, title_zh, title_en, status, evidence, measured=None, remediation=""):
        controls = self.controls_of.get(check_id, [])
        excepted = bool(controls) and all(control in self.exceptions for control in controls)
        if excepted:
            reasons = "; ".join(f"{c}: {self.exceptions[c].get('reason', '')}" for c in controls)
            evidence = f"例外 exception ({reasons}). Found: {evidence}"
            status = "skip"
        super().add(check_id, title_zh, title_en, status, evidence, measured)
        check = self.checks[-1]
        check["verdict"] = EXCEPTION if excepted else VERDICT_OF_STATUS[status]
        check["remediation"] = "" if status == "pass" or excepted else remediation
        check["controls"] = controls

    def verdict(self, check_id, title_zh, title_en, ok, evidence, measured=None, remediation=""):
        self.add(check_id, title_zh, title_en, "pass" if ok else "fail", evidence, measured, remediation)


def _fold(statuses):
    """One verdict from the statuses of an item's checks (skips ignored)."""
    counted = [status for status in statuses if status != "skip"]
    if not counted:
        return NOT_APPLICABLE
    if all(status == "pass" for status in counted):
        return COMPLIANT
    if all(status == "fail" for status in counted):
        return NON_COMPLIANT
    return PARTIAL


def control_verdicts(catalog, checks, exceptions=None):
    """One row per catalog item: id, clause, text, automation, verdict, status, evidence, remediation, checks."""
    by_id = {check["id"]: check for check in checks}
    excepted = {item["control"]: item for item in exceptions or []}
    rows = []
    for item in catalog:
        automation = item.get("automation", "automated")
        check_ids = list(item.get("checks") or [])
        found = [by_id[check_id] for check_id in check_ids if check_id in by_id]
        missing = [check_id for check_id in check_ids if check_id not in by_id]
        exception = excepted.get(item["id"])
        evidence = [f"{check['id']}: [{check['verdict']}] {check['evidence']}" for check in found]
        remediation = [f"{check['id']}: {check['remediation']}" for check in found if check.get("remediation")]
        if exception:
            verdict = EXCEPTION
            evidence.insert(
                0,
                f"例外 exception: {exception.get('reason', '')} (approver {exception.get('approver', '?')}, "
                f"expires {exception.get('expires', '?')})",
            )
            remediation = [f"renew the exception before {exception.get('expires', '?')} or apply the control"]
        elif automation == "not-applicable":
            verdict = NOT_APPLICABLE
            evidence.insert(0, f"不适用 not applicable at OS level: {item.get('reason', '')}")
        elif automation == "interview-only":
            verdict = NOT_APPLICABLE
            evidence.insert(0, f"需人工访谈核查 interview only, not checked automatically: {item.get('reason', '')}")
        elif missing:
            verdict = NON_COMPLIANT
            evidence.append(f"no result for check(s) {', '.join(missing)}")
        else:
            verdict = _fold([check["status"] for check in found])
            if automation == "partial":
                evidence.append(f"部分自动化 partly automated; the rest by interview: {item.get('reason', '')}")
        rows.append(
            {
                "id": item["id"],
                "clause": item.get("clause", ""),
                "category": item.get("category", {}),
                "text": item.get("text", {}),
                "automation": automation,
                "verdict": verdict,
                "verdict_en": VERDICT_EN[verdict],
                "status": STATUS_OF_VERDICT[verdict],
                "evidence": evidence,
                "remediation": remediation,
                "checks": check_ids,
                "exception": exception,
            }
        )
    return rows


def verdict_summary(rows):
    """Counts per verdict word, and the total."""
    counts = {verdict: 0 for verdict in VERDICTS}
    for row in rows:
        counts[row["verdict"]] += 1
    counts["total"] = len(rows)
    return counts
