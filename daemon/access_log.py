"""Who took student data out of the store: one row per export, with the OS user, the time and the kind.

Every command that writes or shows student-level data (``sync --dry-run``'s per-student plan,
``report``, ``notices preview``, ``packet build``) calls :func:`record_access` once, after the data
left. The row never says which students: only how many, so the log itself is not a copy of them.
"""

from __future__ import annotations

import os
import pwd

from sqlalchemy import Engine, insert

from truancy.daemon.audit_schema import access_log
from truancy.daemon.store import utcnow


def os_user() -> str:
    """The operating-system account running this process (not $USER, which anyone can set).

    Under ``sudo`` the invoking account is named too, as ``alice via sudo``: root alone says little.
    """
    uid = os.geteuid()
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        name = f"uid {uid}"
    invoker = os.environ.get("SUDO_USER")
    if uid == 0 and invoker and invoker != name:
        return f"{invoker} via sudo"[:64]
    return name[:64]


def record_access(engine: Engine, kind: str, *, students: int | None = None) -> None:
    """Log one export of ``kind`` (e.g. ``"dry-run plan"``, ``"packet build"``) covering ``students``."""
    with engine.begin() as connection:
        connection.execute(
            insert(access_log).values(at=utcnow(), os_user=os_user(), kind=kind[:32], students=students)
        )
