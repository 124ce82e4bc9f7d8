#!/usr/bin/env bash
# Install what this repository needs on a fresh Debian 12/13 machine, as root:
# apt packages (podman, runc, debootstrap, ...), the project venv with the
# pinned Python tool chain from pyproject.toml, and the lab images.
# Usage: scripts/setup.sh [image ...]   (image names: scripts/build-images.sh)
# Every step is skipped when already done; run it as often as you like.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
require_root
require_debian

APT_PACKAGES=(podman runc debootstrap python3 python3-venv openssh-client git make ca-certificates)

install_apt() {
  local missing=()
  local pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    log "apt packages present"
    return 0
  fi
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The venv is stamped with the hash of the dependency list (not of the whole
# pyproject.toml), so a change to [tool.*] settings does not reinstall it.
dependency_list() {
  /usr/bin/python3 - "$REPO_ROOT/pyproject.toml" <<'PY'
import sys, tomllib
with open(sys.argv[1], "rb") as handle:
    print("\n".join(tomllib.load(handle)["project"]["dependencies"]))
PY
}

install_venv() {
  local stamp="$VENV_DIR/.requirements.sha256" want requirements
  requirements="$(dependency_list)"
  want="$(sha256sum <<<"$requirements" | cut -d' ' -f1)"
  if [ -x "$VENV_DIR/bin/ansible-playbook" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    log "venv current ($VENV_DIR)"
    return 0
  fi
  log "creating the venv $VENV_DIR from pyproject.toml"
  /usr/bin/python3 -m venv "$VENV_DIR"
  "$VENV_DIR/bin/pip" install -q --upgrade pip
  echo "$requirements" > "$VENV_DIR/requirements.txt"
  "$VENV_DIR/bin/pip" install -q -r "$VENV_DIR/requirements.txt"
  echo "$want" > "$stamp"
}

timed setup-apt install_apt
timed setup-venv install_venv
# Arguments name the images to build (scripts/build-images.sh; default all).
timed setup-images "$REPO_ROOT/scripts/build-images.sh" "$@"
timed setup-lab-secrets python3 "$REPO_ROOT/scripts/lab_secrets.py"
