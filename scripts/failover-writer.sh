#!/bin/bash
# A client that writes numbered rows through the application path, one row
# per transaction, for failover tests (molecule/database/verify.yml) and the
# failover benchmark (scripts/bench/failover.py). An id is written to the
# acknowledged list only when psql returned success for its COMMIT, so
# "acknowledged but not on the new primary" is data a failover lost.
#
#   failover-writer.sh CONNINFO           write until /var/tmp/writer.stop exists
#   failover-writer.sh --count CONNINFO   after the writer stopped: one line of JSON,
#       {"server": address that answered, "acked": n, "lost": [acknowledged ids missing there]}
# The password comes from PGPASSFILE, never from the command line.
set -u
acked=/var/tmp/writer.acked
# Each refused write, with its time: the first line after an outage began is
# when this client noticed it (the probe's detection time in a failover record).
failed=/var/tmp/writer.failed

count() {
  local answer server present lost
  # One statement, so the address and the rows come from the same server.
  answer=$(psql "$1" -X -A -t -c \
    "SELECT host(inet_server_addr()) || '|' || coalesce(string_agg(id::text, ' ' ORDER BY id), '') FROM failover_writes") || {
    echo "failover-writer: the application path did not answer" >&2
    exit 1
  }
  server=${answer%%|*}
  present=${answer#*|}
  lost=$(comm -23 <(sort "$acked") <(tr ' ' '\n' <<<"$present" | sed '/^$/d' | sort) | sort -n | paste -sd, -)
  printf '{"server": "%s", "acked": %d, "lost": [%s]}\n' "$server" "$(wc -l <"$acked")" "$lost"
}

if [ "${1:-}" = --count ]; then
  count "$2"
  exit 0
fi

conninfo="$1"
rm -f "$acked" "$failed" /var/tmp/writer.stop
i=0
while [ ! -e /var/tmp/writer.stop ] && [ "$i" -lt 100000 ]; do
  i=$((i + 1))
  if psql "$conninfo" -X -q -c "INSERT INTO failover_writes (id) VALUES ($i)" 2>/dev/null; then
    echo "$i" >>"$acked"
  else
    echo "$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ) $i" >>"$failed"
  fi
  sleep 0.05
done
