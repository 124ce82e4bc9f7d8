#!/bin/bash
# A client that writes numbered rows through the application path, one row
# per transaction, for failover tests (molecule/database/verify.yml) and the
# failover benchmark (scripts/bench/failover.py). An id is written to the
# acknowledged list only when psql returned success for its COMMIT, so
# "acknowledged but not on the new primary" is data a failover lost.
#
#   failover-writer.sh CONNINFO   (password from PGPASSFILE; stops when /var/tmp/writer.stop exists)
set -u
conninfo="$1"
rm -f /var/tmp/writer.acked /var/tmp/writer.stop
i=0
while [ ! -e /var/tmp/writer.stop ] && [ "$i" -lt 100000 ]; do
  i=$((i + 1))
  if psql "$conninfo" -X -q -c "INSERT INTO failover_writes (id) VALUES ($i)" 2>/dev/null; then
    echo "$i" >> /var/tmp/writer.acked
  fi
  sleep 0.05
done
