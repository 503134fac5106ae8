"""SMTP delivery against a real server on loopback (aiosmtpd) that requires STARTTLS and a login."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.daemon.notice_support import SMTP_PASSWORD, SMTP_USER, smtp_server
from truancy.connector.smtp import SmtpError, SmtpServer


def _message() -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.org", "family@example.org", "Letter"
    message.set_content("text")
    return message


def _password(tmp_path: Path, value: str = SMTP_PASSWORD) -> Path:
    path = tmp_path / "smtp_password"
    path.write_text(value + "\n", encoding="utf-8")
    return path


def test_starttls_verified_against_the_districts_ca_and_a_login_delivers(tmp_path: Path) -> None:
    with smtp_server(tmp_path) as (mailbox, port, ca):
        SmtpServer("127.0.0.1", port, True, SMTP_USER, _password(tmp_path), verify=str(ca)).send(_message())
        [received] = mailbox.messages
        assert received["To"] == "family@example.org"
        assert mailbox.tls_sessions == 1


def test_tls_is_verified_by_default_a_certificate_no_system_ca_signed_is_refused(tmp_path: Path) -> None:
    with smtp_server(tmp_path) as (mailbox, port, _ca):
        with pytest.raises(SmtpError, match=rf"smtp 127.0.0.1:{port}: SSLCertVerificationError") as caught:
            SmtpServer("127.0.0.1", port, True, SMTP_USER, _password(tmp_path)).send(_message())
        assert not caught.value.accepted_unknown
        assert mailbox.messages == []


@pytest.mark.parametrize(("starttls", "password"), [(False, SMTP_PASSWORD), (True, "wrong")])
def test_no_starttls_or_a_wrong_password_fails_before_handing_over_and_names_no_secret(
    tmp_path: Path, starttls: bool, password: str
) -> None:
    with smtp_server(tmp_path) as (mailbox, port, ca):
        server = SmtpServer(
            "127.0.0.1", port, starttls, SMTP_USER, _password(tmp_path, password), verify=str(ca)
        )
        with pytest.raises(SmtpError, match=rf"smtp 127.0.0.1:{port}: ") as caught:
            server.send(_message())
        assert not caught.value.accepted_unknown  # never handed over: safe to send again later
        assert password not in str(caught.value)
        assert "family@example.org" not in str(caught.value)
        assert mailbox.messages == []
