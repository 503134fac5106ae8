"""Server-rendered HTML: what an attendance officer would see in the SIS.

Every value from the data passes through ``html.escape``; names in this district include
characters that would break unescaped markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import partial
from html import escape

from truancy.sandbox import tlist
from truancy.sandbox.extension_tables import TABLE_COLUMNS, Condition, ExtensionTables
from truancy.sandbox.fragments import FOOTER, HEADER, PageFragments
from truancy.sandbox.model import District, Student
from truancy.sandbox.staff import DEFAULT_USER, SIGN_IN_PAGE, StaffUser

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#1d2733;max-width:70rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ccd}
table{border-collapse:collapse;font-size:.9rem}
td,th{border:1px solid #ccd;padding:.25rem .5rem;text-align:left}
th{background:#eef1f6}.muted{color:#667}.scroll{overflow-x:auto;max-width:100%}
@media (max-width:600px){body{margin:.75rem}}
"""
STUDENT_PAGE = "/admin/students/home.html"
START_PAGE = "/admin/home.html"


def _document(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    )


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    head = "".join(f"<th>{escape(header)}</th>" for header in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows
    )
    if not body:
        return '<p class="muted">None.</p>'
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _session(user: StaffUser) -> dict[str, str]:
    """The session tags PowerSchool fills for the signed-in user at the district office."""
    return {"username": user.lastfirst, "users_dcid": str(user.dcid), "curschoolid": "0"}


def _inserted(
    fragments: PageFragments | None,
    page: str,
    point: str,
    fields: dict[str, str],
    context: tuple[District, ExtensionTables, StaffUser],
) -> str:
    """A plugin's fragments as PowerSchool renders them for the signed-in user at the district office."""
    if fragments is None:
        return ""
    district, tables, user = context
    return fragments.insert(
        page, point, fields, session=_session(user), expand=lambda text: tlist.expand(text, district, tables)
    )


def custom_page(text: str, district: District, tables: ExtensionTables, user: StaffUser) -> str:
    """A plugin's own page (its whole HTML) rendered for the signed-in user."""
    expand = partial(tlist.expand, district=district, tables=tables)
    return PageFragments.render(text, {}, session=_session(user), expand=expand)


def student_link(student: Student) -> str:
    label = f"{student.family_name}, {student.given_name}"
    return f'<a href="{STUDENT_PAGE}?frn=001{student.dcid}">{escape(label)}</a>'


def student_page(
    district: District,
    tables: ExtensionTables,
    student: Student,
    fragments: PageFragments | None = None,
    user: StaffUser = DEFAULT_USER,
) -> str:
    """The student's main page; a plugin's fragments go at the top and bottom of its content."""
    school = district.school(student.schoolid)
    attendance = [
        (row.att_date.isoformat(), row.att_code, district.code(row.att_code).description, row.minutes or "")
        for row in district.attendance_of(student.dcid)
    ]
    fields = {"DCID": str(student.dcid)}
    context = (district, tables, user)
    sections = [
        f"<h1>{escape(student.family_name)}, {escape(student.given_name)}</h1>",
        _inserted(fragments, STUDENT_PAGE, HEADER, fields, context),
        _table(
            ("Student number", "Grade", "School", "Entry date", "Exit date"),
            [(student.student_number, student.grade, school.name, student.entry_date, student.exit_date)],
        ),
        "<h2>Attendance 2025-26</h2>",
        _table(("Date", "Code", "Description", "Minutes"), attendance),
    ]
    owner = [Condition("studentsdcid", "==", str(student.dcid))]
    for table, title in (
        ("u_truancy_flags", "Flags"),
        ("u_truancy_tasks", "Tasks"),
        ("u_truancy_notes", "Notes"),
    ):
        columns = [column for column in TABLE_COLUMNS[table] if column not in ("studentsdcid", "sync_key")]
        rows = tables.select(table, owner)
        sections += [
            f"<h2>{title}</h2>",
            _table(columns, [[row.get(c, "") for c in columns] for row in rows]),
        ]
    sections.append(_inserted(fragments, STUDENT_PAGE, FOOTER, fields, context))
    return _document(f"{student.family_name}, {student.given_name}", "".join(sections))


def index_page(district: District, tables: ExtensionTables) -> str:
    flagged = {
        int(row["studentsdcid"])
        for row in tables.select("u_truancy_flags", [Condition("status", "==", "active")])
    }
    schools = [(school.schoolid, school.name, school.level.value) for school in district.schools]
    flagged_links = [student_link(district.student(dcid)) for dcid in sorted(flagged)]
    others = [student_link(student) for student in district.students[:10] if student.dcid not in flagged]
    body = [
        f"<h1>{escape(district.name)}</h1>",
        f"<p>{len(district.students)} students, {district.attendance_count()} attendance rows.</p>",
        f'<p><a href="{START_PAGE}">Start page: open truancy cases</a> · '
        f'<a href="{SIGN_IN_PAGE}">staff sign-in</a></p>',
        "<h2>Schools</h2>",
        _table(("School number", "Name", "Level"), schools),
        "<h2>Students with an active truancy flag</h2>",
        "<ul>" + "".join(f"<li>{link}</li>" for link in flagged_links) + "</ul>"
        if flagged_links
        else '<p class="muted">None yet: run a sync.</p>',
        "<h2>Other students</h2>",
        "<ul>" + "".join(f"<li>{link}</li>" for link in others) + "</ul>",
    ]
    return _document(district.name, "".join(body))


def start_page(
    district: District,
    fragments: PageFragments | None,
    tables: ExtensionTables,
    user: StaffUser = DEFAULT_USER,
) -> str:
    """The school's start page: where PowerSchool puts school-level plugin content."""
    context = (district, tables, user)
    body = [
        f"<h1>{escape(district.name)}: start page</h1>",
        _inserted(fragments, START_PAGE, HEADER, {}, context),
        f'<p class="muted">Signed in as {escape(user.lastfirst)} (district office) · '
        f'<a href="{SIGN_IN_PAGE}">sign in as someone else</a></p>',
        _inserted(fragments, START_PAGE, FOOTER, {}, context),
    ]
    return _document(f"{district.name}: start page", "".join(body))
