#!/usr/bin/python
# Acceptance checks for roles/db_proxy. Read-only: safe in check mode, changes nothing.
from __future__ import annotations

DOCUMENTATION = r"""
module: db_proxy_check
short_description: Check that HAProxy on an application host forwards PostgreSQL connections to the primary
description:
  - The service is active and enabled, its configuration sends the postgresql_primary backend to the
    expected primary and to no other server, and a PostgreSQL server answers through the proxy (an
    SSLRequest gets its one-byte answer; no credentials are needed or sent).
  - Read-only; supports check mode.
options:
  config:
    description: HAProxy configuration file.
    type: path
    default: /etc/haproxy/haproxy.cfg
  listen_address:
    description: Address the proxy listens on.
    type: str
    default: 127.0.0.1
  listen_port:
    description: Port the proxy listens on.
    type: int
    default: 6432
  primary_host:
    description: Inventory name of the expected primary (the server name in the backend).
    type: str
    required: true
  primary_address:
    description: Platform address of the expected primary.
    type: str
    required: true
  primary_port:
    description: PostgreSQL port of the primary.
    type: int
    default: 5432
author: govops maintainers
"""

EXAMPLES = r"""
- name: Check the application path
  db_proxy_check:
    primary_host: db1
    primary_address: 10.89.60.21
  register: db_proxy_acceptance
"""

RETURN = r"""
checks:
  description: One entry per check, {id, title {zh_CN, en}, status, evidence, measured}.
  returned: always
  type: list
  elements: dict
summary:
  description: Counts per status.
  returned: always
  type: dict
backends:
  description: The servers of the postgresql_primary backend, as "name address:port".
  returned: always
  type: list
  elements: str
"""

import socket
import struct

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.govops_checks import CheckList, run

SSL_REQUEST = struct.pack("!ii", 8, 80877103)


def backend_servers(text, backend="postgresql_primary"):
    """The "server" lines of one backend section, as "name address:port"."""
    servers, inside = [], False
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        words = line.split()
        if words[0] in ("global", "defaults", "frontend", "backend", "listen", "resolvers", "peers", "userlist"):
            inside = words[0] == "backend" and len(words) > 1 and words[1] == backend
            continue
        if inside and words[0] == "server" and len(words) >= 3:
            servers.append(f"{words[1]} {words[2]}")
    return servers


def postgres_answers(address, port, timeout=5.0):
    """Send PostgreSQL's SSLRequest; a server answers with b'S' or b'N'."""
    try:
        with socket.create_connection((address, port), timeout=timeout) as conn:
            conn.settimeout(timeout)
            conn.sendall(SSL_REQUEST)
            answer = conn.recv(1)
    except OSError as exc:
        return False, f"{address}:{port}: {exc}"
    if answer in (b"S", b"N"):
        return True, f"{address}:{port} answered the SSLRequest with {answer.decode()!r} (PostgreSQL)"
    return False, f"{address}:{port} answered {answer!r}, not a PostgreSQL server"


def check(checks, params):
    rc_active, out_active, _ = run(["systemctl", "is-active", "haproxy"])
    rc_enabled, out_enabled, _ = run(["systemctl", "is-enabled", "haproxy"])
    checks.verdict(
        "db_proxy.service",
        "数据库代理服务运行并开机自启",
        "HAProxy is active and enabled",
        rc_active == 0 and rc_enabled == 0,
        f"is-active: {out_active.strip() or 'unknown'}, is-enabled: {out_enabled.strip() or 'unknown'}",
    )
    try:
        with open(params["config"], encoding="utf-8") as handle:
            servers = backend_servers(handle.read())
    except OSError as exc:
        servers = []
        error = str(exc)
    else:
        error = ""
    expected = f"{params['primary_host']} {params['primary_address']}:{params['primary_port']}"
    checks.verdict(
        "db_proxy.backend_is_primary",
        "应用访问路径只指向当前主库",
        "The application path goes to the current primary and nowhere else",
        servers == [expected],
        error or f"backend postgresql_primary: {servers or 'no server'}; expected [{expected}]",
        measured=servers,
    )
    ok, evidence = postgres_answers(params["listen_address"], params["listen_port"])
    checks.verdict(
        "db_proxy.reaches_postgresql",
        "经代理可连到数据库",
        "A PostgreSQL server answers through the proxy",
        ok,
        evidence,
    )
    return servers


def main():
    module = AnsibleModule(
        argument_spec={
            "config": {"type": "path", "default": "/etc/haproxy/haproxy.cfg"},
            "listen_address": {"type": "str", "default": "127.0.0.1"},
            "listen_port": {"type": "int", "default": 6432},
            "primary_host": {"type": "str", "required": True},
            "primary_address": {"type": "str", "required": True},
            "primary_port": {"type": "int", "default": 5432},
        },
        supports_check_mode=True,
    )
    checks = CheckList()
    servers = check(checks, module.params)
    module.exit_json(changed=False, backends=servers, **checks.result())


if __name__ == "__main__":
    main()
