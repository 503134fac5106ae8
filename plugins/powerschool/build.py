"""Build the PowerSchool plugin zip a district installs through Plugin Management Configuration.

``bundle/`` holds the plugin as PowerSchool reads it. Two things are computed at build time so that
they cannot drift from the rest: the plugin version (the package's) and ``<access_request>``, which
grants ViewOnly on exactly the core columns the PowerQueries touch and FullAccess on the columns of
the plugin's own U_ tables. A PowerQuery that touches an ungranted column fails on the district's
server with "No access to the field", so the grant is derived, never hand-kept.
"""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from xml.etree import ElementTree as ET  # nosec B405 - parses only the bundle files this package ships

from truancy.plugins.base import BundleError

PLUGIN_NS = "http://plugin.powerschool.pearson.com"
EXTENSION_NS = "http://www.powerschool.com"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
VIEW_ONLY = "ViewOnly"
FULL_ACCESS = "FullAccess"
QUERY_FILE_SUFFIX = ".named_queries.xml"
# PowerSchool adds these to every row of an extension table; a one-to-many child of a core table also
# gets its parent key, <CORETABLE>DCID. An independent table (type="standalone", no coreTable) has
# no parent: PowerSchool's "Database Extensions" page (ps.powerschool-docs.com/pssis-admin/latest/
# database-extensions) names it "Independent table (not linked to a PowerSchool table)", and shipped
# plugins declare it as <extendedTable type="standalone" dbTableName="U_X" childName="U_X"> (e.g.
# github.com/johne5s/PowerSchool-Inventory-System, Source/user_schema_root/u_inventorysystem.xml).
STANDALONE = "standalone"
EXTENSION_AUDIT_COLUMNS = ("WHOCREATED", "WHENCREATED", "WHOMODIFIED", "WHENMODIFIED")
MAX_STRING_LENGTH = 4000
# Zip timestamps are fixed so that the same bundle always builds the same bytes.
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)

_SQL_LITERAL = re.compile(r"'[^']*'")
_SQL_TABLE_ALIAS = re.compile(r"\b(?:FROM|JOIN)\s+(\w+)\s+(\w+)", re.IGNORECASE)
_SQL_QUALIFIED_NAME = re.compile(r"\b(\w+)\.([A-Za-z_]\w*)\b")
_SQL_BIND = re.compile(r":(\w+)")
_RELEASE = re.compile(r"\d+(?:\.\d+)*")

AccessField = tuple[str, str, str]


class PowerSchoolBundle:
    """The plugin zip (``truancy plugin build powerschool``) and the page fragments it installs."""

    def build(self, out_dir: Path, *, contact_email: str | None) -> Path:
        return build_plugin_zip(out_dir, contact_email=contact_email)

    @property
    def web_root(self) -> Path:
        return bundle_dir() / "web_root"


@dataclass(frozen=True, slots=True)
class QueryColumn:
    output: str
    table: str
    field: str


@dataclass(frozen=True, slots=True)
class NamedQuery:
    name: str
    args: tuple[str, ...]
    columns: tuple[QueryColumn, ...]
    touched: frozenset[tuple[str, str]]
    """Every (TABLE, FIELD) the SQL reads, output or not: all of them need a grant."""


@dataclass(frozen=True, slots=True)
class ExtensionField:
    name: str
    type: str
    length: int | None


@dataclass(frozen=True, slots=True)
class ExtensionTable:
    name: str
    parent_table: str | None
    """The core table a one-to-many child extends; None for an independent (standalone) table."""
    fields: tuple[ExtensionField, ...]

    @property
    def parent_key(self) -> str | None:
        return f"{self.parent_table}DCID" if self.parent_table else None

    @property
    def column_names(self) -> tuple[str, ...]:
        """The columns the daemon writes and reads back: the parent key (if any) and the declared fields."""
        parent = (self.parent_key,) if self.parent_key else ()
        return (*parent, *(field.name.upper() for field in self.fields))


def bundle_dir() -> Path:
    return Path(__file__).resolve().parent / "bundle"


def plugin_version(package_version: str | None = None) -> str:
    """PowerSchool takes digits and dots only, so a pre-release, dev or local suffix is dropped."""
    package_version = package_version or version("truancy-sync")
    release = _RELEASE.match(package_version)
    if release is None:
        raise BundleError(f"package version {package_version!r} does not start with a release number")
    return release.group(0)


