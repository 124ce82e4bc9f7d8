#!/usr/bin/python
# Acceptance checks for roles/db_proxy. Read-only: safe in check mode, changes nothing.
from __future__ import annotations

DOCUMENTATION = r"""
module: db_proxy_check
short_description: Check that HAProxy on an application host forwards PostgreSQL connections to the primary
description:
  - The service is active and enabled; its configuration sends the postgresql_primary backend to the
    expected primary and to no other server (C(db_proxy.backend_config)); a PostgreSQL server answers
    through the proxy (C(db_proxy.reaches_postgresql) - an SSLRequest gets its one-byte answer, no
    credentials).
  - C(db_proxy.backend_is_primary) asks the server itself - it logs in through the proxy's port as the
    check account (TLS as sslmode=require, SCRAM-SHA-256, the password only inside this process) and runs
    C(select pg_is_in_recovery(), host(inet_server_addr()), current_setting('port')). It passes only when
    the server behind the proxy is not in recovery (a primary) and is the expected primary's address and
    port. Without credentials, or when the login or the query fails, it fails - what cannot be asked is not
    a pass.
  - Read-only (one SELECT); supports check mode.
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
  check_user:
    description: Account the check logs in with through the proxy (C(db_proxy_check_user)).
    type: str
  check_password:
    description: Its password (C(db_proxy_check_password)); a no_log option, never on a command line.
    type: str
  check_database:
    description: Database the check connects to (C(db_proxy_check_database)).
    type: str
  timeout:
    description: Connect and read timeout in seconds.
    type: float
    default: 5.0
extends_documentation_fragment: [govops_check]
author: govops maintainers
"""

EXAMPLES = r"""
- name: Check the application path
  db_proxy_check:
    primary_host: db1
    primary_address: 10.89.60.21
    check_user: app
    check_password: "{{ db_proxy_check_password }}"
    check_database: appdb
  register: db_proxy_acceptance
  no_log: true
"""

RETURN = r"""
checks: {description: One item per check, in order (fields under NOTES)., returned: always, type: list, elements: dict}
summary: {description: Checks per status and the total (NOTES)., returned: always, type: dict}
backends:
  description: The servers of the postgresql_primary backend, as "name address:port".
  returned: always
  type: list
  elements: str
server:
  description:
    - What the server behind the proxy said - in_recovery (bool), address and port (as it sees the
      connection), tls (protocol); empty when it could not be asked.
  returned: always
  type: dict
"""

import socket

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.govops_checks import CheckList, run
from ansible.module_utils.govops_pgwire import PgConnection, PgError, ssl_request

PRIMARY_SQL = "SELECT pg_is_in_recovery(), host(inet_server_addr()), current_setting('port')"


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
            conn.sendall(ssl_request())
            answer = conn.recv(1)
    except OSError as exc:
        return False, f"{address}:{port}: {exc}"
    if answer in (b"S", b"N"):
        return True, f"{address}:{port} answered the SSLRequest with {answer.decode()!r} (PostgreSQL)"
    return False, f"{address}:{port} answered {answer!r}, not a PostgreSQL server"


def ask_server(params):
    """(server dict or None, evidence): log in through the proxy and ask whether the server is a primary."""
    through = f"{params['listen_address']}:{params['listen_port']}"
    lacking = [
        f"db_proxy_{name}" for name in ("check_user", "check_password", "check_database") if not params.get(name)
    ]
    if lacking:
        return None, (
            f"cannot ask the server behind {through}: no {', '.join(lacking)}. Fix: set them to an application "
            "account (by default the failover's db_failover_check_user / _password / _database)"
        )
    try:
        with PgConnection(
            params["listen_address"],
            params["listen_port"],
            params["check_user"],
            params["check_password"],
            params["check_database"],
            timeout=params["timeout"],
        ) as conn:
            rows = conn.query(PRIMARY_SQL)
            tls = conn.tls
    except (OSError, PgError) as exc:
        return None, f"login through {through} as {params['check_user']} to {params['check_database']}: {exc}"
    if len(rows) != 1 or len(rows[0]) != 3:
        return None, f"unexpected answer through {through}: {rows!r}"
    recovery, address, port = rows[0]
    server = {"in_recovery": recovery == "t", "address": address, "port": int(port) if port else None, "tls": tls}
    return server, f"through {through} as {params['check_user']} ({tls}): "


def judge_server(server, params):
    """(ok, text) of the server's answer against the expected primary."""
    expected = f"{params['primary_address']}:{params['primary_port']}"
    found = f"{server['address']}:{server['port']}"
    problems = []
    if server["in_recovery"]:
        problems.append("pg_is_in_recovery() is true: the proxy sends the applications to a mirror (no writes)")
    if found != expected:
        problems.append(f"the server is {found}, not the expected primary {params['primary_host']} {expected}")
    text = (
        f"pg_is_in_recovery() = {'true' if server['in_recovery'] else 'false'}, server {found} "
        f"(expected primary {params['primary_host']} {expected})"
    )
    return not problems, text + ("; " + "; ".join(problems) if problems else "")


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
        "db_proxy.backend_config",
        "代理配置只指向预期主库",
        "The proxy's configuration names the expected primary and no other server",
        servers == [expected],
        error or f"backend postgresql_primary: {servers or 'no server'}; expected [{expected}]",
        measured=servers,
    )
    ok, evidence = postgres_answers(params["listen_address"], params["listen_port"], params["timeout"])
    checks.verdict(
        "db_proxy.reaches_postgresql",
        "经代理可连到数据库",
        "A PostgreSQL server answers through the proxy",
        ok,
        evidence,
    )
    server, evidence = ask_server(params)
    if server is None:
        ok, text = False, evidence
    else:
        ok, text = judge_server(server, params)
        text = evidence + text
    checks.verdict(
        "db_proxy.backend_is_primary",
        "应用访问路径指向当前主库(经代理询问数据库)",
        "The application path goes to the current primary (asked through the proxy)",
        ok,
        text,
        measured=server,
    )
    return servers, server or {}


def main():
    module = AnsibleModule(
        argument_spec={
            "config": {"type": "path", "default": "/etc/haproxy/haproxy.cfg"},
            "listen_address": {"type": "str", "default": "127.0.0.1"},
            "listen_port": {"type": "int", "default": 6432},
            "primary_host": {"type": "str", "required": True},
            "primary_address": {"type": "str", "required": True},
            "primary_port": {"type": "int", "default": 5432},
            "check_user": {"type": "str"},
            "check_password": {"type": "str", "no_log": True},
            "check_database": {"type": "str"},
            "timeout": {"type": "float", "default": 5.0},
        },
        supports_check_mode=True,
    )
    checks = CheckList()
    servers, server = check(checks, module.params)
    module.exit_json(changed=False, backends=servers, server=server, **checks.result())


if __name__ == "__main__":
    main()
