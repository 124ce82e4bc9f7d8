#!/usr/bin/env bash
# Build the lab's base images locally (no container registry is reachable):
# debootstrap a Debian minbase with systemd + python3 + sshd + sudo, import it
# into podman as localhost/govops-debian:<suite>.
# The image is cached by a hash of its recipe (this script, the package list):
# it is rebuilt only when the recipe changes.
#
# Usage: scripts/build-images.sh [suite ...]      (default: trixie bookworm)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
require_root

IMAGE_REPO="localhost/govops-debian"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PACKAGES_FILE="$REPO_ROOT/scripts/lab/image-packages.txt"

recipe_hash() {
  local suite="$1"
  cat "$0" "$PACKAGES_FILE" <(echo "$suite $MIRROR") | sha256sum | cut -c1-12
}

build_one() {
  local suite="$1" hash tag rootfs packages
  hash="$(recipe_hash "$suite")"
  tag="$IMAGE_REPO:$suite-$hash"
  if podman image exists "$tag"; then
    podman tag "$tag" "$IMAGE_REPO:$suite"
    log "image $tag is current (recipe unchanged), not rebuilt"
    return 0
  fi
  log "building $tag with debootstrap ($MIRROR)"
  rootfs="$(mktemp -d /var/tmp/govops-rootfs.XXXXXX)"
  # shellcheck disable=SC2064
  trap "rm -rf '$rootfs'" RETURN
  packages="$(grep -vE '^\s*(#|$)' "$PACKAGES_FILE" | paste -sd, -)"
  debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$MIRROR" \
    > "$CACHE_DIR/debootstrap-$suite.log" 2>&1 \
    || { tail -20 "$CACHE_DIR/debootstrap-$suite.log" >&2; die "debootstrap of $suite failed (log: $CACHE_DIR/debootstrap-$suite.log). Fix: check that $MIRROR is reachable."; }
  configure_rootfs "$rootfs" "$suite"
  tar -C "$rootfs" --numeric-owner -c . \
    | podman import --quiet \
        --change 'CMD ["/sbin/init"]' \
        --change 'STOPSIGNAL SIGRTMIN+3' \
        --change 'ENV container=podman' \
        --message "govops lab base image, Debian $suite, recipe $hash" \
        - "$tag" >/dev/null
  podman tag "$tag" "$IMAGE_REPO:$suite"
  # Keep one image per suite: drop older recipe tags.
  podman images --format '{{.Repository}}:{{.Tag}}' \
    | grep -E "^$IMAGE_REPO:$suite-[0-9a-f]{12}$" | grep -v "^$tag$" \
    | xargs -r podman rmi -f >/dev/null 2>&1 || true
  log "built $tag"
}

configure_rootfs() {
  local rootfs="$1" suite="$2"
  # Clean apt lists and caches: the roles run apt-get update themselves.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin
  echo "deb $MIRROR $suite main" > "$rootfs/etc/apt/sources.list"
  rm -f "$rootfs"/etc/apt/sources.list.d/*.sources
  # Every container must get its own identity: no shared machine-id or
  # sshd host keys. systemd writes a machine-id at boot; keys are made by
  # the drop-in below on first start.
  : > "$rootfs/etc/machine-id"
  rm -f "$rootfs"/etc/ssh/ssh_host_*
  mkdir -p "$rootfs/etc/systemd/system/ssh.service.d"
  cat > "$rootfs/etc/systemd/system/ssh.service.d/10-lab-hostkeys.conf" <<'UNIT'
# Lab image: host keys are created on first boot, one set per container,
# before Debian's own config test (the list is reset to keep that order).
[Service]
ExecStartPre=
ExecStartPre=/usr/bin/ssh-keygen -A
ExecStartPre=/usr/sbin/sshd -t
UNIT
  # Units that have no job in a container (no hardware, no consoles).
  local unit
  for unit in getty.target console-getty.service systemd-udevd.service \
      systemd-udev-trigger.service systemd-modules-load.service \
      sys-kernel-config.mount sys-kernel-debug.mount sys-fs-fuse-connections.mount \
      systemd-remount-fs.service; do
    ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
  done
  # A plain hosts file (bookworm's debootstrap leaves none); containers run
  # with --no-hosts and roles/common manages the platform entries in it.
  printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' > "$rootfs/etc/hosts"
  # A locked root password: access is via podman exec (lab) or SSH keys.
  chroot "$rootfs" passwd -l root >/dev/null
  # C.UTF-8 is built in; zh_CN.UTF-8 for reports and operators' shells.
  sed -i 's/^# *\(zh_CN.UTF-8 UTF-8\)/\1/; s/^# *\(en_US.UTF-8 UTF-8\)/\1/' "$rootfs/etc/locale.gen"
  chroot "$rootfs" locale-gen >/dev/null 2>&1 || true
}

mkdir -p "$CACHE_DIR"
suites=("$@")
[ "${#suites[@]}" -gt 0 ] || suites=(trixie bookworm)
for suite in "${suites[@]}"; do
  case "$suite" in trixie|bookworm) ;; *) die "unknown suite '$suite'. Fix: use trixie or bookworm." ;; esac
  timed "image-$suite" build_one "$suite"
done
