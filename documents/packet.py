"""A referral packet (SARB, court, SAIC) as one PDF: each part rendered on its own, then assembled.

The parts are the cover sheet, the readiness checklist (every item met or missing, with its
citation), the attendance calendar drawn as a picture, the designations with their evidence,
every notice with its delivery evidence, conferences, plans with progress, referrals, officer
notes and the case history. Each part is laid out by WeasyPrint from one Jinja2 template and the
parts are joined with pypdf, each with a bookmark, so a clerk can jump to "Checklist".

Pure rendering: facts in, bytes out. The daemon gathers the facts (:mod:`truancy.daemon.packets`).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from pypdf import PdfReader, PdfWriter

from truancy.documents.letters import TEMPLATES
from truancy.mappings.casework_readiness import ChecklistItem, DeadlineStatus, PlanProgress
from truancy.mappings.casework_records import Conference, Plan, Referral

SECTIONS = (
    ("cover", "Cover sheet"),
    ("checklist", "Checklist"),
    ("calendar", "Attendance calendar"),
    ("designations", "Designations and evidence"),
    ("notices", "Notices and delivery evidence"),
    ("conferences", "Conferences"),
    ("plans", "Attendance improvement plans"),
    ("referrals", "Referrals to services"),
    ("notes", "Officer notes"),
    ("history", "Case history"),
)
DAY_COLOURS = {
    "present": "#d9f2d9",
    "tardy": "#fff2b3",
    "excused": "#cfe2ff",
    "unexcused": "#f4a6a6",
    "part_unexcused": "#f8cbad",
    "suspension": "#d9c2f0",
}


@dataclass(frozen=True, slots=True)
class DesignationPage:
    label: str
    citation: str
    met_on: date
    retracted_on: date | None
    evidence: str


@dataclass(frozen=True, slots=True)
class NoticeRecord:
    title: str
    citation: str
    status: str
    sent_at: str
    channel: str
    evidence: str


@dataclass(frozen=True, slots=True)
class NoteRecord:
    on: date
    category: str
    author: str
    text: str


@dataclass(frozen=True, slots=True)
class HistoryRecord:
    on: date
    kind: str
    detail: str


@dataclass(frozen=True)
class PacketFacts:
    """Everything one packet shows; the daemon fills it, this module only lays it out."""

    district: str
    title: str
    citation: str
    student_ref: str
    school: str
    grade: str
    generated_on: date
    school_year: str
    tier: str
    checklist: Sequence[ChecklistItem]
    deadlines: Sequence[DeadlineStatus] = ()
    blockers: Sequence[str] = ()
    days: Mapping[date, str] = field(default_factory=dict)
    """Each enrolled school day's category (present, tardy, excused, unexcused, part_unexcused...)."""
    designations: Sequence[DesignationPage] = ()
    notices: Sequence[NoticeRecord] = ()
    conferences: Sequence[Conference] = ()
    plans: Sequence[tuple[Plan, PlanProgress]] = ()
    referrals: Sequence[Referral] = ()
    partner_names: Mapping[str, str] = field(default_factory=dict)
    notes: Sequence[NoteRecord] = ()
    history: Sequence[HistoryRecord] = ()

    @property
    def missing(self) -> list[ChecklistItem]:
        return [item for item in self.checklist if not item.met]


def calendar_png(days: Mapping[date, str]) -> bytes:
    """The school year as a grid of months by day of month, each school day coloured by category."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot
    from matplotlib.patches import Patch, Rectangle

    months = sorted({(day.year, day.month) for day in days})
    figure, axes = pyplot.subplots(figsize=(7.5, 0.32 * max(len(months), 1) + 1.2), dpi=150)
    for row, (year, month) in enumerate(months):
        for day, category in days.items():
            if (day.year, day.month) == (year, month):
                colour = DAY_COLOURS.get(category, "#eeeeee")
                axes.add_patch(
                    Rectangle((day.day - 0.5, row - 0.45), 0.9, 0.9, color=colour, ec="#888888", lw=0.3)
                )
    axes.set_xlim(0.3, 31.7)
    axes.set_ylim(len(months) - 0.5, -0.5)
    axes.set_yticks(range(len(months)), [f"{date(y, m, 1):%b %Y}" for y, m in months], fontsize=7)
    axes.set_xticks(range(1, 32), [str(d) for d in range(1, 32)], fontsize=6)
    axes.tick_params(length=0)
    for spine in axes.spines.values():
        spine.set_visible(False)
    handles = [Patch(color=colour, label=name.replace("_", " ")) for name, colour in DAY_COLOURS.items()]
    axes.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=6, fontsize=6.5)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    pyplot.close(figure)
    return buffer.getvalue()


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader([str(TEMPLATES)]),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def section_html(facts: PacketFacts, section: str, heading: str) -> str:
    template = _environment().get_template("packet.html.j2")
    picture = ""
    if section == "calendar" and facts.days:
        picture = "data:image/png;base64," + base64.b64encode(calendar_png(facts.days)).decode("ascii")
    counts: dict[str, int] = {}
    for category in facts.days.values():
        counts[category] = counts.get(category, 0) + 1
    return template.render(
        facts=facts, section=section, heading=heading, picture=picture, counts=counts, colours=DAY_COLOURS
    )


def build_packet(facts: PacketFacts) -> bytes:
    """The packet as PDF bytes: each section rendered, then joined with a bookmark per section."""
    from weasyprint import HTML  # Pango loads only when a packet is printed

    writer = PdfWriter()
    for section, heading in SECTIONS:
        html = section_html(facts, section, heading)
        part = PdfReader(io.BytesIO(HTML(string=html, base_url=str(TEMPLATES)).write_pdf()))
        start = len(writer.pages)
        for page in part.pages:
            writer.add_page(page)
        writer.add_outline_item(title=heading, page_number=start)
    writer.add_metadata({"/Title": f"{facts.title}: {facts.student_ref}", "/Producer": "truancy-sync"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
