#!/usr/bin/env bash
# Generate the lab's own secrets on first run, into .lab/ (git-ignored, 0700).
# Nothing here is ever committed; production secrets live in ansible-vault
# (inventories/production.example/group_vars/all/vault.yml.example).
#
#   .lab/ssh/opsadmin_ed25519[.pub]   the operations account's key pair
#                                     (inventories/lab/group_vars/all/common.yml)
# Existing secrets are kept: running it again changes nothing.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

umask 077
mkdir -p "$LAB_STATE_DIR/ssh"
chmod 700 "$LAB_STATE_DIR"

key="$LAB_STATE_DIR/ssh/opsadmin_ed25519"
if [ ! -f "$key" ]; then
  ssh-keygen -q -t ed25519 -N '' -C "opsadmin@govops-lab" -f "$key"
  log "generated the lab's operations key pair: $key"
fi
