"""Notices and guardian contacts as retention kinds (``retention.notices_days``,
``retention.contacts_days``): a notice goes with its delivery evidence and its PDF; nothing of a
student with an open case goes (purge holds them)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select

from truancy.daemon.notices_schema import notice_deliveries, notices
from truancy.daemon.purge import Destroyed, Scope, TableKind, register_kind


@dataclass(frozen=True)
class NoticeKind(TableKind):
    """The notices table, then the delivery rows its purged notices leave behind."""

    def purge(self, scope: Scope) -> Destroyed:
        destroyed = super().purge(scope)
        if not scope.dry_run:
            kept = select(notices.c.notice_id)
            scope.connection.execute(
                delete(notice_deliveries).where(notice_deliveries.c.notice_id.not_in(kept))
            )
        return destroyed


register_kind(NoticeKind("notices", table="notices", aged_by="created_at", file_column="pdf_path"))
register_kind(TableKind("contacts", table="guardian_contacts", aged_by="read_at"))
