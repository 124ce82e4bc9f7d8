"""Small stand-ins for Redis and PostgreSQL that the check modules talk to in unit tests.

Each serves on 127.0.0.1 (a free port) from a daemon thread and records what
its clients asked, so a test can assert what a check did (which commands, which
queries) as well as what it reported. They speak just enough of the real
protocols for the checks: RESP2 with ACL-style AUTH for Redis; for PostgreSQL
the SSLRequest, TLS (a throwaway self-signed certificate), SCRAM-SHA-256 as
RFC 5802/7677 describe it (the proof is verified, the server signature sent)
and simple queries.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import hmac
import os
import socket
import ssl
import struct
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


class _Server:
    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve_safely, args=(conn,), daemon=True).start()

    def _serve_safely(self, conn):
        with contextlib.suppress(OSError, ConnectionError, ssl.SSLError, struct.error), conn:
            self.serve(conn)

    def serve(self, conn):  # pragma: no cover - overridden
        raise NotImplementedError

    def close(self):
        self.stopped = True
        self.listener.close()


# --- Redis ---------------------------------------------------------------------
WRITE_COMMANDS = {"SET", "DEL", "FLUSHALL", "FLUSHDB", "CONFIG SET", "EXPIRE", "HSET", "LPUSH"}


class FakeRedis(_Server):
    """A standalone Redis 7 instance: users ops (all commands) and app (no FLUSHALL, no CONFIG)."""

    def __init__(self, passwords, info=None, config=None):
        self.passwords = passwords
        self.commands: list[tuple[str, ...]] = []
        self.store: dict[str, str] = {}
        self.info = info or {}
        self.config = config or {}
        super().__init__()

    def info_text(self):
        base = {
            "redis_version": "7.0.15",
            "role": "master",
            "used_memory": 2 * 1024 * 1024,
            "used_memory_human": "2.00M",
            "used_memory_rss": 8 * 1024 * 1024,
            "mem_fragmentation_ratio": 1.1,
            "connected_clients": 3,
            "rejected_connections": 0,
            "evicted_keys": 0,
            "instantaneous_ops_per_sec": 5,
            "keyspace_hits": 30,
            "keyspace_misses": 10,
            "rdb_last_bgsave_status": "ok",
            "aof_last_write_status": "ok",
            **self.info,
        }
        return "# Server\r\n" + "".join(f"{k}:{v}\r\n" for k, v in base.items()) + "# Keyspace\r\ndb0:keys=4\r\n"

    def serve(self, conn):
        user = None
        reader = conn.makefile("rb")
        while True:
            line = reader.readline()
            if not line:
                return
            count = int(line[1:])
            args = []
            for _ in range(count):
                size = int(reader.readline()[1:])
                args.append(reader.read(size + 2)[:-2].decode())
            name = args[0].upper()
            self.commands.append((user or "-", *(a if i != 2 or name != "AUTH" else "***" for i, a in enumerate(args))))
            conn.sendall(self.answer(user, name, args))
            if name == "AUTH" and self.passwords.get(args[1]) == args[2]:
                user = args[1]

    def answer(self, user, name, args):  # noqa: PLR0911 - one reply per command
        if name == "AUTH":
            return b"+OK\r\n" if self.passwords.get(args[1]) == args[2] else b"-WRONGPASS invalid username-password\r\n"
        if user is None:
            return b"-NOAUTH Authentication required.\r\n"
        if user == "app" and name in ("FLUSHALL", "CONFIG"):
            return f"-NOPERM User app has no permissions to run the '{name.lower()}' command\r\n".encode()
        if name == "ACL" and args[1].upper() == "DRYRUN":
            if user != "ops":
                return b"-NOPERM User has no permissions to run the 'acl|dryrun' command\r\n"
            if args[2] == "app" and args[3].upper() in ("FLUSHALL", "CONFIG"):
                return _bulk(f"User app has no permissions to run the '{args[3].lower()}' command")
            return b"+OK\r\n"
        if name == "PING":
            return b"+PONG\r\n"
        if name == "INFO":
            return _bulk(self.info_text())
        if name == "CONFIG" and args[1].upper() == "GET":
            value = self.config.get(args[2])
            return b"*0\r\n" if value is None else b"*2\r\n" + _bulk(args[2]) + _bulk(str(value))
        if name == "SET":
            self.store[args[1]] = args[2]
            return b"+OK\r\n"
        if name == "GET":
            return _bulk(self.store[args[1]]) if args[1] in self.store else b"$-1\r\n"
        if name == "DEL":
            return b":%d\r\n" % (1 if self.store.pop(args[1], None) is not None else 0)
        return f"-ERR unknown command '{name}'\r\n".encode()

    def writes(self):
        """The commands that change data or configuration, as the server saw them."""
        return [
            c for c in self.commands if c[1].upper() in WRITE_COMMANDS or " ".join(c[1:3]).upper() in WRITE_COMMANDS
        ]


def _bulk(text):
    data = text.encode()
    return b"$%d\r\n%s\r\n" % (len(data), data)


# --- PostgreSQL ------------------------------------------------------------------
def self_signed(tmp_path, name="localhost"):
    """(cert path, key path) of a throwaway self-signed certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "server.crt", tmp_path / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def _msg(kind, payload=b""):
    return kind + struct.pack("!i", len(payload) + 4) + payload


