# What every acceptance-check module of plugins/modules shares: how it behaves
# under check mode and the structure of its result (plugins/module_utils/
# govops_checks.py, CheckList). A module takes it in with
#   extends_documentation_fragment: [govops_check]
# and `ansible-doc` shows it under ATTRIBUTES and NOTES. Ansible merges doc
# fragments into DOCUMENTATION only, never into RETURN: each module's RETURN
# keeps one line each for `checks` and `summary` and points here for their fields.
from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Runs in check mode and changes nothing on the host there; a probe that would write is skipped.
    support: full
  diff_mode:
    description: Reports no diff; the module judges the host, it does not change it.
    support: none
notes:
  - "Result C(checks): one item per check, in the order they ran - C(id) (stable, C(<role>.<thing>); reports and
    waivers refer to it), C(title) (C(zh_CN) and C(en)), C(status) (C(pass), C(fail), C(warn) or C(skip)),
    C(evidence) (what was looked at and what was found) and C(measured) (the figure or value found, or null)."
  - "Result C(summary): how many checks have each status, and the C(total)."
"""
