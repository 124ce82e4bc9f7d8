#!/usr/bin/env bash
# The test command behind `make test` (and so .ci/run): lint, unit tests,
# syntax checks of both inventories, every Molecule scenario. Every stage
# runs even when an earlier one failed; each prints its wall time; the exit
# code is non-zero when any stage failed.
#
# Usage: scripts/test.sh [lint|unit|syntax|molecule [SCENARIO]]   (default: all)
set -uo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT" || exit 1

passed=0
failed=0
failures=()

summary=()

stage() {
  local name="$1"; shift
  local start result
  echo
  log "stage $name"
  start=$(date +%s)
  if timed "$name" "$@"; then
    passed=$((passed + 1))
    result=ok
  else
    failed=$((failed + 1))
    failures+=("$name")
    result=FAILED
  fi
  summary+=("$(printf '  %-28s %6ss  %s' "$name" "$(($(date +%s) - start))" "$result")")
}

lint_yaml() { yamllint --strict .; }
lint_ansible() { ansible-lint --profile production --offline; }
lint_python() { ruff check . && ruff format --check .; }

unit() { pytest; }

syntax() {
  local inv
  for inv in inventories/lab/hosts.yml inventories/production.example/hosts.yml; do
    ansible-inventory -i "$inv" --graph >/dev/null || return 1
    ansible-playbook -i "$inv" --syntax-check playbooks/*.yml >/dev/null || return 1
    echo "syntax ok: $inv"
  done
}

molecule_scenario() { molecule test --scenario-name "$1"; }

run_molecule() {
  local scenario
  local scenarios=("$@")
  if [ "${#scenarios[@]}" -eq 0 ]; then
    for scenario in molecule/*/molecule.yml; do
      scenarios+=("$(basename "$(dirname "$scenario")")")
    done
  fi
  for scenario in "${scenarios[@]}"; do
    stage "molecule-$scenario" molecule_scenario "$scenario"
  done
}

what="${1:-all}"
[ $# -gt 0 ] && shift
case "$what" in
  lint) stage lint-yaml lint_yaml; stage lint-ansible lint_ansible; stage lint-python lint_python ;;
  unit) stage unit unit ;;
  syntax) stage syntax syntax ;;
  molecule) run_molecule "$@" ;;
  all)
    stage lint-yaml lint_yaml
    stage lint-ansible lint_ansible
    stage lint-python lint_python
    stage unit unit
    stage syntax syntax
    run_molecule
    ;;
  *) die "unknown stage '$what'. Fix: use lint, unit, syntax, molecule or nothing (all)." ;;
esac

echo
log "wall time per stage"
printf '%s\n' "${summary[@]}"
[ "$failed" -eq 0 ] || echo "failed stages: ${failures[*]}"
# The plain closing line CI reads.
echo "test-stages: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
