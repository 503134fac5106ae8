"""Student and index pages: what an officer sees, with every value HTML-escaped."""

from __future__ import annotations

from dataclasses import replace

import requests

from tests.sandbox.helpers import TIMEOUT, powerschool_headers
from tests.sandbox_year import PINNED_AS_OF
from truancy.sandbox.extension_tables import ExtensionTables
from truancy.sandbox.generator import generate_district
from truancy.sandbox.model import District
from truancy.sandbox.pages import student_page
from truancy.sandbox.server import SandboxServer

SCRIPT = "<script>alert('x')</script>"


def test_student_name_with_markup_stays_escaped() -> None:
    base = generate_district(students=3, seed=1, as_of=PINNED_AS_OF)
    hostile = replace(base.students[0], given_name=SCRIPT, family_name="O'Brien & <b>Sons</b>")
    district = District(
        base.name,
        base.sourced_id,
        base.schools,
        (hostile, *base.students[1:]),
        base.codes,
        base.attendance(),
        year=base.year,
        as_of=base.as_of,
    )
    html = student_page(district, ExtensionTables(district.has_student), hostile)
    assert SCRIPT not in html
    assert "<b>Sons</b>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "O&#x27;Brien &amp; &lt;b&gt;Sons&lt;/b&gt;" in html


def test_student_page_over_http_shows_attendance_and_truancy_rows() -> None:
    with SandboxServer(students=40, seed=2, as_of=PINNED_AS_OF) as server:
        student = next(s for s in server.district.students if server.district.attendance_of(s.dcid))
        headers = powerschool_headers(server.url)
        table = "/ws/schema/table/u_truancy_flags"
        flag = {"studentsdcid": str(student.dcid), "status": "active", "label": SCRIPT, "flag_type": "truant"}
        requests.post(
            f"{server.url}{table}",
            headers=headers,
            json={"tables": {"u_truancy_flags": flag}},
            timeout=TIMEOUT,
        )
        page = requests.get(
            f"{server.url}/admin/students/home.html", params={"frn": f"001{student.dcid}"}, timeout=TIMEOUT
        )
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert SCRIPT not in page.text
        assert "&lt;script&gt;" in page.text
        first_row = server.district.attendance_of(student.dcid)[0]
        assert first_row.att_date.isoformat() in page.text
        assert student.student_number in page.text
        index = requests.get(f"{server.url}/", timeout=TIMEOUT).text
        assert f"frn=001{student.dcid}" in index
        assert "Sandbox Unified School District" in index


def test_unknown_student_page_is_404() -> None:
    with SandboxServer(students=5, seed=2, as_of=PINNED_AS_OF) as server:
        for frn in ("00199999999", "abc", "10001"):
            response = requests.get(
                f"{server.url}/admin/students/home.html", params={"frn": frn}, timeout=TIMEOUT
            )
            assert response.status_code == 404
