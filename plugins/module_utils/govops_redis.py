# The Redis (or Valkey) side of the probes: a minimal RESP2 client and the
# parsers of what the server answers (INFO, CLUSTER INFO, CLUSTER NODES,
# CONFIG GET, memory sizes).
#
# Why a client of our own: redis-py is not on the hosts, and redis-cli would
# need the password on its command line or in its environment. Here the
# password is sent only inside the AUTH command, over the socket (TLS when a
# context is given).
#
# Standard library only, and no import from ansible.module_utils: the
# benchmark scripts (scripts/bench/) load this file directly.
from __future__ import annotations

import contextlib
import socket

CLUSTER_SLOTS = 16384
# CLUSTER NODES flags of a node that does not serve: failing, suspected, joining, lost.
BAD_FLAGS = ("fail", "fail?", "handshake", "noaddr")
# redis.conf memory units: k/m/g are powers of 1000, kb/mb/gb powers of 1024.
MEMORY_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3, "gb": 1024**3}


class RespError(Exception):
    """An error reply (-ERR, -NOAUTH, -NOPERM, -MOVED ...) from the server."""


class Resp:
    """A minimal RESP2 client: enough for AUTH, INFO, CONFIG GET, CLUSTER and string commands.

    context: an ssl.SSLContext for TLS (the address is checked against the
    certificate's subjectAltName); user: AUTH as this user (with password)
    before anything else.
    """

    def __init__(self, host, port, timeout=3.0, context=None, user=None, password=None):
        sock = socket.create_connection((host, port), timeout=timeout)
        try:
            if context is not None:
                sock = context.wrap_socket(sock, server_hostname=host)
            self.sock = sock
            self.buf = b""
            if user is not None:
                self.call("AUTH", user, password)
        except BaseException:
            sock.close()
            raise

    def close(self):
        with contextlib.suppress(OSError):
            self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def call(self, *args):
        self.sock.sendall(encode_command(args))
        return self._read()

    def _fill(self, enough):
        while not enough():
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed by server")
            self.buf += chunk

    def _read(self):
        self._fill(lambda: b"\r\n" in self.buf)
        line, self.buf = self.buf.split(b"\r\n", 1)
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RespError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            if size < 0:
                return None
            self._fill(lambda: len(self.buf) >= size + 2)
            data, self.buf = self.buf[:size], self.buf[size + 2 :]
            return data.decode(errors="replace")
        if kind == b"*":
            size = int(rest)
            return None if size < 0 else [self._read() for _ in range(size)]
        raise ConnectionError(f"unexpected reply type {kind!r}")


def encode_command(args):
    """RESP array of bulk strings for one command."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def config_get(conn, name):
    """The value of one CONFIG GET parameter, or None when the server does not know it."""
    reply = conn.call("CONFIG", "GET", name)
    return reply[1] if reply and len(reply) >= 2 else None


def number(value):
    """int or float when the text is one, else the text unchanged."""
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            continue
    return value


def parse_info(text):
    """INFO (or CLUSTER INFO) output -> flat dict; numbers become int/float; keyspace lines become dicts."""
    info = {}
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or ":" not in line:
            continue
        key, value = line.split(":", 1)
        if key.startswith("db") and "=" in value:
            info[key] = {k: number(v) for k, v in (part.split("=", 1) for part in value.split(",") if "=" in part)}
        else:
            info[key] = number(value)
    return info


def key_count(info):
    """Keys over every database of a parsed INFO."""
    return sum(v.get("keys", 0) for k, v in info.items() if k.startswith("db") and isinstance(v, dict))


def hit_rate(info):
    """Percent of keyspace lookups that hit, or None before the first lookup."""
    hits, misses = info.get("keyspace_hits", 0), info.get("keyspace_misses", 0)
    total = hits + misses
    return None if not total else round(100.0 * hits / total, 2)


def parse_cluster_nodes(text):
    """CLUSTER NODES output -> list of nodes (id, ip, port, role, master_id, flags, myself, slots, link).

    role is master, replica or unknown; slots a list of [first, last]; slots
    being migrated or imported ([slot->-id], [slot-<-id]) are left out; lines
    of fewer than 8 fields are skipped.
    """
    nodes = []
    for raw in (text or "").splitlines():
        fields = raw.split()
        if len(fields) < 8:
            continue
        address = fields[1].split(",", 1)[0]
        hostport = address.split("@", 1)[0]
        ip, _, port = hostport.rpartition(":")
        flags = fields[2].split(",")
        slots = []
        for item in fields[8:]:
            if item.startswith("["):
                continue
            start, _, end = item.partition("-")
            slots.append([int(start), int(end or start)])
        role = "master" if "master" in flags else "replica" if "slave" in flags else "unknown"
        nodes.append(
            {
                "id": fields[0],
                "ip": ip,
                "port": int(port) if port.isdigit() else 0,
                "role": role,
                "master_id": None if fields[3] == "-" else fields[3],
                "flags": flags,
                "myself": "myself" in flags,
                "slots": slots,
                "link": fields[7],
            }
        )
    return nodes


def slot_count(node):
    """How many slots a parsed CLUSTER NODES node holds."""
    return sum(end - start + 1 for start, end in node["slots"])


def healthy(node):
    """A node with no BAD_FLAGS and a connected link."""
    return not any(flag in BAD_FLAGS for flag in node["flags"]) and node["link"] == "connected"


def memory_bytes(value):
    """A redis.conf memory size (64mb, 1g, 1048576) in bytes, with Redis's units."""
    text = str(value or "0").strip().lower()
    digits = text.rstrip("kmgb")
    unit = text[len(digits) :]
    if not digits.isdigit() or unit not in MEMORY_UNITS:
        raise ValueError(f"not a redis memory size: {value!r}")
    return int(digits) * MEMORY_UNITS[unit]
