"""The sandbox's tlist_sql: a plugin page's SELECT run over the district, each row's values escaped."""

from __future__ import annotations

from dataclasses import replace

from tests.sandbox_year import PINNED_AS_OF
from truancy.sandbox.extension_tables import ExtensionTables
from truancy.sandbox.generator import generate_district
from truancy.sandbox.tlist import expand

QUERY = (
    "~[tlist_sql;SELECT s.DCID AS dcid, s.LASTFIRST AS lastfirst, s.GRADE_LEVEL AS grade, sch.NAME AS school "
    "FROM STUDENTS s JOIN SCHOOLS sch ON sch.SCHOOL_NUMBER = s.SCHOOLID "
    "WHERE s.DCID IN (SELECT f.STUDENTSDCID FROM U_TRUANCY_FLAGS f WHERE f.STATUS = 'active') "
    "AND ({school} = 0 OR s.SCHOOLID = {school}) ORDER BY s.DCID]"
    '<li data-dcid="~(dcid;html)" data-name="~(lastfirst;html)" data-grade="~(grade)">~(school;html)</li>'
    "[/tlist_sql]"
)


def test_rows_of_flagged_students_with_their_names_escaped() -> None:
    district = generate_district(students=12, seed=3, as_of=PINNED_AS_OF)
    hostile = replace(district.students[0], family_name="O'Brien <b>&</b>", given_name="<script>x</script>")
    district.students = (hostile, *district.students[1:])
    tables = ExtensionTables(district.has_student)
    for student in (hostile, district.students[5]):
        tables.insert("u_truancy_flags", {"studentsdcid": student.dcid, "status": "active"}, "test")
    tables.insert(
        "u_truancy_flags", {"studentsdcid": district.students[6].dcid, "status": "dismissed"}, "test"
    )

    html = expand(QUERY.format(school=0), district, tables)

    assert html.count("<li ") == 2
    assert f'data-dcid="{hostile.dcid}"' in html
    assert f'data-dcid="{district.students[5].dcid}"' in html
    assert "<script>" not in html
    assert "O&#x27;Brien &lt;b&gt;&amp;&lt;/b&gt;, &lt;script&gt;x&lt;/script&gt;" in html
    assert district.school(hostile.schoolid).name in html


def test_a_school_sees_only_its_own_students() -> None:
    district = generate_district(students=40, seed=3, as_of=PINNED_AS_OF)
    tables = ExtensionTables(district.has_student)
    for student in district.students:
        tables.insert("u_truancy_flags", {"studentsdcid": student.dcid, "status": "active"}, "test")
    school = district.students[0].schoolid

    html = expand(QUERY.format(school=school), district, tables)

    mine = [s for s in district.students if s.schoolid == school]
    assert html.count("<li ") == len(mine) < len(district.students)


def test_a_query_the_database_refuses_shows_its_error_in_place() -> None:
    district = generate_district(students=3, seed=3, as_of=PINNED_AS_OF)
    tables = ExtensionTables(district.has_student)
    broken = expand("<p>~[tlist_sql;SELECT nothing FROM NOWHERE]x[/tlist_sql]</p>", district, tables)
    assert broken.startswith("<p>tlist_sql error: ")
    unknown = expand("~[tlist_sql;SELECT 1 AS one]~(one;shout)[/tlist_sql]", district, tables)
    assert unknown == "tlist_sql error: unknown modifier &#x27;shout&#x27;"
