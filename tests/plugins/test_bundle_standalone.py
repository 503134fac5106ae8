"""Independent (standalone) extension tables in the PowerSchool bundle: no parent, still granted.

PowerSchool declares an independent table as ``<extendedTable type="standalone" dbTableName="U_X"
childName="U_X">`` with no coreTable; it has no parent key, so nothing of a student can hang off it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from truancy.plugins.base import BundleError
from truancy.plugins.powerschool.build import (
    FULL_ACCESS,
    access_request_fields,
    bundle_dir,
    read_extension_tables,
)

STANDALONE = """<?xml version="1.0" encoding="UTF-8"?>
<psExtension xmlns="http://www.powerschool.com">
  <extensionname>U_SAMPLE</extensionname>
  <extendedTable {attributes} comment="district figures">
    <field name="measure" type="String" length="40"/>
    <field name="figure_value" type="String" length="40"/>
  </extendedTable>
</psExtension>
"""


@pytest.fixture
def bundle_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "bundle"
    shutil.copytree(bundle_dir(), copy)
    return copy


def _with_table(bundle: Path, attributes: str) -> None:
    text = STANDALONE.format(attributes=attributes)
    (bundle / "user_schema_root" / "U_SAMPLE.xml").write_text(text, encoding="utf-8")


def test_a_standalone_table_has_no_parent_key_and_its_columns_are_granted(bundle_copy: Path) -> None:
    _with_table(bundle_copy, 'type="standalone" dbTableName="U_SAMPLE" childName="U_SAMPLE"')
    table = next(t for t in read_extension_tables(bundle_copy) if t.name == "U_SAMPLE")
    assert (table.parent_table, table.parent_key) == (None, None)
    assert table.column_names == ("MEASURE", "FIGURE_VALUE")
    granted = {(t, f): a for t, f, a in access_request_fields(bundle_copy) if t == "U_SAMPLE"}
    assert granted == dict.fromkeys(
        [("U_SAMPLE", "ID"), ("U_SAMPLE", "MEASURE"), ("U_SAMPLE", "FIGURE_VALUE")], FULL_ACCESS
    )


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ('dbTableName="U_SAMPLE"', "either the coreTable it extends or type='standalone'"),
        (
            'type="standalone" coreTable="Students" dbTableName="U_SAMPLE" childName="U_SAMPLE"',
            "either the coreTable it extends or type='standalone'",
        ),
        ('type="standalone" dbTableName="U_SAMPLE" childName="U_OTHER"', "names itself as childName"),
    ],
)
def test_a_table_that_is_neither_child_nor_standalone_is_refused(
    bundle_copy: Path, attributes: str, message: str
) -> None:
    _with_table(bundle_copy, attributes)
    with pytest.raises(BundleError, match=message):
        read_extension_tables(bundle_copy)