def read_named_queries(source: Path | None = None) -> list[NamedQuery]:
    root = source or bundle_dir()
    return [
        query
        for path in sorted((root / "queries_root").glob(f"*{QUERY_FILE_SUFFIX}"))
        for query in _parse_query_file(path)
    ]


def read_extension_tables(source: Path | None = None) -> list[ExtensionTable]:
    root = source or bundle_dir()
    return [
        table
        for path in sorted((root / "user_schema_root").glob("*.xml"))
        for table in _parse_extension_file(path)
    ]


def access_request_fields(source: Path | None = None) -> list[AccessField]:
    """(table, field, access) for every column the plugin reads or writes, sorted."""
    grants: dict[tuple[str, str], str] = {}
    for query in read_named_queries(source):
        for table_field in query.touched:
            grants[table_field] = VIEW_ONLY
    for table in read_extension_tables(source):
        for column in ("ID", *table.column_names):
            grants[(table.name, column)] = FULL_ACCESS
    return [(table, field, access) for (table, field), access in sorted(grants.items())]


def render_plugin_xml(source: Path | None = None, *, contact_email: str | None = None) -> bytes:
    root_dir = source or bundle_dir()
    ET.register_namespace("", PLUGIN_NS)
    ET.register_namespace("xsi", XSI_NS)
    path = root_dir / "plugin.xml"
    plugin = _parse_xml(path)
    plugin.set("version", plugin_version())
    access_request = _required_child(plugin, "access_request", path)
    access_request.clear()
    for table, field, access in access_request_fields(root_dir):
        ET.SubElement(
            access_request, f"{{{PLUGIN_NS}}}field", {"table": table, "field": field, "access": access}
        )
    if contact_email is not None:
        contact = _required_child(_required_child(plugin, "publisher", path), "contact", path)
        contact.set("email", _checked_email(contact_email))
    ET.indent(plugin, space="  ")
    body = ET.tostring(plugin, encoding="unicode", short_empty_elements=True)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'.encode()


def build_plugin_zip(out_dir: Path, *, source: Path | None = None, contact_email: str | None = None) -> Path:
    """Write ``truancy-sync-powerschool-<version>.zip`` into out_dir and return its path.

    The zip has plugin.xml at its root (PowerSchool rejects a top folder). It is written beside its
    final name and renamed into place, so an interrupted build never leaves a truncated plugin.
    """
    root_dir = source or bundle_dir()
    plugin_xml = render_plugin_xml(root_dir, contact_email=contact_email)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"truancy-sync-powerschool-{version('truancy-sync')}.zip"
    entries = sorted([("plugin.xml", plugin_xml), *_bundle_files(root_dir)])
    handle, temporary = tempfile.mkstemp(dir=out_dir, prefix=".truancy-plugin-", suffix=".zip")
    try:
        with os.fdopen(handle, "wb") as stream, zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in entries:
                info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def _bundle_files(root: Path) -> Iterator[tuple[str, bytes]]:
    """Every bundle file except the plugin.xml template, skipping hidden files and caches."""
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if not path.is_file() or relative == Path("plugin.xml"):
            continue
        if any(part.startswith(".") or part == "__pycache__" for part in relative.parts):
            continue
        yield relative.as_posix(), path.read_bytes()


def _parse_query_file(path: Path) -> Iterator[NamedQuery]:
    root = _parse_xml(path)
    if root.tag != "queries":
        raise BundleError(f"{path.name}: root element is <{root.tag}>, expected <queries>")
    for element in root.findall("query"):
        yield _parse_query(element, path)


def _parse_query(element: ET.Element, path: Path) -> NamedQuery:
    name = element.get("name", "")
    where = f"{path.name}: query {name!r}"
    args = tuple(arg.get("name", "") for arg in element.findall("args/arg"))
    columns = tuple(_parse_query_column(column, where) for column in element.findall("columns/column"))
    sql = element.findtext("sql", "")
    touched = _sql_fields(sql, where)
    binds = set(_SQL_BIND.findall(_SQL_LITERAL.sub("''", sql)))
    if binds != set(args):
        raise BundleError(f"{where}: SQL binds {sorted(binds)} but <args> declares {sorted(args)}")
    for column in columns:
        if (column.table, column.field) not in touched:
            mapped = f"{column.table}.{column.field}"
            raise BundleError(f"{where}: column {column.output!r} maps {mapped}, which the SQL never reads")
    return NamedQuery(name=name, args=args, columns=columns, touched=touched)


