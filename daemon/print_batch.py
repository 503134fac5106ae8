"""The day's print batch: every letter and conference invitation going by post that day, in one PDF
sorted by school, with a mailing manifest.

A district prints the batch once a day, but the cycle may run several times: the batch is rebuilt
from the store each time anything is added to it (letters in ``notice_deliveries``, invitations in
``invitation_deliveries``, each with its own PDF), so a later cycle never drops what an earlier one
printed, and ``truancy notices batch`` rebuilds the same file.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from pypdf import PdfWriter
from sqlalchemy import Engine, select

from truancy.daemon.files import write_private
from truancy.daemon.invitations_schema import delivery_key, invitation_deliveries
from truancy.daemon.notices_schema import notice_deliveries, notices

MANIFEST_HEADER = "school_id,kind,item,pages"
Item = tuple[str, str, str, bytes]
"""(school id, kind ``letter``, ``invitation`` or ``reminder``, the item's key, its PDF)."""


def batch_id_for(day: str) -> str:
    return f"print-{day}"


def batch_items(engine: Engine, batch_id: str, resolve: Callable[[Path], Path]) -> list[Item]:
    """What the store says the batch holds; ``resolve`` turns a stored path into a file's."""
    with engine.connect() as connection:
        letters = connection.execute(
            select(notices.c.school_id, notices.c.notice_id, notices.c.pdf_path)
            .join(notice_deliveries, notice_deliveries.c.notice_id == notices.c.notice_id)
            .where(notice_deliveries.c.batch_id == batch_id, notice_deliveries.c.state == "sent")
        ).all()
        invitations = connection.execute(
            select(
                invitation_deliveries.c.school_id,
                invitation_deliveries.c.record_id,
                invitation_deliveries.c.purpose,
                invitation_deliveries.c.household,
                invitation_deliveries.c.pdf_path,
            ).where(
                invitation_deliveries.c.batch_id == batch_id,
                invitation_deliveries.c.channel == "print",
                invitation_deliveries.c.state == "sent",
            )
        ).all()
    items: list[Item] = []
    for school, key, path in letters:
        if path:
            items.append((school or "", "letter", key[:12], resolve(Path(path)).read_bytes()))
    for school, record, purpose, household, path in invitations:
        key = delivery_key(record, purpose, household)
        items.append((school or "", purpose, key, resolve(Path(path)).read_bytes()))
    return items


def write_print_batch(folder: Path, batch_id: str, items: list[Item]) -> None:
    """One PDF of the items sorted by school, and its mailing manifest (what to put in envelopes)."""
    writer = PdfWriter()
    manifest = [MANIFEST_HEADER]
    for school, kind, key, pdf in sorted(items, key=lambda item: item[:3]):
        before = len(writer.pages)
        writer.append(io.BytesIO(pdf))
        manifest.append(f"{school},{kind},{key},{len(writer.pages) - before}")
    buffer = io.BytesIO()
    writer.write(buffer)
    write_private(folder / f"{batch_id}.pdf", buffer.getvalue())
    write_private(folder / f"{batch_id}-manifest.csv", "\n".join(manifest) + "\n")


def rebuild_print_batch(engine: Engine, folder: Path, batch_id: str, resolve: Callable[[Path], Path]) -> int:
    """Write the batch as the store has it; returns how many items it holds (none: no file)."""
    items = batch_items(engine, batch_id, resolve)
    if items:
        write_print_batch(folder, batch_id, items)
    return len(items)
