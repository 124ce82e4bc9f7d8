# PostgreSQL WAL arithmetic: LSNs ('16/B374D848') and WAL file names
# ('000000010000001600000003') as byte positions, and how far apart two are.
#
# Shared by the check modules (pg_replication_check, pgbackrest_check, through
# ansible.module_utils) and by the controller-side filter plugins/filter/
# db_failover.py, which loads this file by its path: Ansible does not put
# module_utils on the controller's import path. So: standard library only,
# no import from ansible.module_utils.
from __future__ import annotations

# A WAL file name is <timeline 8 hex><log 8 hex><segment 8 hex>.
WAL_NAME_LENGTH = 24
# With 16 MiB segments (the default wal_segment_size) a log of 4 GiB holds 256 of them.
SEGMENTS_PER_LOG_16MIB = 256


def lsn_to_int(lsn):
    """'16/B374D848' -> 0x16B374D848 (a byte position); None or '' -> None; anything else without '/' raises."""
    if lsn in (None, ""):
        return None
    high, _, low = str(lsn).strip().partition("/")
    if not low:
        raise ValueError(f"not a PostgreSQL LSN: {lsn!r}")
    return (int(high, 16) << 32) + int(low, 16)


def lsn_diff(a, b):
    """a - b in bytes (as pg_wal_lsn_diff), or None when either is unknown."""
    a, b = lsn_to_int(a), lsn_to_int(b)
    return None if a is None or b is None else a - b


def wal_position(name):
    """(log, segment) of a WAL file name, timeline left out, for comparing two archives; None if not a segment."""
    if not name or len(name) != WAL_NAME_LENGTH:
        return None
    try:
        return int(name[8:16], 16), int(name[16:24], 16)
    except ValueError:
        return None


def wal_segment_start(name, segment_size):
    """Start LSN (bytes) of a WAL file name like 000000010000000000000003; None for .history and others."""
    position = wal_position(name)
    if position is None:
        return None
    log, segment = position
    return (log << 32) + segment * segment_size


def segments_behind(ahead, behind, segments_per_log=SEGMENTS_PER_LOG_16MIB):
    """How many WAL segments the archive ending at `behind` trails the one ending at `ahead` (16 MiB segments).

    0 when it is level or ahead; None when either end is unknown.
    """
    first, second = wal_position(ahead), wal_position(behind)
    if first is None or second is None:
        return None
    return max(0, (first[0] - second[0]) * segments_per_log + first[1] - second[1])