def _parse_query_column(element: ET.Element, where: str) -> QueryColumn:
    output = (element.text or "").strip()
    table, dot, field = element.get("column", "").partition(".")
    if not (output and table and dot and field):
        raise BundleError(f"{where}: each <column> needs column='TABLE.FIELD' and an output name")
    return QueryColumn(output=output, table=table.upper(), field=field.upper())


def _sql_fields(sql: str, where: str) -> frozenset[tuple[str, str]]:
    """(TABLE, FIELD) pairs from alias.FIELD references; the SQL must alias every table it reads."""
    code = _SQL_LITERAL.sub("''", sql)
    aliases = {alias.lower(): table.upper() for table, alias in _SQL_TABLE_ALIAS.findall(code)}
    fields: set[tuple[str, str]] = set()
    for qualifier, field in _SQL_QUALIFIED_NAME.findall(code):
        if qualifier.isdigit():
            continue
        table = aliases.get(qualifier.lower())
        if table is None:
            raise BundleError(f"{where}: SQL reads {qualifier}.{field} but {qualifier!r} is no table alias")
        fields.add((table, field.upper()))
    return frozenset(fields)


def _parse_extension_file(path: Path) -> Iterator[ExtensionTable]:
    root = _parse_xml(path)
    if root.tag != f"{{{EXTENSION_NS}}}psExtension":
        raise BundleError(f"{path.name}: root element is {root.tag}, expected psExtension in {EXTENSION_NS}")
    extension_name = (root.findtext(f"{{{EXTENSION_NS}}}extensionname") or "").strip()
    if path.stem != extension_name:
        raise BundleError(f"{path.name}: PowerSchool expects the file to be named {extension_name}.xml")
    for element in root.findall(f"{{{EXTENSION_NS}}}extendedTable"):
        yield _parse_extension_table(element, path)


def _parse_extension_table(element: ET.Element, path: Path) -> ExtensionTable:
    name = element.get("dbTableName", "").upper()
    parent = element.get("coreTable", "").upper()
    standalone = element.get("type") == STANDALONE
    where = f"{path.name}: table {name or '?'}"
    if not name.startswith("U_") or standalone == bool(parent):
        raise BundleError(
            f"{where}: needs dbTableName='U_...' and either the coreTable it extends or type='standalone'"
        )
    if standalone and element.get("childName", "").upper() != name:
        raise BundleError(f"{where}: an independent table names itself as childName too")
    fields = tuple(
        _parse_extension_field(field, where) for field in element.findall(f"{{{EXTENSION_NS}}}field")
    )
    table = ExtensionTable(name=name, parent_table=parent or None, fields=fields)
    reserved = {"ID", table.parent_key or "ID", *EXTENSION_AUDIT_COLUMNS}
    names = [field.name.upper() for field in fields]
    clashes = sorted({field for field in names if field in reserved or names.count(field) > 1})
    if clashes:
        raise BundleError(f"{where}: fields {clashes} are duplicated or added by PowerSchool itself")
    return table


def _parse_extension_field(element: ET.Element, where: str) -> ExtensionField:
    name = element.get("name", "")
    field_type = element.get("type", "")
    raw_length = element.get("length")
    length = int(raw_length) if raw_length and raw_length.isdigit() else None
    if field_type == "String" and not (length and 0 < length <= MAX_STRING_LENGTH):
        raise BundleError(f"{where}: String field {name!r} needs a length from 1 to {MAX_STRING_LENGTH}")
    return ExtensionField(name=name, type=field_type, length=length)


def _parse_xml(path: Path) -> ET.Element:
    try:
        return ET.parse(path).getroot()  # noqa: S314 - bundle files ship in this package
    except ET.ParseError as exc:
        raise BundleError(f"{path.name}: not well-formed XML ({exc})") from None


def _required_child(parent: ET.Element, tag: str, path: Path) -> ET.Element:
    child = parent.find(f"{{{PLUGIN_NS}}}{tag}")
    if child is None:
        raise BundleError(f"{path.name}: <{tag}> is missing")
    return child


def _checked_email(email: str) -> str:
    """plugin.xsd caps the contact email at 40 characters."""
    if "@" not in email or not 0 < len(email) <= 40:
        raise BundleError(
            f"contact email must look like name@domain and have at most 40 characters: {email!r}"
        )
    return email
