"""The PowerSchool plugin zip: PowerSchool's layout, a valid plugin.xml, and grants that match the queries."""

from __future__ import annotations

import re
import shutil
import zipfile
from importlib.metadata import version
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import xmlschema

from truancy.plugins.base import BundleError
from truancy.plugins.powerschool.build import (
    FULL_ACCESS,
    PLUGIN_NS,
    VIEW_ONLY,
    ZIP_TIMESTAMP,
    access_request_fields,
    build_plugin_zip,
    bundle_dir,
    plugin_version,
    read_extension_tables,
    read_named_queries,
    render_plugin_xml,
)

# The sandbox contract (section 2 of the sandbox brief): what the daemon and the sandbox SIS rely on.
CONTRACT_QUERIES = {
    "com.truancysync.attendance.daily.records": [
        "dcid",
        "studentsdcid",
        "student_number",
        "schoolid",
        "att_date",
        "att_code",
        "att_mode_code",
        "presence_status_cd",
        "minutes",
        "whenmodified",
    ],
    "com.truancysync.attendance.codes.table": [
        "att_code",
        "description",
        "presence_status_cd",
        "calculate_ada_yn",
        "schoolid",
        "yearid",
    ],
    "com.truancysync.calendar.days.insession": ["schoolid", "date_value"],
}
CONTRACT_QUERY_ARGS = {
    "com.truancysync.attendance.daily.records": {"modified_since", "start_date", "end_date"},
    "com.truancysync.attendance.codes.table": set(),
    "com.truancysync.calendar.days.insession": set(),
}
CONTRACT_TABLES = {
    "U_TRUANCY_FLAGS": [
        "studentsdcid",
        "sync_key",
        "flag_type",
        "label",
        "citation",
        "status",
        "since_date",
        "detail",
        "tier",
        "dismissed_reason",
        "dismissed_date",
        "dismissed_by",
        "writer",
        "officer",
    ],
    "U_TRUANCY_NOTES": ["studentsdcid", "sync_key", "note_date", "category", "author", "note_text", "writer"],
    "U_TRUANCY_TASKS": [
        "studentsdcid",
        "sync_key",
        "task_type",
        "title",
        "due_date",
        "status",
        "outcome",
        "completed_date",
        "completed_by",
        "outcome_options",
        "citation",
        "detail",
        "writer",
        "officer",
        "task_kind",
    ],
    # the family letters the daemon generated and sent (issue 14)
    "U_TRUANCY_NOTICES": [
        "studentsdcid", "sync_key", "notice_type", "citation", "trigger_event", "languages",
        "generated_date", "sent_date", "channel", "evidence", "status", "status_reason", "letter_text",
        "writer", "officer",
    ],
    # casework the officer records (issue 15)
    "U_TRUANCY_CONFERENCES": [
        "studentsdcid", "meeting", "starts_at", "place", "outcome", "held_date", "attendees", "interpreter",
        "agreed", "attempts", "recorded_by",
    ],
    "U_TRUANCY_PLANS": [
        "studentsdcid", "form", "start_date", "review_date", "end_date", "goals", "supports", "responsible",
        "target_rate", "signed_school", "signed_parent", "signed_student", "progress", "recorded_by",
    ],
    "U_TRUANCY_REFERRALS": [
        "studentsdcid", "partner", "service", "status", "made_date", "status_date", "recorded_by",
    ],
    "U_TRUANCY_CIRCUMSTANCES": ["studentsdcid", "kind", "recorded_date", "recorded_by"],
    "U_TRUANCY_PACKETS": [
        "studentsdcid", "kind", "requested_date", "requested_by", "status", "file_name", "built_date",
        "detail",
    ],
    # the outcomes report's published figures (issue 16): an independent table, no student column
    "U_TRUANCY_FIGURES": [
        "sync_key", "school_year", "as_of", "section", "subject", "detail", "measure", "figure_value",
        "writer",
    ],
}  # fmt: skip
POWERSCHOOL_ROOT_ENTRIES = {
    "plugin.xml",
    "queries_root",
    "user_schema_root",
    "permissions_root",
    "MessageKeys",
    "web_root",
    "pagecataloging",
}


