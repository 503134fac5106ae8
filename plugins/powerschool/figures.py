"""PowerSchool holds the outcomes report's figures in U_TRUANCY_FIGURES, an independent table.

The table has no parent (no STUDENTSDCID): the figures are the district's and its schools', so no
row can be tied to a student. Rows are read and written through ``/ws/schema/table`` like the
students' rows, in the columns the field map's ``figure`` entry names.
"""

from __future__ import annotations

from truancy.connector.powerschool import PowerSchoolClient, fiql_eq
from truancy.mappings.report_figures import FigureTableMap, FigureWrite
from truancy.plugins.figures import FigureRow


class PowerSchoolFigures:
    """The :class:`~truancy.plugins.figures.FigureTarget` half of the PowerSchool plugin."""

    powerschool: PowerSchoolClient
    figure_map: FigureTableMap

    def figure_rows(self, school_year: str) -> list[FigureRow]:
        table = self.figure_map
        query = fiql_eq(table.columns["school_year"], school_year)
        return [
            FigureRow(row["id"], row.get(table.sync_key_column) or None, table.to_fields(row))
            for rows in self.powerschool.iter_table(table.table, q=query)
            for row in rows
        ]

    def create_figure(self, write: FigureWrite) -> str:
        columns = {**self.figure_map.to_columns(write), self.figure_map.sync_key_column: write.sync_key}
        return str(self.powerschool.insert_row(self.figure_map.table, columns))

    def update_figure(self, remote_id: str, write: FigureWrite) -> None:
        self.powerschool.update_row(self.figure_map.table, remote_id, self.figure_map.to_columns(write))

    def delete_figure(self, remote_id: str) -> None:
        self.powerschool.delete_row(self.figure_map.table, remote_id)
