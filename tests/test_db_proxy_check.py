"""db_proxy_check asks the server behind HAProxy whether it is the primary (issue 21).

"The application path goes to the current primary" used to be read from the
proxy's configuration text. Now the check logs in through the proxy's port
(TLS, SCRAM-SHA-256, the password a no_log module option) and runs
pg_is_in_recovery(); a configuration that names the right host is not enough.
The PostgreSQL side is tests/fake_servers.FakePostgres: TLS with a throwaway
certificate, a real SCRAM-SHA-256 verifier, one answer row per query.
"""

from __future__ import annotations

import json

import pytest
from ansible.module_utils import govops_pgwire
from check_harness import run_module
from fake_servers import FakePostgres, db_proxy_check_args

PASSWORD = "app-secret-4711"  # noqa: S105 - the fake server's test account


@pytest.fixture
def pgwire():
    return govops_pgwire


@pytest.fixture
def postgres(tmp_path):
    servers = []

    def start(row=("f", "127.0.0.1", "5432"), **kwargs):
        server = FakePostgres(tmp_path, {"app": PASSWORD}, list(row), **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def test_scram_login_over_tls_and_a_query(pgwire, postgres):
    server = postgres(row=("f", "10.0.0.21", "5432"))
    with pgwire.PgConnection("127.0.0.1", server.port, "app", PASSWORD, "appdb") as conn:
        assert conn.tls.startswith("TLSv1.")
        assert conn.parameters["server_version"] == "17.2"
        assert conn.query("SELECT pg_is_in_recovery()") == [["f", "10.0.0.21", "5432"]]
    assert server.logins == [("app", "appdb", True)]


def test_a_wrong_password_is_refused_by_the_server(pgwire, postgres):
    server = postgres()
    with pytest.raises(pgwire.PgError, match='28P01: password authentication failed for user "app"'):
        pgwire.PgConnection("127.0.0.1", server.port, "app", "wrong", "appdb")
    assert server.logins == [("app", "appdb", False)]


def test_a_server_that_does_not_know_the_password_is_not_believed(pgwire, postgres):
    server = postgres(forge_signature=True)
    with pytest.raises(pgwire.PgError, match="SCRAM signature does not match"):
        pgwire.PgConnection("127.0.0.1", server.port, "app", PASSWORD, "appdb")


def test_a_server_without_tls_is_refused_before_any_password(pgwire, postgres):
    server = postgres(tls=False)
    with pytest.raises(pgwire.PgError, match="refuses TLS"):
        pgwire.PgConnection("127.0.0.1", server.port, "app", PASSWORD, "appdb")
    assert server.logins == []


ACTIVE = [(("systemctl",), (0, "active\n", ""))]


def _run(plugin, args):
    return run_module(plugin("modules", "db_proxy_check"), args, answers=ACTIVE)


def test_the_primary_behind_the_proxy_passes(plugin, postgres, tmp_path):
    server = postgres()
    run = _run(plugin, db_proxy_check_args(tmp_path, server, PASSWORD))
    check = run.checks["db_proxy.backend_is_primary"]
    assert check["status"] == "pass", check
    assert "pg_is_in_recovery() = false, server 127.0.0.1:5432" in check["evidence"]
    assert run.result["server"] == {"in_recovery": False, "address": "127.0.0.1", "port": 5432, "tls": "TLSv1.3"}
    assert server.queries == ["SELECT pg_is_in_recovery(), host(inet_server_addr()), current_setting('port')"]


def test_a_mirror_behind_a_correct_looking_configuration_fails(plugin, postgres, tmp_path):
    # The configuration names db1 as it should; the server that answers is in recovery.
    server = postgres(row=("t", "127.0.0.1", "5432"))
    run = _run(plugin, db_proxy_check_args(tmp_path, server, PASSWORD))
    assert run.checks["db_proxy.backend_config"]["status"] == "pass"
    check = run.checks["db_proxy.backend_is_primary"]
    assert check["status"] == "fail"
    assert "pg_is_in_recovery() is true: the proxy sends the applications to a mirror" in check["evidence"]


def test_another_server_than_the_expected_primary_fails(plugin, postgres, tmp_path):
    server = postgres(row=("f", "10.0.0.99", "5432"))
    check = _run(plugin, db_proxy_check_args(tmp_path, server, PASSWORD)).checks["db_proxy.backend_is_primary"]
    assert check["status"] == "fail"
    assert "the server is 10.0.0.99:5432, not the expected primary db1 127.0.0.1:5432" in check["evidence"]


def test_without_credentials_or_with_a_refused_login_it_fails_saying_why(plugin, postgres, tmp_path):
    server = postgres()
    args = db_proxy_check_args(tmp_path, server, PASSWORD)
    del args["check_password"]
    check = _run(plugin, args).checks["db_proxy.backend_is_primary"]
    assert check["status"] == "fail" and "no db_proxy_check_password" in check["evidence"]
    assert server.logins == []
    wrong = db_proxy_check_args(tmp_path, server, "wrong")  # a wrong password on purpose
    check = _run(plugin, wrong).checks["db_proxy.backend_is_primary"]
    assert check["status"] == "fail" and "password authentication failed" in check["evidence"]


def test_the_password_reaches_no_command_and_no_output(plugin, postgres, tmp_path):
    server = postgres()
    run = _run(plugin, db_proxy_check_args(tmp_path, server, PASSWORD))
    assert run.checks["db_proxy.backend_is_primary"]["status"] == "pass"
    assert not any(PASSWORD in " ".join(argv) for argv in run.probes)
    assert PASSWORD not in json.dumps(run.result)
    censored = run.result["invocation"]["module_args"]["check_password"]
    assert censored == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
