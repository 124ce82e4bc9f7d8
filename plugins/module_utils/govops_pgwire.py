# A minimal PostgreSQL client for the acceptance checks: SSLRequest, TLS,
# startup, SCRAM-SHA-256 (or md5) authentication and one simple query.
#
# Why not psql: a check that logs in must not put the password on a command
# line or in an environment the task runner writes into the remote command
# (Ansible's `environment:`), and must not write a password file. The
# password arrives as a no_log module option and goes only into the SCRAM
# exchange, over TLS, inside this process.
#
# TLS as libpq's sslmode=require: encrypted, the server certificate is not
# verified (the application path itself uses sslmode=require). SCRAM never
# sends the password, and the server's final signature is verified, so a
# server that does not know the password cannot pass itself off as one that
# does.
from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import socket
import ssl
import struct

PROTOCOL_3_0 = 196608
SSL_REQUEST_CODE = 80877103
AUTH_OK, AUTH_CLEARTEXT, AUTH_MD5, AUTH_SASL, AUTH_SASL_CONTINUE, AUTH_SASL_FINAL = 0, 3, 5, 10, 11, 12


class PgError(Exception):
    """The server refused (ErrorResponse), or the exchange broke off."""


def ssl_request():
    return struct.pack("!ii", 8, SSL_REQUEST_CODE)


def startup_message(user, database, application_name="govops-check"):
    body = struct.pack("!i", PROTOCOL_3_0)
    for key, value in (("user", user), ("database", database), ("application_name", application_name)):
        body += key.encode() + b"\0" + value.encode() + b"\0"
    body += b"\0"
    return struct.pack("!i", len(body) + 4) + body


def message(kind, payload=b""):
    return kind + struct.pack("!i", len(payload) + 4) + payload


def error_fields(payload):
    """ErrorResponse / NoticeResponse fields -> {code letter: text}."""
    fields = {}
    for part in payload.split(b"\0"):
        if part:
            fields[chr(part[0])] = part[1:].decode(errors="replace")
    return fields


def error_text(payload):
    fields = error_fields(payload)
    return f"{fields.get('S', 'ERROR')} {fields.get('C', '')}: {fields.get('M', 'unknown error')}".strip()


# --- SCRAM-SHA-256 (RFC 5802, RFC 7677), the client side ----------------------
def scram_client_first(nonce):
    """(client-first-message, client-first-message-bare). No channel binding ('n,,'); the user comes from startup."""
    bare = f"n=,r={nonce}"
    return "n,," + bare, bare


def scram_attributes(text):
    return dict(item.split("=", 1) for item in text.split(",") if "=" in item)


def scram_client_final(password, client_first_bare, server_first, client_nonce):
    """(client-final-message, expected server signature) for the server-first-message."""
    attrs = scram_attributes(server_first)
    nonce, salt, iterations = attrs.get("r", ""), attrs.get("s"), attrs.get("i")
    if not nonce.startswith(client_nonce) or salt is None or iterations is None:
        raise PgError(f"malformed SCRAM server-first-message: {server_first!r}")
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()
    without_proof = f"c={base64.b64encode(b'n,,').decode()},r={nonce}"
    auth_message = f"{client_first_bare},{server_first},{without_proof}".encode()
    signature = hmac.digest(stored_key, auth_message, "sha256")
    proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
    server_key = hmac.digest(salted, b"Server Key", "sha256")
    server_signature = hmac.digest(server_key, auth_message, "sha256")
    return f"{without_proof},p={base64.b64encode(proof).decode()}", server_signature


def md5_password(password, user, salt):
    inner = hashlib.md5(password.encode() + user.encode()).hexdigest()  # noqa: S324 - PostgreSQL's md5 auth
    return "md5" + hashlib.md5(inner.encode() + salt).hexdigest()  # noqa: S324


