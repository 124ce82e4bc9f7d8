#!/usr/bin/env bash
# The test command behind `./govops test` (and so .ci/run): setup, lint, unit
# tests, syntax checks of both inventories, every Molecule scenario, with each
# stage's wall time and the machine's load in a closing table. The suite itself
# is scripts/testsuite.py (its docstring lists the options: one stage,
# --changed, --jobs).
#
# Usage: scripts/test.sh [lint|unit|syntax|molecule [SCENARIO ...]] [--changed] [--jobs N]
set -uo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT" || exit 1
require_root
# The system Python runs the suite: the venv is made by its first stage.
exec /usr/bin/python3 scripts/testsuite.py "$@"
