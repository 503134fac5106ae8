"""SMTP delivery with STARTTLS, no school logic: a message in, the server's acceptance out.

TLS is verified against the system's CAs by default (``verify`` may name a CA bundle for a
district's own mail relay); credentials are read from a secrets file, never from the settings
text, and never appear in an error.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path


class SmtpError(RuntimeError):
    """The server refused or could not be reached; the message names the host, never a recipient.

    ``accepted_unknown``: the connection failed while the message was being handed over, so the
    server may have accepted it (a caller must not simply send it again)."""

    def __init__(self, message: str, *, accepted_unknown: bool = False) -> None:
        super().__init__(message)
        self.accepted_unknown = accepted_unknown


@dataclass(frozen=True, slots=True)
class SmtpServer:
    host: str
    port: int = 587
    starttls: bool = True
    username: str | None = None
    password_file: Path | None = None
    verify: bool | str = True
    timeout: float = 30.0

    def _context(self) -> ssl.SSLContext:
        if isinstance(self.verify, str):
            return ssl.create_default_context(cafile=self.verify)
        context = ssl.create_default_context()
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def send(self, message: EmailMessage) -> None:
        """Hand ``message`` to the server; returns once it accepted every recipient."""
        handing_over = False
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as client:
                if self.starttls:
                    client.starttls(context=self._context())
                if self.username:
                    password = (
                        self.password_file.read_text(encoding="utf-8").strip() if self.password_file else ""
                    )
                    client.login(self.username, password)
                handing_over = True
                refused = client.send_message(message)
        except smtplib.SMTPResponseException as exc:
            # the server answered with a refusal: it did not take the message
            raise SmtpError(f"smtp {self.host}:{self.port}: refused ({exc.smtp_code})") from None
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            raise SmtpError(
                f"smtp {self.host}:{self.port}: {type(exc).__name__}", accepted_unknown=handing_over
            ) from None
        if refused:
            raise SmtpError(f"smtp {self.host}:{self.port}: {len(refused)} recipient(s) refused")