class PgConnection:
    """One authenticated session; query() runs a simple query and returns its rows as text."""

    def __init__(self, host, port, user, password, database, timeout=5.0, require_tls=True):
        self.parameters = {}
        self.tls = None
        sock = socket.create_connection((host, port), timeout=timeout)
        try:
            sock.settimeout(timeout)
            sock.sendall(ssl_request())
            answer = sock.recv(1)
            if answer == b"S":
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                context.check_hostname = False  # sslmode=require: encrypted, the certificate is not verified
                context.verify_mode = ssl.CERT_NONE
                context.minimum_version = ssl.TLSVersion.TLSv1_2
                sock = context.wrap_socket(sock)
                self.tls = sock.version()
            elif answer == b"N":
                if require_tls:
                    raise PgError(f"{host}:{port} refuses TLS (SSLRequest answered 'N'); sslmode=require fails")
            else:
                raise PgError(f"{host}:{port} answered the SSLRequest with {answer!r}: not a PostgreSQL server")
            self.sock = sock
            self.buffer = b""
            sock.sendall(startup_message(user, database))
            self._authenticate(user, password)
        except BaseException:
            sock.close()
            raise

    def close(self):
        with contextlib.suppress(OSError):
            self.sock.sendall(message(b"X"))
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _read(self):
        while len(self.buffer) < 5:
            self._fill()
        kind = self.buffer[:1]
        (length,) = struct.unpack("!i", self.buffer[1:5])
        while len(self.buffer) < 1 + length:
            self._fill()
        payload = self.buffer[5 : 1 + length]
        self.buffer = self.buffer[1 + length :]
        return kind, payload

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise PgError("the server closed the connection")
        self.buffer += chunk

    def _authenticate(self, user, password):
        scram = {}
        while True:
            kind, payload = self._read()
            if kind == b"E":
                raise PgError(error_text(payload))
            if kind != b"R":
                raise PgError(f"unexpected message {kind!r} during authentication")
            (code,) = struct.unpack("!i", payload[:4])
            if code == AUTH_OK:
                break
            self._answer(code, payload[4:], user, password, scram)
        while True:
            kind, payload = self._read()
            if kind == b"E":
                raise PgError(error_text(payload))
            if kind == b"S":
                key, _, value = payload.rstrip(b"\0").partition(b"\0")
                self.parameters[key.decode()] = value.decode(errors="replace")
            elif kind == b"Z":
                return

    def _answer(self, code, data, user, password, scram):
        """Answer one authentication request; scram carries the SCRAM exchange's state."""
        if code == AUTH_SASL:
            mechanisms = [m.decode() for m in data.split(b"\0") if m]
            if "SCRAM-SHA-256" not in mechanisms:
                raise PgError(f"no supported SASL mechanism offered: {', '.join(mechanisms)}")
            scram["nonce"] = base64.b64encode(os.urandom(18)).decode()
            first, scram["first_bare"] = scram_client_first(scram["nonce"])
            self.sock.sendall(message(b"p", b"SCRAM-SHA-256\0" + struct.pack("!i", len(first)) + first.encode()))
        elif code == AUTH_SASL_CONTINUE:
            if "first_bare" not in scram:
                raise PgError("SCRAM continuation without a SCRAM start")
            final, scram["server_signature"] = scram_client_final(
                password, scram["first_bare"], data.decode(), scram["nonce"]
            )
            self.sock.sendall(message(b"p", final.encode()))
        elif code == AUTH_SASL_FINAL:
            signature = base64.b64decode(scram_attributes(data.decode()).get("v", ""))
            if "server_signature" not in scram or not hmac.compare_digest(signature, scram["server_signature"]):
                raise PgError("the server's SCRAM signature does not match: not the server that knows the password")
        elif code == AUTH_MD5:
            self.sock.sendall(message(b"p", md5_password(password, user, data[:4]).encode() + b"\0"))
        elif code == AUTH_CLEARTEXT:
            if self.tls is None:
                raise PgError("the server asks for the password in clear text without TLS; refused")
            self.sock.sendall(message(b"p", password.encode() + b"\0"))
        else:
            raise PgError(f"unsupported authentication request {code}")

    def query(self, sql):
        """Rows of a simple query, each a list of text values (None for NULL)."""
        self.sock.sendall(message(b"Q", sql.encode() + b"\0"))
        rows, error = [], None
        while True:
            kind, payload = self._read()
            if kind == b"D":
                (count,) = struct.unpack("!h", payload[:2])
                offset, row = 2, []
                for _ in range(count):
                    (size,) = struct.unpack("!i", payload[offset : offset + 4])
                    offset += 4
                    if size < 0:
                        row.append(None)
                    else:
                        row.append(payload[offset : offset + size].decode(errors="replace"))
                        offset += size
                rows.append(row)
            elif kind == b"E":
                error = error_text(payload)
            elif kind == b"Z":
                if error:
                    raise PgError(error)
                return rows