def _error(code, text):
    return _msg(b"E", b"SFATAL\0C" + code.encode() + b"\0M" + text.encode() + b"\0\0")


class FakePostgres(_Server):
    """A PostgreSQL server that needs TLS and SCRAM-SHA-256 and answers every query with one row.

    users: name -> password. row: the text values of the one row every query returns.
    forge_signature: send a wrong SCRAM server signature (a server that does not know the password).
    """

    def __init__(self, tmp_path, users, row, forge_signature=False, tls=True):
        self.users, self.row, self.forge_signature, self.tls = users, row, forge_signature, tls
        self.queries: list[str] = []
        self.logins: list[tuple[str, str, bool]] = []
        self.context = None
        if tls:
            cert, key = self_signed(tmp_path)
            self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.context.load_cert_chain(cert, key)
        super().__init__()

    @staticmethod
    def _read(conn, buffer):
        while len(buffer) < 5:
            chunk = conn.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            buffer += chunk
        kind, length = buffer[:1], struct.unpack("!i", buffer[1:5])[0]
        while len(buffer) < 1 + length:
            chunk = conn.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            buffer += chunk
        return kind, buffer[5 : 1 + length], buffer[1 + length :]

    def serve(self, conn):
        length, code = struct.unpack("!ii", conn.recv(8))
        if code == 80877103:
            conn.sendall(b"S" if self.tls else b"N")
            if self.tls:
                conn = self.context.wrap_socket(conn, server_side=True)
            (length,) = struct.unpack("!i", conn.recv(4))
            startup = conn.recv(length - 4)
        else:
            startup = conn.recv(length - 8)
        fields = startup[4:].split(b"\0")
        params = {fields[i].decode(): fields[i + 1].decode() for i in range(0, len(fields) - 1, 2) if fields[i]}
        user, database = params.get("user", ""), params.get("database", "")
        ok, buffer = self.scram(conn, user, database)
        if not ok:
            return
        conn.sendall(
            _msg(b"R", struct.pack("!i", 0))
            + _msg(b"S", b"server_version\x0017.2\x00")
            + _msg(b"K", struct.pack("!ii", 1, 2))
            + _msg(b"Z", b"I")
        )
        while True:
            kind, payload, buffer = self._read(conn, buffer)
            if kind == b"X":
                return
            if kind == b"Q":
                self.queries.append(payload.rstrip(b"\0").decode())
                values = b"".join(
                    struct.pack("!i", -1) if v is None else struct.pack("!i", len(v.encode())) + v.encode()
                    for v in self.row
                )
                conn.sendall(
                    _msg(b"D", struct.pack("!h", len(self.row)) + values) + _msg(b"C", b"SELECT 1\0") + _msg(b"Z", b"I")
                )

    def scram(self, conn, user, database):
        """The SCRAM-SHA-256 exchange; the login is recorded before the client hears the outcome."""
        conn.sendall(_msg(b"R", struct.pack("!i", 10) + b"SCRAM-SHA-256\0\0"))
        _kind, payload, buffer = self._read(conn, b"")
        mechanism, _, rest = payload.partition(b"\0")
        client_first = rest[4:].decode()
        client_first_bare = client_first.split(",", 2)[2]
        client_nonce = dict(item.split("=", 1) for item in client_first_bare.split(","))["r"]
        salt, iterations = os.urandom(16), 4096
        nonce = client_nonce + base64.b64encode(os.urandom(12)).decode()
        server_first = f"r={nonce},s={base64.b64encode(salt).decode()},i={iterations}"
        conn.sendall(_msg(b"R", struct.pack("!i", 11) + server_first.encode()))
        _kind, payload, buffer = self._read(conn, buffer)
        client_final = payload.decode()
        without_proof, _, proof = client_final.rpartition(",p=")
        salted = hashlib.pbkdf2_hmac("sha256", self.users.get(user, "\0none").encode(), salt, iterations)
        client_key = hmac.digest(salted, b"Client Key", "sha256")
        stored_key = hashlib.sha256(client_key).digest()
        auth_message = f"{client_first_bare},{server_first},{without_proof}".encode()
        signature = hmac.digest(stored_key, auth_message, "sha256")
        recovered = bytes(a ^ b for a, b in zip(base64.b64decode(proof), signature, strict=True))
        if (
            mechanism != b"SCRAM-SHA-256"
            or user not in self.users
            or f"r={nonce}" not in without_proof
            or hashlib.sha256(recovered).digest() != stored_key
        ):
            self.logins.append((user, database, False))
            conn.sendall(_error("28P01", f'password authentication failed for user "{user}"'))
            return False, buffer
        server_key = hmac.digest(salted, b"Server Key", "sha256")
        server_signature = hmac.digest(server_key, auth_message, "sha256")
        if self.forge_signature:
            server_signature = bytes(32)
        self.logins.append((user, database, True))
        conn.sendall(_msg(b"R", struct.pack("!i", 12) + b"v=" + base64.b64encode(server_signature)))
        return True, buffer


