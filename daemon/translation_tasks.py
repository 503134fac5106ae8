"""The "translation needed" task: a family was written to in English because no reviewed catalog has
their language. A person sends a reviewed translation (statutory text is never machine-translated);
in California that is Cal. Educ. Code § 48985's duty."""

from __future__ import annotations

import json
from datetime import date

from truancy.mappings.writes import DesiredWrite, WriteKind

DONE_OPTIONS = json.dumps([{"code": "done", "label": "Done", "closes": True}], separators=(",", ":"))


def translation_task(
    student_id: str,
    school_year: str,
    logical_id: str,
    *,
    state: str,
    title: str,
    due: date,
    detail: str,
) -> DesiredWrite:
    fields = {
        "task_type": "notice_translation",
        "title": title,
        "due_date": due.isoformat(),
        "status": "open",
        "citation": "Cal. Educ. Code § 48985" if state == "CA" else "",
        "detail": detail,
        "outcome_options": DONE_OPTIONS,
    }
    return DesiredWrite.build(WriteKind.TASK, student_id, school_year, logical_id, fields)
