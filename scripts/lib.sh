# shellcheck shell=bash
# Shared helpers for the scripts in this folder: sourced, never run.
# One place for the paths, the podman configuration and the one-line errors.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO_ROOT
# Everything the lab generates (secrets, keys, stamps) lives here, git-ignored.
LAB_STATE_DIR="${LAB_STATE_DIR:-$REPO_ROOT/.lab}"
# Downloaded artifacts and image build stamps, kept between runs.
CACHE_DIR="${CACHE_DIR:-$REPO_ROOT/.cache}"
VENV_DIR="${VENV_DIR:-$REPO_ROOT/.venv}"
export LAB_STATE_DIR CACHE_DIR VENV_DIR
export CONTAINERS_CONF="$REPO_ROOT/scripts/lab/containers.conf"
export ANSIBLE_CONFIG="$REPO_ROOT/ansible.cfg"
export PATH="$VENV_DIR/bin:$PATH"
# Plain text when the output is a log (CI, a file): no colour escapes.
if [ ! -t 1 ]; then
  export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 NO_COLOR=1
fi
# The lab's generated secrets (scripts/lab_secrets.py) are ansible-vault
# encrypted with the vault id "lab". Production adds its own id on the command
# line (--vault-id prod@prompt); ansible tries each id in turn.
if [ -f "$LAB_STATE_DIR/vault-password" ]; then
  export ANSIBLE_VAULT_IDENTITY_LIST="lab@$LAB_STATE_DIR/vault-password"
fi

die() {
  # One line, what is wrong and what to do: "error: <what>. Fix: <how>."
  echo "error: $*" >&2
  exit 1
}

log() { echo "==> $*"; }

require_root() {
  [ "$(id -u)" -eq 0 ] || die "this must run as root (podman rootful containers, apt, debootstrap). Fix: run it again with sudo or as root."
}

require_debian() {
  # OS_RELEASE_FILE exists for the tests (tests/test_scripts.py).
  local file="${OS_RELEASE_FILE:-/etc/os-release}" id="" version=""
  if [ -r "$file" ]; then
    # shellcheck disable=SC1090
    id="$(. "$file" && echo "${ID:-}")"
    # shellcheck disable=SC1090
    version="$(. "$file" && echo "${VERSION_ID:-}")"
  fi
  [ "$id" = "debian" ] || die "this host is '${id:-unknown}', not Debian. Fix: use a Debian 12 (bookworm) or 13 (trixie) machine."
  case "$version" in
    12|13) ;;
    *) die "Debian ${version:-unknown} is not supported. Fix: use Debian 12 (bookworm) or 13 (trixie)." ;;
  esac
}

# Print the wall time of a named stage: `timed "stage name" cmd args...`.
# The line format ("wall-time: <name> <seconds>s <status>") is what CI logs are grepped for.
timed() {
  local name="$1"; shift
  local start end rc
  start=$(date +%s)
  "$@"; rc=$?
  end=$(date +%s)
  local status="ok"; [ "$rc" -eq 0 ] || status="FAILED(rc=$rc)"
  echo "wall-time: ${name} $((end - start))s ${status}"
  return "$rc"
}