# --- the check modules' arguments against these fakes ------------------------------
# Shared by the module tests (tests/test_redis_cluster_check.py, tests/test_db_proxy_check.py)
# and the check-mode contract (tests/test_repository_contract.py).
REDIS_PASSWORDS = {"ops": "ops-secret", "app": "app-secret"}
# CONFIG GET answers of an instance set up the way redis_check_args expects it.
REDIS_CONFIG = {
    "appendonly": "yes",
    "appendfsync": "everysec",
    "save": "3600 1",
    "maxmemory": 256 * 1024 * 1024,
    "maxmemory-policy": "allkeys-lru",
    "maxclients": 10000,
}


def redis_instance(**info):
    """A FakeRedis with the users of REDIS_PASSWORDS and REDIS_CONFIG; info overrides its INFO fields."""
    return FakeRedis(REDIS_PASSWORDS, info=info, config=REDIS_CONFIG)


def redis_check_args(server, alert_thresholds, **extra):
    """redis_cluster_check's arguments for one standalone FakeRedis, expecting what REDIS_CONFIG holds."""
    return {
        "address": "127.0.0.1",
        "ports": [server.port],
        "mode": "standalone",
        "ops_password": REDIS_PASSWORDS["ops"],
        "app_password": REDIS_PASSWORDS["app"],
        "save": "3600 1",
        "maxmemory": "256mb",
        "maxmemory_policy": "allkeys-lru",
        "sysctl": {},
        "thp_disabled": False,
        "alert_thresholds": alert_thresholds,
        **extra,
    }


def db_proxy_check_args(tmp_path, server, password, **extra):
    """db_proxy_check's arguments: a haproxy.cfg with db1 (127.0.0.1:5432) as primary, the login through server."""
    config = tmp_path / "haproxy.cfg"
    config.write_text("backend postgresql_primary\n    server db1 127.0.0.1:5432 check\n")
    return {
        "config": str(config),
        "listen_address": "127.0.0.1",
        "listen_port": server.port,
        "primary_host": "db1",
        "primary_address": "127.0.0.1",
        "primary_port": 5432,
        "check_user": "app",
        "check_password": password,
        "check_database": "appdb",
        **extra,
    }
