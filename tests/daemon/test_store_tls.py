"""The PostgreSQL store over verified TLS: ``store.sslmode`` and ``store.sslrootcert``.

The test turns TLS on in the local PostgreSQL (a CA and a server certificate made with the openssl
CLI, ``ALTER SYSTEM`` and a reload), proves a ``verify-full`` store really talks TLS
(``pg_stat_ssl``) and refuses a server its CA did not sign, then puts the server's settings back.
Plain connections keep working throughout, for the tests running beside this one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from truancy.daemon.runtime import store_engine
from truancy.daemon.settings import load_settings
from truancy.daemon.store import postgres_tls

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TLS_SETTINGS = ("ssl", "ssl_cert_file", "ssl_key_file")


def _admin() -> Engine:
    return create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", connect_args={"sslmode": "disable"})


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _certificates(folder: Path, name: str) -> None:
    """``name``-ca.crt signs ``name``-server.crt, valid for 127.0.0.1 and localhost."""
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name} test CA",
             "-keyout", f"{name}-ca.key", "-out", f"{name}-ca.crt", cwd=folder)  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
             "-keyout", f"{name}-server.key", "-out", f"{name}-server.csr", cwd=folder)  # fmt: skip
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n", encoding="utf-8")
    _openssl("x509", "-req", "-in", f"{name}-server.csr", "-CA", f"{name}-ca.crt",
             "-CAkey", f"{name}-ca.key", "-CAcreateserial", "-days", "2", "-extfile", "san.ext",
             "-out", f"{name}-server.crt", cwd=folder)  # fmt: skip


def _wait_for(engine: Engine, setting: str, value: str) -> None:
    for _ in range(100):
        with engine.connect() as connection:
            if connection.execute(text(f"SHOW {setting}")).scalar_one() == value:
                return
        time.sleep(0.1)
    raise AssertionError(f"PostgreSQL did not take {setting} = {value} after a reload")


@pytest.fixture(scope="module")
def tls_ca() -> Iterator[Path]:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl CLI is needed to make the test certificates")
    admin = _admin()
    try:
        with admin.connect() as connection:
            superuser = connection.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
            if not superuser.scalar_one():
                pytest.skip("turning TLS on needs a PostgreSQL superuser")
            data_directory = Path(connection.execute(text("SHOW data_directory")).scalar_one())
            rows = connection.execute(
                text(
                    "SELECT name, setting, sourcefile FROM pg_settings "
                    "WHERE name IN ('ssl', 'ssl_cert_file', 'ssl_key_file')"
                )
            )
            before = {row.name: (row.setting, row.sourcefile or "") for row in rows}
    except OperationalError:
        pytest.skip("no PostgreSQL at 127.0.0.1:5432")
    owner = data_directory.stat()
    if os.geteuid() != 0 and os.geteuid() != owner.st_uid:
        pytest.skip("the server's key must be handed to the postgres user (run as root or as postgres)")
    folder = Path(tempfile.mkdtemp(prefix="truancy-pg-tls-"))
    folder.chmod(0o755)  # the server process reads its certificate from here
    try:
        _certificates(folder, "good")
        _certificates(folder, "other")
        key = folder / "good-server.key"
        os.chown(key, owner.st_uid, owner.st_gid)
        key.chmod(0o600)
        (folder / "good-server.crt").chmod(0o644)
        with admin.connect() as connection:
            connection.execute(text(f"ALTER SYSTEM SET ssl_cert_file = '{folder / 'good-server.crt'}'"))
            connection.execute(text(f"ALTER SYSTEM SET ssl_key_file = '{key}'"))
            connection.execute(text("ALTER SYSTEM SET ssl = on"))
            connection.execute(text("SELECT pg_reload_conf()"))
        _wait_for(admin, "ssl", "on")
        yield folder
    finally:
        with admin.connect() as connection:
            for name in TLS_SETTINGS:
                setting, source = before[name]
                if source.endswith("postgresql.auto.conf"):  # set by ALTER SYSTEM before us: put it back
                    connection.execute(text(f"ALTER SYSTEM SET {name} = '{setting}'"))
                else:
                    connection.execute(text(f"ALTER SYSTEM RESET {name}"))
            connection.execute(text("SELECT pg_reload_conf()"))
        _wait_for(admin, "ssl", before["ssl"][0])
        admin.dispose()
        shutil.rmtree(folder, ignore_errors=True)


def _store(tmp_path: Path, ca: Path, sslmode: str = "verify-full") -> Engine:
    shutil.copy(ca, tmp_path / "store-ca.crt")
    config = tmp_path / "truancy.toml"
    config.write_text(
        f'[store]\nurl = "{POSTGRES_URL}"\nsslmode = "{sslmode}"\nsslrootcert = "store-ca.crt"\n',
        encoding="utf-8",
    )
    return store_engine(load_settings(config))  # the CA path is relative to the settings file


def test_verify_full_talks_tls_to_the_server(tls_ca: Path, tmp_path: Path) -> None:
    engine = _store(tmp_path, tls_ca / "good-ca.crt")
    try:
        with engine.connect() as connection:
            ssl, version = connection.execute(
                text("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            ).one()
    finally:
        engine.dispose()
    assert ssl is True
    assert version.startswith("TLSv1.")


def test_verify_full_refuses_a_server_its_ca_did_not_sign(tls_ca: Path, tmp_path: Path) -> None:
    engine = _store(tmp_path, tls_ca / "other-ca.crt")
    try:
        with pytest.raises(OperationalError, match="certificate verify failed"):
            engine.connect().close()
    finally:
        engine.dispose()


def test_plain_connections_still_work_while_tls_is_on(tls_ca: Path) -> None:
    admin = _admin()
    try:
        with admin.connect() as connection:
            ssl = connection.execute(text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))
            assert ssl.scalar_one() is False
    finally:
        admin.dispose()


def test_a_remote_store_defaults_to_verified_tls() -> None:
    remote = make_url("postgresql+psycopg://truancy@db.district.example/truancy")
    assert postgres_tls(remote, None, None) == {"sslmode": "verify-full", "sslrootcert": "system"}
    assert postgres_tls(remote, None, "/etc/ssl/district-ca.pem") == {
        "sslmode": "verify-full",
        "sslrootcert": "/etc/ssl/district-ca.pem",
    }
    assert postgres_tls(remote, "require", None) == {"sslmode": "require"}
    # the URL's own choice stands when the settings make none
    assert postgres_tls(make_url(f"{remote}?sslmode=verify-ca"), None, None) == {}
    # a store on this machine keeps libpq's default (no certificate to check on loopback)
    assert postgres_tls(make_url(POSTGRES_URL), None, None) == {}
