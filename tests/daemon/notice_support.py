"""A real SMTP server on loopback (aiosmtpd) that requires STARTTLS and a login, and a sync cycle
with notices against the sandbox."""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.daemon.sandbox_sync import District
from truancy.daemon.notices import NoticeCycle
from truancy.daemon.notices_runtime import task_types
from truancy.daemon.notices_settings import NoticeSettings
from truancy.daemon.pipeline import CycleSummary, SyncPipeline
from truancy.daemon.runtime import runtime
from truancy.mappings.notices import load_notices

SMTP_USER, SMTP_PASSWORD = "notices", "s3cret-for-tests"


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 it signed: (ca, cert, key)."""
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=smtp test CA",
             "-keyout", "ca.key", "-out", "ca.crt", cwd=folder)  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
             "-keyout", "server.key", "-out", "server.csr", cwd=folder)  # fmt: skip
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n", encoding="utf-8")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", "2", "-extfile", "san.ext", "-out", "server.crt", cwd=folder)  # fmt: skip
    return folder / "ca.crt", folder / "server.crt", folder / "server.key"


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)
    tls_sessions: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's hook name)
        if session.ssl is not None:
            self.tls_sessions += 1
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        SMTP_USER.encode(),
        SMTP_PASSWORD.encode(),
    )
    return AuthResult(success=ok)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def smtp_server(folder: Path, mailbox: Mailbox | None = None) -> Iterator[tuple[Mailbox, int, Path]]:
    """(mailbox, port, CA bundle) of a server that refuses mail before STARTTLS and a login;
    ``mailbox``: a handler of the test's own (one that misbehaves)."""
    ca, cert, key = certificates(folder)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    mailbox = mailbox or Mailbox()
    port = free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=_authenticate,
        auth_required=True,
    )
    controller.start()
    try:
        yield mailbox, port, ca
    finally:
        controller.stop()


def notice_settings(tmp_path: Path, port: int, ca: Path, **changes: Any) -> NoticeSettings:
    secrets = tmp_path / "secrets"
    secrets.mkdir(mode=0o700, exist_ok=True)
    (secrets / "smtp_password").write_text(SMTP_PASSWORD, encoding="utf-8")
    body: dict[str, Any] = {
        "approval": "officer",
        "output_dir": "letters",
        "district_address": ["100 Main Street", "Springfield, CA 95000"],
        "signature_name": "Dana Ortiz",
        "contact_phone": "(555) 010-0199",
        "contact_email": "attendance@sandbox.example.org",
        "email": {
            "host": "127.0.0.1",
            "port": port,
            "starttls": True,
            "from_address": "attendance@sandbox.example.org",
            "username": SMTP_USER,
            "password_file": str(secrets / "smtp_password"),
            "verify_tls": str(ca),
        },
        **changes,
    }
    return NoticeSettings.model_validate(body)


def notice_cycle(district: District, settings: NoticeSettings, *, log_table: bool = True) -> CycleSummary:
    """One sync cycle with notices, as the service runs it (``log_table=False``: as a version before
    the notices table logged letters as notes)."""
    with runtime(district.settings) as rt:
        notices = NoticeCycle(
            rt.engine,
            load_notices("CA"),
            settings,
            district_name="Sandbox Unified School District",
            config_dir=district.config.parent,
            contacts=rt.plugin.guardian_contacts,  # type: ignore[attr-defined]
            categorize=rt.plugin.categorize,
            log_table=log_table,
            task_types=task_types(rt.policy),
        )
        pipeline = SyncPipeline(
            rt.engine, rt.plugin, rt.policy, caseloads=district.settings.caseloads, notices=notices
        )
        return pipeline.run_cycle(today=district.today)
