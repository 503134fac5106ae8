"""The outcomes report as a page and a PDF: the published (already suppressed) figures in, bytes out.

The HTML carries its charts inline as SVG, so it is one self-contained file a director can open or
mail; the PDF is that same page laid out by WeasyPrint (as the family letters are).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from truancy.documents import charts

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _charts(report: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    rates = {"chronic absence": "chronic_absence_rate", "truancy": "truancy_rate"}
    schools, grades, months = report["schools"], report["grades"], report["months"]
    tier_labels = sorted({label for entry in report["tiers_over_time"] for label in entry["tiers"]})
    drawn = {
        "schools": charts.rate_bars(
            "Rates by school",
            [f"School {s['school_id']}" for s in schools],
            {name: [s[key] for s in schools] for name, key in rates.items()},
        ),
        "grades": charts.rate_bars(
            "Rates by grade",
            [str(g["grade"]) for g in grades],
            {name: [g[key] for g in grades] for name, key in rates.items()},
        ),
        "months": charts.month_lines(
            "Rates by month",
            [m["month"] for m in months],
            {name: [m[key] for m in months] for name, key in rates.items()},
            percent=True,
        ),
        "tiers": charts.month_lines(
            "Cases by tier at each month's end",
            [entry["month"] for entry in report["tiers_over_time"]],
            {
                label: [entry["tiers"].get(label, 0) for entry in report["tiers_over_time"]]
                for label in tier_labels
            },
            percent=False,
        ),
        "interventions": charts.before_after(
            "Change in attendance rate after each intervention",
            [row for row in report["interventions"] if row["language"] == "all"],
        ),
    }
    return drawn, tier_labels


def render_html(report: Mapping[str, Any]) -> str:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
    )
    drawn, tier_labels = _charts(report)
    return environment.get_template("outcomes.html.j2").render(
        r=report, charts=drawn, tier_labels=tier_labels
    )


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML

    pdf: bytes = HTML(string=html, base_url=str(TEMPLATES)).write_pdf()
    return pdf
