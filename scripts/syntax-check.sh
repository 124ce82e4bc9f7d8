#!/usr/bin/env bash
# The "syntax" stage of the test suite (scripts/testsuite.py): both
# inventories parse, and every playbook passes --syntax-check against each.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
for inv in inventories/lab inventories/production.example; do
  ansible-inventory -i "$inv" --graph >/dev/null
  ansible-playbook -i "$inv" --syntax-check playbooks/*.yml >/dev/null
  echo "syntax ok: $inv"
done
