#!/usr/bin/env bash
# The scheduled database restore drill: playbooks/db_restore_drill.yml run
# through ansible-runner, which keeps each run's artifacts (stdout, job
# events, exit status) under $GOVOPS_RUNNER_DIR/artifacts/<run id>/.
# Run by the systemd timer govops-db-restore-drill.timer (installed by
# playbooks/db_restore_drill_schedule.yml), or by hand:
#
#   GOVOPS_INVENTORY=inventories/prod scripts/scheduled-drill.sh [-e var=value ...]
#
# Settings (environment; the timer reads them from /etc/govops/db-restore-drill.env):
#   GOVOPS_INVENTORY             inventory (default: the lab)
#   GOVOPS_RUNNER_DIR            ansible-runner private data directory (default /var/lib/govops/drill-runner)
#   GOVOPS_RUNNER_KEEP           how many runs' artifacts to keep (default 40)
#   GOVOPS_VAULT_PASSWORD_FILE   root-only file with the inventory's vault password (optional)
#   GOVOPS_CHANGE_TICKET         the standing change under which scheduled drills run (default
#                                standard-change:scheduled-restore-drill); playbooks/change_ticket.yml
#                                requires one on inventories with govops_change_ticket_required
# Exit status: 0 when the drill met its targets; otherwise the playbook's, with
# the reason in one line on stderr.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

runner_dir="${GOVOPS_RUNNER_DIR:-/var/lib/govops/drill-runner}"
keep="${GOVOPS_RUNNER_KEEP:-40}"
inventory="${GOVOPS_INVENTORY:-$REPO_ROOT/inventories/lab}"
ident="drill-$(date -u +%Y%m%dT%H%M%SZ)"
[ -e "$inventory" ] || die "inventory $inventory does not exist. Fix: set GOVOPS_INVENTORY (db_restore_drill_inventory)."

cmdline=()
if [ -n "${GOVOPS_VAULT_PASSWORD_FILE:-}" ]; then
  [ -r "$GOVOPS_VAULT_PASSWORD_FILE" ] || die "vault password file $GOVOPS_VAULT_PASSWORD_FILE is not readable. Fix: create it (mode 0600) or unset GOVOPS_VAULT_PASSWORD_FILE."
  cmdline+=("--vault-password-file $GOVOPS_VAULT_PASSWORD_FILE")
fi
cmdline+=("-e change_ticket=${GOVOPS_CHANGE_TICKET:-standard-change:scheduled-restore-drill}")
# Extra arguments (-e ...) go to ansible-playbook (a -e change_ticket=... there wins).
[ $# -gt 0 ] && cmdline+=("$*")

# ansible-runner puts its own callback directory in ANSIBLE_CALLBACK_PLUGINS,
# which hides ansible.cfg's callback_plugins: name ours there too, so that the
# drill leaves its run record (plugins/callback/govops_run_record.py).
export ANSIBLE_CALLBACK_PLUGINS="$REPO_ROOT/plugins/callback${ANSIBLE_CALLBACK_PLUGINS:+:$ANSIBLE_CALLBACK_PLUGINS}"
mkdir -p -m 0700 "$runner_dir"
rc=0
ansible-runner run "$runner_dir" \
  --project-dir "$REPO_ROOT" \
  --playbook playbooks/db_restore_drill.yml \
  --inventory "$(readlink -f "$inventory")" \
  --ident "$ident" \
  --rotate-artifacts "$keep" \
  ${cmdline[@]+--cmdline "${cmdline[*]}"} \
  --quiet || rc=$?

artifacts="$runner_dir/artifacts/$ident"
if [ "$rc" -ne 0 ]; then
  reason="$(grep -ao 'restore drill [^ ]* failed: [^"]*' "$artifacts/stdout" 2>/dev/null | tail -1 || true)"
  echo "restore drill $ident FAILED (rc $rc): ${reason:-see $artifacts/stdout}" >&2
  exit "$rc"
fi
echo "restore drill $ident passed; ansible-runner artifacts: $artifacts"
