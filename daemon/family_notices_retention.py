"""Family letters as a retention kind (``retention.family_notices_days``): a letter goes, with the
record of the students it covers, once it is older than the period and none of those students is
held (an open case keeps it: a § 25.093 complaint may rest on it); a print file goes once no letter
it holds is left."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, inspect, select

from truancy.daemon.family_notices_schema import family_notice_students, family_notices
from truancy.daemon.purge import Destroyed, Scope, register_kind


@dataclass(frozen=True)
class FamilyNoticeKind:
    name: str = "family_notices"

    def purge(self, scope: Scope) -> Destroyed:
        destroyed = Destroyed()
        if not inspect(scope.connection).has_table("family_notices"):
            return destroyed
        covered: dict[str, set[str]] = {}
        for key, student in scope.connection.execute(
            select(family_notice_students.c.notice_id, family_notice_students.c.student_id)
        ):
            covered.setdefault(key, set()).add(student)
        aged = scope.connection.execute(
            select(
                family_notices.c.notice_id, family_notices.c.created_at, family_notices.c.print_file
            ).where(family_notices.c.created_at < scope.cutoff_instant)
        ).all()
        doomed = [row for row in aged if not covered.get(row.notice_id, set()) & scope.held]
        keys = [row.notice_id for row in doomed]
        files = {row.print_file for row in doomed if row.print_file}
        kept = set(
            scope.connection.execute(
                select(family_notices.c.print_file).where(
                    family_notices.c.print_file.in_(files), family_notices.c.notice_id.not_in(keys)
                )
            ).scalars()
        )
        for row in doomed:
            destroyed.add(row.created_at.date())
        for name in sorted(files - kept):  # a print file goes with the last letter it holds
            path = Path(name) if Path(name).is_absolute() else scope.config_dir / name
            destroyed.files += [path, path.with_suffix(".csv")]
        if not scope.dry_run:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                scope.connection.execute(
                    delete(family_notice_students).where(family_notice_students.c.notice_id.in_(chunk))
                )
                scope.connection.execute(delete(family_notices).where(family_notices.c.notice_id.in_(chunk)))
        return destroyed


register_kind(FamilyNoticeKind())