QUERY_FILE = bundle_dir() / "queries_root" / "truancy_sync.named_queries.xml"


def _parse(document: bytes) -> ET.Element:
    return ET.fromstring(document)  # noqa: S314 - the project's own bundle and build output


def _tag(name: str) -> str:
    return f"{{{PLUGIN_NS}}}{name}"


@pytest.fixture(scope="module")
def built_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_plugin_zip(tmp_path_factory.mktemp("plugin"))


@pytest.fixture(scope="module")
def unzipped(built_zip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("unzipped")
    with zipfile.ZipFile(built_zip) as archive:
        archive.extractall(target)
    return target


@pytest.fixture(scope="module")
def plugin_root(unzipped: Path) -> ET.Element:
    return _parse((unzipped / "plugin.xml").read_bytes())


@pytest.fixture
def bundle_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundle, to break on purpose."""
    return Path(shutil.copytree(bundle_dir(), tmp_path / "bundle"))


# -- the zip -----------------------------------------------------------------------------------------


def test_zip_is_named_after_the_package_version(built_zip: Path) -> None:
    assert built_zip.name == f"truancy-sync-powerschool-{version('truancy-sync')}.zip"


def test_zip_has_plugin_xml_at_its_root_and_only_powerschool_folders(built_zip: Path) -> None:
    with zipfile.ZipFile(built_zip) as archive:
        names = archive.namelist()
    assert "plugin.xml" in names
    assert {name.split("/")[0] for name in names} <= POWERSCHOOL_ROOT_ENTRIES
    assert "queries_root/truancy_sync.named_queries.xml" in names
    assert "user_schema_root/U_TRUANCY.xml" in names
    assert names == sorted(names)


def test_build_is_byte_for_byte_reproducible(built_zip: Path, tmp_path: Path) -> None:
    again = build_plugin_zip(tmp_path)
    assert again.read_bytes() == built_zip.read_bytes()
    with zipfile.ZipFile(again) as archive:
        assert {info.date_time for info in archive.infolist()} == {ZIP_TIMESTAMP}


def test_build_leaves_only_the_zip_in_the_output_folder(tmp_path: Path) -> None:
    built = build_plugin_zip(tmp_path / "new" / "dir")
    assert list(built.parent.iterdir()) == [built]


def test_every_table_the_plugin_xml_grants_is_defined_or_core(
    unzipped: Path, plugin_root: ET.Element
) -> None:
    """Each U_ table in access_request has its definition file in the zip's user_schema_root."""
    granted = {field.get("table") for field in plugin_root.iter(_tag("field"))}
    defined = {table.name for table in read_extension_tables(unzipped)}
    assert {table for table in granted if table and table.startswith("U_")} == defined
    assert defined == set(CONTRACT_TABLES)


def test_unzipped_plugin_reads_back_the_same_definitions(unzipped: Path) -> None:
    assert read_named_queries(unzipped) == read_named_queries()
    assert read_extension_tables(unzipped) == read_extension_tables()


# -- plugin.xml --------------------------------------------------------------------------------------


def test_plugin_xml_validates_against_powerschool_xsd(specs_dir: Path, unzipped: Path) -> None:
    schema = xmlschema.XMLSchema(specs_dir / "powerschool" / "plugin.xsd")
    schema.validate(unzipped / "plugin.xml")


def test_plugin_xml_children_come_in_the_order_newer_servers_require(plugin_root: ET.Element) -> None:
    assert [child.tag for child in plugin_root] == [_tag("oauth"), _tag("access_request"), _tag("publisher")]


def test_plugin_xml_carries_name_and_package_version(plugin_root: ET.Element) -> None:
    assert plugin_root.get("name") == "Truancy Sync"
    assert plugin_root.get("version") == plugin_version()
    assert version("truancy-sync").startswith(plugin_version())
    contact = plugin_root.find(f"{_tag('publisher')}/{_tag('contact')}")
    assert contact is not None
    assert "@" in (contact.get("email") or "")


@pytest.mark.parametrize(
    ("package_version", "expected"),
    [("0.1.0", "0.1.0"), ("1.2.0.dev3+g1a2b3c", "1.2.0"), ("2.0rc1", "2.0"), ("10.4.1.post2", "10.4.1")],
)
def test_plugin_version_keeps_only_digits_and_dots(package_version: str, expected: str) -> None:
    assert plugin_version(package_version) == expected


def test_plugin_version_without_a_release_number_is_refused() -> None:
    with pytest.raises(BundleError, match="does not start with a release number"):
        plugin_version("dev")


def test_access_request_in_the_zip_is_access_request_fields(plugin_root: ET.Element) -> None:
    in_xml = [
        (field.get("table"), field.get("field"), field.get("access"))
        for field in plugin_root.iter(_tag("field"))
    ]
    assert in_xml == access_request_fields()


def test_contact_email_can_be_set_by_the_district() -> None:
    root = _parse(render_plugin_xml(contact_email="attendance-it@district.k12.ca.us"))
    contact = root.find(f"{_tag('publisher')}/{_tag('contact')}")
    assert contact is not None
    assert contact.get("email") == "attendance-it@district.k12.ca.us"


@pytest.mark.parametrize("email", ["not-an-address", "a" * 35 + "@district.org"])
def test_contact_email_outside_the_xsd_is_refused(email: str) -> None:
    with pytest.raises(BundleError, match="contact email"):
        render_plugin_xml(contact_email=email)


# -- access_request ----------------------------------------------------------------------------------


def test_every_query_column_is_granted_view_only() -> None:
    grants = {(table, field): access for table, field, access in access_request_fields()}
    for query in read_named_queries():
        for column in query.columns:
            assert grants[(column.table, column.field)] == VIEW_ONLY, (query.name, column.output)
        for table_field in query.touched:
            assert grants[table_field] == VIEW_ONLY, (query.name, table_field)


def test_every_extension_column_is_granted_full_access() -> None:
    grants = {(table, field): access for table, field, access in access_request_fields()}
    for table in read_extension_tables():
        for column in ("ID", *table.column_names):
            assert grants[(table.name, column)] == FULL_ACCESS, (table.name, column)


def test_core_tables_are_never_writable_and_nothing_extra_is_granted() -> None:
    fields = access_request_fields()
    queried = {table_field for query in read_named_queries() for table_field in query.touched}
    own = {
        (table.name, column) for table in read_extension_tables() for column in ("ID", *table.column_names)
    }
    assert {(table, field) for table, field, _ in fields} == queried | own
    assert all(access == VIEW_ONLY for table, _, access in fields if not table.startswith("U_"))
    assert ("STUDENTS", "DCID", VIEW_ONLY) in fields
    assert ("STUDENTS", "STUDENT_NUMBER", VIEW_ONLY) in fields
    assert not any(
        table == "STUDENTS" and field in {"FIRST_NAME", "LAST_NAME", "DOB"} for table, field, _ in fields
    )


# -- the definitions against the contract -----------------------------------------------------------


def test_query_names_and_output_columns_are_the_contract() -> None:
    queries = {query.name: [column.output for column in query.columns] for query in read_named_queries()}
    assert queries == CONTRACT_QUERIES


def test_query_args_are_the_contract() -> None:
    assert {query.name: set(query.args) for query in read_named_queries()} == CONTRACT_QUERY_ARGS


def test_sql_select_list_maps_positionally_onto_the_declared_columns() -> None:
    """PowerSchool pairs SELECT items with <column> elements by position, not by alias."""
    root = _parse(QUERY_FILE.read_bytes())
    for query in root.iter("query"):
        sql = query.findtext("sql", "")
        select_list = re.search(r"SELECT(.*?)\bFROM\b", sql, re.DOTALL | re.IGNORECASE)
        assert select_list is not None
        aliases = re.findall(r"\bAS\s+(\w+)\s*(?:,|$)", select_list.group(1), re.IGNORECASE)
        declared = [(column.text or "").strip() for column in query.iter("column")]
        assert aliases == declared, query.get("name")


def test_daily_records_are_ordered_for_stable_paging() -> None:
    root = _parse(QUERY_FILE.read_bytes())
    query = root.find("query[@name='com.truancysync.attendance.daily.records']")
    assert query is not None
    sql = " ".join(query.findtext("sql", "").split())
    assert sql.endswith("ORDER BY att.WHENMODIFIED, att.DCID")
    assert "att.ATT_MODE_CODE = 'ATT_ModeDaily'" in sql
    assert "cal.INSESSION = 1" in sql


def test_extension_tables_declare_exactly_the_contract_columns() -> None:
    tables = {
        table.name: [column.lower() for column in table.column_names] for table in read_extension_tables()
    }
    assert tables == CONTRACT_TABLES


def test_extension_tables_extend_students_and_hold_real_note_text() -> None:
    tables = {table.name: table for table in read_extension_tables()}
    figures = tables.pop("U_TRUANCY_FIGURES")
    assert figures.parent_table is None  # the district's figures: no row belongs to a student
    assert {table.parent_table for table in tables.values()} == {"STUDENTS"}
    lengths = {field.name: field.length for field in tables["U_TRUANCY_NOTES"].fields}
    assert lengths["note_text"] == 4000
    for table in tables.values():
        assert all(field.type == "String" and field.length for field in table.fields), table.name
        assert {field.name: field.length for field in table.fields}.get("detail", 4000) == 4000


# -- a broken bundle gets a clear error --------------------------------------------------------------


@pytest.mark.parametrize(
    ("relative", "old", "new", "message"),
    [
        (
            "queries_root/truancy_sync.named_queries.xml",
            '<column column="ATTENDANCE.DCID">dcid</column>',
            '<column column="ATTENDANCE.ID_TYPO">dcid</column>',
            r"column 'dcid' maps ATTENDANCE.ID_TYPO, which the SQL never reads",
        ),
        (
            "queries_root/truancy_sync.named_queries.xml",
            '<arg name="end_date"',
            '<arg name="until"',
            r"SQL binds \['end_date', 'modified_since', 'start_date'\] but <args> declares",
        ),
        (
            "queries_root/truancy_sync.named_queries.xml",
            "FROM CALENDAR_DAY cal",
            "FROM CALENDAR_DAY",
            r"SQL reads cal.SCHOOLID but 'cal' is no table alias",
        ),
        (
            "user_schema_root/U_TRUANCY.xml",
            '<field name="note_text" type="String" length="4000"',
            '<field name="note_text" type="String" length="4001"',
            r"String field 'note_text' needs a length from 1 to 4000",
        ),
        (
            "user_schema_root/U_TRUANCY.xml",
            '<field name="label" type="String"',
            '<field name="studentsdcid" type="String"',
            r"fields \['STUDENTSDCID'\] are duplicated or added by PowerSchool itself",
        ),
        ("plugin.xml", "<access_request/>", "", r"plugin.xml: <access_request> is missing"),
        ("plugin.xml", "<oauth/>", "<oauth>", r"plugin.xml: not well-formed XML"),
    ],
)
def test_broken_bundle_is_refused_with_a_message_naming_the_problem(
    bundle_copy: Path, tmp_path: Path, relative: str, old: str, new: str, message: str
) -> None:
    path = bundle_copy / relative
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(BundleError, match=message):
        build_plugin_zip(out, source=bundle_copy)
    assert not out.exists() or not any(out.iterdir())


def test_extension_file_must_be_named_after_its_extension(bundle_copy: Path, tmp_path: Path) -> None:
    (bundle_copy / "user_schema_root" / "U_TRUANCY.xml").rename(
        bundle_copy / "user_schema_root" / "truancy.xml"
    )
    with pytest.raises(
        BundleError, match=r"truancy.xml: PowerSchool expects the file to be named U_TRUANCY.xml"
    ):
        build_plugin_zip(tmp_path, source=bundle_copy)


# -- the page fragments and their script --------------------------------------------------------------

WEB_FILES = (
    "web_root/admin/students/home.truancy_sync.content.header.txt",
    "web_root/admin/students/home.truancy_sync.content.footer.txt",
    "web_root/admin/home.truancy_sync.content.footer.txt",
    "web_root/scripts/truancy_sync/truancy_sync.js",
    "web_root/admin/students/home.truancy_casework.content.footer.txt",
    "web_root/scripts/truancy_sync/truancy_outcomes.js",
)
STYLE_FILE = "web_root/scripts/truancy_sync/truancy_sync.css"
_WRITE_CALL = re.compile(r'\.(?:update|insert)\("(\w+)"[^{]*\{([^}]*)\}', re.DOTALL)


def test_page_fragments_and_script_ship_in_the_zip(built_zip: Path) -> None:
    with zipfile.ZipFile(built_zip) as archive:
        assert {*WEB_FILES, STYLE_FILE} <= set(archive.namelist())


@pytest.mark.parametrize("name", WEB_FILES)
def test_web_files_never_parse_values_as_html(name: str) -> None:
    script = (bundle_dir() / name).read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in script
    assert "textContent" in script


@pytest.mark.parametrize("name", WEB_FILES)
def test_web_files_use_only_declared_tables_and_write_only_declared_columns(name: str) -> None:
    script = (bundle_dir() / name).read_text(encoding="utf-8")
    declared = {
        table.name.lower(): {c.lower() for c in table.column_names} for table in read_extension_tables()
    }
    assert set(re.findall(r"\bu_truancy_\w+", script)) <= set(declared)
    for table, columns in _WRITE_CALL.findall(script):
        written = set(re.findall(r"(\w+):", columns))
        assert written, table
        assert written <= declared[table], (table, written - declared[table])


def test_the_student_tab_writes_officer_work_the_daemon_reads_back() -> None:
    script = (bundle_dir() / WEB_FILES[1]).read_text(encoding="utf-8")
    writes: dict[str, set[str]] = {}
    for table, columns in _WRITE_CALL.findall(script):
        writes.setdefault(table, set()).update(re.findall(r"(\w+):", columns))
    assert writes["u_truancy_tasks"] == {"status", "completed_date", "outcome", "completed_by"}
    assert writes["u_truancy_flags"] == {"status", "dismissed_date", "dismissed_reason", "dismissed_by"}
    assert "sync_key" not in writes["u_truancy_notes"]
    assert "u_truancy_notices" not in writes  # the letters' log is the daemon's: the page only shows it
    assert "u_truancy_notices" in script


def test_what_an_officer_records_carries_the_signed_in_user_never_a_fixed_author() -> None:
    page = (bundle_dir() / WEB_FILES[1]).read_text(encoding="utf-8")
    assert 'data-user="~[x:username]"' in page
    assert '"officer"' not in page
    for written in ("author: user", "completed_by: user", "dismissed_by: user"):
        assert written in page


def test_no_outcome_is_preselected_and_dates_are_never_in_the_future() -> None:
    page = (bundle_dir() / WEB_FILES[1]).read_text(encoding="utf-8")
    script = (bundle_dir() / WEB_FILES[3]).read_text(encoding="utf-8")
    assert "letter_sent" not in page
    assert "none.selected = true" in page
    assert "none.disabled = true" in page
    assert "input.max = today()" in script
    assert "actionDateProblem" in page


def test_student_names_are_looked_up_by_the_page_and_never_granted_to_the_daemon() -> None:
    """The open-cases page reads names with tlist_sql as the signed-in user; the plugin's API
    client (the daemon) is granted no name column."""
    page = (bundle_dir() / WEB_FILES[2]).read_text(encoding="utf-8")
    assert "~[tlist_sql;" in page
    sql = page[page.index("~[tlist_sql;") : page.index("[/tlist_sql]")]
    for column in ("s.LASTFIRST", "s.STUDENT_NUMBER", "s.GRADE_LEVEL", "sch.NAME"):
        assert column in sql
    name_columns = {"LASTFIRST", "FIRST_NAME", "LAST_NAME", "MIDDLE_NAME", "DOB"}
    granted = {(table, field) for table, field, _ in access_request_fields()}
    assert not {pair for pair in granted if pair[0] == "STUDENTS" and pair[1] in name_columns}


def test_the_banner_is_an_alert_with_its_own_style() -> None:
    banner = (bundle_dir() / WEB_FILES[0]).read_text(encoding="utf-8")
    assert 'role="alert"' in banner
    assert "/scripts/truancy_sync/truancy_sync.css" in banner
    style = (bundle_dir() / STYLE_FILE).read_text(encoding="utf-8")
    assert "#truancy-sync-banner {" in style
    assert "@media (max-width: 600px)" in style
