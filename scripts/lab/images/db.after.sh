#!/bin/sh
# Runs inside the "db" image build, after its packages are installed.
# Debian's postgresql-common made a "main" cluster during the install (without
# data checksums). roles/postgresql prevents that with a createcluster drop-in
# written before it installs; the image stands for a host where that happened:
# the packages are there, no cluster is.
set -eu
for conf in /etc/postgresql/*/main; do
  [ -d "$conf" ] || continue
  version="$(basename "$(dirname "$conf")")"
  pg_dropcluster "$version" main
done
