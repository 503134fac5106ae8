"""Notices and guardian contacts as retention kinds (``retention.notices_days``,
``retention.contacts_days``): a notice goes with its delivery evidence and its PDF, a conference
invitation's delivery row with its printed letter after the same period; nothing of a student with
an open case goes (purge holds them)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select

from truancy.daemon.notices_schema import notice_deliveries, notices
from truancy.daemon.purge import Destroyed, Scope, TableKind, register_kind

INVITATIONS = TableKind(
    "notices", table="invitation_deliveries", aged_by="created_at", file_column="pdf_path"
)


@dataclass(frozen=True)
class NoticeKind(TableKind):
    """The notices table, then the delivery rows its purged notices leave behind, then conference
    invitations' deliveries (their printed letters are family notices too)."""

    def purge(self, scope: Scope) -> Destroyed:
        destroyed = super().purge(scope)
        if not scope.dry_run:
            kept = select(notices.c.notice_id)
            scope.connection.execute(
                delete(notice_deliveries).where(notice_deliveries.c.notice_id.not_in(kept))
            )
        invitations = INVITATIONS.purge(scope)
        for day in (invitations.oldest, invitations.newest):
            if day is not None:
                destroyed.add(day, 0)
        destroyed.records += invitations.records
        destroyed.files.extend(invitations.files)
        return destroyed


register_kind(NoticeKind("notices", table="notices", aged_by="created_at", file_column="pdf_path"))
register_kind(TableKind("contacts", table="guardian_contacts", aged_by="read_at"))
