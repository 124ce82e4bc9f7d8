#!/usr/bin/env bash
# Build the lab's images locally (no container registry is reachable).
#
# Base images: debootstrap a Debian minbase with systemd + python3 + sshd +
# sudo, import it into podman as localhost/govops-debian:<suite>. A bare
# server: molecule/common and molecule/hardening install onto it.
#
# Tier images: localhost/govops-<tier>:trixie, the trixie base plus the Debian
# packages the roles of one tier install (scripts/lab/images/<tier>.txt, and
# <tier>.after.sh when the tier needs a step after the install). The lab and
# the tier's Molecule scenarios start from them, so no scenario downloads and
# unpacks PostgreSQL or Redis again; the roles still run their install tasks,
# which find the packages present.
#
# Every image is cached by a hash of its recipe (this script, its package
# list, its parent's hash): it is rebuilt only when that recipe changes, and a
# change to one tier's list rebuilds that tier only.
#
# Usage: scripts/build-images.sh [suite|tier|lab ...]
#   default: trixie, bookworm and every tier (what the tests use);
#   lab: trixie and every tier (what ./govops lab uses).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
require_root

IMAGE_REPO="localhost/govops-debian"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PACKAGES_FILE="$REPO_ROOT/scripts/lab/image-packages.txt"
TIER_DIR="$REPO_ROOT/scripts/lab/images"
TIER_SUITE=trixie

# A recipe is the code that builds the image (the functions' own text, not the
# whole script, so an edit elsewhere in this file rebuilds nothing) and its
# inputs.
recipe_hash() {
  local suite="$1"
  { declare -f build_one configure_rootfs; cat "$PACKAGES_FILE"; echo "$suite $MIRROR"; } | sha256sum | cut -c1-12
}

tier_hash() {
  local tier="$1" after="$TIER_DIR/$tier.after.sh"
  {
    declare -f build_tier
    cat "$TIER_DIR/$tier.txt"
    [ ! -f "$after" ] || cat "$after"
    echo "$(recipe_hash "$TIER_SUITE") $TIER_SUITE $MIRROR"
  } | sha256sum | cut -c1-12
}

# Drop older recipe tags of one repository (keep the given one).
prune_tags() {
  local repo="$1" keep="$2"
  podman images --format '{{.Repository}}:{{.Tag}}' \
    | grep -E "^$repo:$TIER_SUITE-[0-9a-f]{12}$" | grep -v "^$keep$" \
    | xargs -r podman rmi >/dev/null 2>&1 || true
}

build_tier() {
  local tier="$1" hash tag parent context packages
  [ -f "$TIER_DIR/$tier.txt" ] || die "no package list $TIER_DIR/$tier.txt. Fix: use one of: $(tiers | paste -sd' ' -)."
  hash="$(tier_hash "$tier")"
  tag="localhost/govops-$tier:$TIER_SUITE-$hash"
  if podman image exists "$tag"; then
    podman tag "$tag" "localhost/govops-$tier:$TIER_SUITE"
    log "image $tag is current (recipe unchanged), not rebuilt"
    return 0
  fi
  parent="$IMAGE_REPO:$TIER_SUITE-$(recipe_hash "$TIER_SUITE")"
  podman image exists "$parent" || build_one "$TIER_SUITE"
  packages="$(grep -vE '^\s*(#|$)' "$TIER_DIR/$tier.txt" | awk '{print $1}' | paste -sd' ' -)"
  log "building $tag: $parent + $packages"
  context="$(mktemp -d /var/tmp/govops-image.XXXXXX)"
  # shellcheck disable=SC2064
  trap "rm -rf '$context'" RETURN
  cp "$TIER_DIR/$tier.after.sh" "$context/after.sh" 2>/dev/null || printf '#!/bin/sh\n' > "$context/after.sh"
  # The package lists stay in the image: the roles' first apt task finds them
  # (cache_valid_time) instead of downloading them again in every container.
  cat > "$context/Containerfile" <<CONTAINERFILE
FROM $parent
COPY after.sh /tmp/after.sh
RUN apt-get update -qq \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages >/dev/null \\
 && sh /tmp/after.sh && rm -f /tmp/after.sh \\
 && apt-get clean && rm -rf /var/cache/apt/*.bin
LABEL org.opencontainers.image.description="govops lab tier image $tier, recipe $hash"
CONTAINERFILE
  podman build --quiet --tag "$tag" "$context" > "$CACHE_DIR/image-$tier.log" 2>&1 \
    || { tail -20 "$CACHE_DIR/image-$tier.log" >&2; die "the $tier image did not build (log: $CACHE_DIR/image-$tier.log). Fix: check the package names in $TIER_DIR/$tier.txt and that $MIRROR is reachable."; }
  podman tag "$tag" "localhost/govops-$tier:$TIER_SUITE"
  prune_tags "localhost/govops-$tier" "$tag"
  log "built $tag"
}

tiers() { find "$TIER_DIR" -name '*.txt' -printf '%f\n' | sed 's/\.txt$//' | sort; }

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
    | xargs -r podman rmi >/dev/null 2>&1 || true
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
targets=()
for target in "${@:-all}"; do
  case "$target" in
    all) mapfile -t -O "${#targets[@]}" targets < <(printf '%s\n' trixie bookworm; tiers) ;;
    lab) mapfile -t -O "${#targets[@]}" targets < <(printf '%s\n' trixie; tiers) ;;
    *) targets+=("$target") ;;
  esac
done
for target in "${targets[@]}"; do
  case "$target" in
    trixie | bookworm) timed "image-$target" build_one "$target" ;;
    *) timed "image-$target" build_tier "$target" ;;
  esac
done
