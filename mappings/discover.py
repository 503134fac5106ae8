"""Propose a code map from the codes a SIS actually uses, and say how sure each proposal is.

A wrong mapping becomes a wrong letter to a family, so a code is only placed when its description
says plainly what it is and the SIS's own presence flag does not contradict it. Anything vague
("Absent - Unverified", a bare "Absent", an excused tardy) is left unmapped for a person to
decide: rows with an unmapped code are quarantined, never counted as present.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from truancy.mappings.codemap import CodeEntry
from truancy.mappings.facts import Category

__all__ = [
    "Confidence",
    "MapDifference",
    "ObservedCode",
    "Suggestion",
    "compare_with_map",
    "render_code_map",
    "suggest",
    "suggest_all",
]


class Confidence(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@dataclass(frozen=True, slots=True)
class ObservedCode:
    """One attendance code as the SIS defines and uses it this school year.

    ``present`` and ``counts_for_ada`` are the SIS's own flags (PowerSchool: PRESENCE_STATUS_CD
    and CALCULATE_ADA_YN), None when the SIS has no such flag. ``with_minutes`` counts the rows
    that carry minutes missed, the mark of a part-day code.
    """

    code: str
    description: str
    present: bool | None = None
    counts_for_ada: bool | None = None
    occurrences: int = 0
    with_minutes: int = 0


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A proposed entry (``category`` None: left unmapped) and the reasons behind it."""

    observed: ObservedCode
    category: Category | None
    partial_day: bool = False
    confidence: Confidence | None = None
    reasons: tuple[str, ...] = ()

    @property
    def code(self) -> str:
        return self.observed.code

    @property
    def mapped(self) -> bool:
        return self.category is not None


@dataclass(frozen=True, slots=True)
class _Reading:
    """What a description says: a category (None when it says nothing usable) and how plainly."""

    category: Category | None
    partial_day: bool = False
    plain: bool = False
    why: str = ""


_AMBIGUOUS = frozenset({"unverified", "unknown", "pending", "other", "misc", "miscellaneous"})
_UNEXCUSED = frozenset({"unexcused", "truant", "truancy", "unauthorized", "unapproved", "cut", "skip"})
_EXCUSED_PLAIN = frozenset({"excused", "authorized", "approved"})
_EXCUSED_BY_REASON = frozenset(
    {
        "illness",
        "ill",
        "sick",
        "medical",
        "doctor",
        "dental",
        "dentist",
        "bereavement",
        "funeral",
        "religious",
        "court",
        "quarantine",
        "hospital",
    }
)
_TARDY = frozenset({"tardy", "tardies", "late"})
_SUSPENSION = frozenset({"suspension", "suspended", "suspend"})
_PRESENT_BY_ACTIVITY = ("field trip", "school activity", "school business", "school sponsored")


def _words(description: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", description.lower().replace("-", " "))


def _phrase(words: Sequence[str], phrase: str) -> bool:
    return f" {phrase} " in f" {' '.join(words)} "


def read_description(description: str) -> _Reading:
    """The category a code's description states, checked from the most to the least specific."""
    words = _words(description)
    found = set(words)
    if not found:
        return _Reading(None, why="no description")
    if found & _AMBIGUOUS:
        return _Reading(None, why=f"description says {sorted(found & _AMBIGUOUS)[0]!r}: decide how it counts")
    if _phrase(words, "not present") or _phrase(words, "non present"):
        return _Reading(None, why="'not present' does not say whether the absence is excused")
    excused = bool(found & _EXCUSED_PLAIN)
    unexcused = bool(found & _UNEXCUSED)
    if found & _SUSPENSION:
        if _phrase(words, "in school") or "iss" in found:
            return _Reading(Category.PRESENT, plain=True, why="in-school suspension: instruction at school")
        return _Reading(Category.SUSPENSION, plain=True, why="suspension")
    if found & _TARDY:
        if excused and not unexcused:
            return _Reading(None, why="an excused tardy: the law may or may not count it")
        return _Reading(Category.TARDY, partial_day=True, plain=True, why="late arrival")
    if _early_departure(words):
        if unexcused:
            return _Reading(Category.UNEXCUSED, partial_day=True, plain=True, why="unexcused early departure")
        if excused:
            return _Reading(Category.EXCUSED, partial_day=True, plain=True, why="excused early departure")
        return _Reading(None, why="early departure without saying whether it is excused")
    if unexcused and excused:
        return _Reading(None, why="description says both excused and unexcused")
    if unexcused:
        return _Reading(Category.UNEXCUSED, plain=True, why="unexcused")
    if excused:
        return _Reading(Category.EXCUSED, plain=True, why="excused")
    reason = sorted(found & _EXCUSED_BY_REASON)
    if reason:
        return _Reading(Category.EXCUSED, why=f"absence for a reason the law excuses ({reason[0]})")
    for phrase in _PRESENT_BY_ACTIVITY:
        if _phrase(words, phrase):
            return _Reading(Category.PRESENT, why=f"{phrase}: a school activity")
    if found == {"present"} or _phrase(words, "present"):
        return _Reading(Category.PRESENT, plain=True, why="present")
    return _Reading(None, why="the description does not say how the law counts it")


def _early_departure(words: Sequence[str]) -> bool:
    return any(
        _phrase(words, phrase)
        for phrase in ("early dismissal", "early departure", "left early", "leave early", "early release")
    )


def _expected_presence(reading: _Reading) -> bool | None:
    """What a SIS flag should say for the reading; None where districts legitimately differ."""
    if reading.partial_day and reading.category is not Category.TARDY:
        return None
    return reading.category in (Category.PRESENT, Category.TARDY)


def _sis_presence(observed: ObservedCode) -> tuple[bool | None, str]:
    if observed.present is not None:
        return observed.present, "presence status"
    if observed.counts_for_ada is not None:
        return observed.counts_for_ada, "counts-for-ADA flag"
    return None, ""


def suggest(observed: ObservedCode) -> Suggestion:
    """Place one code, or leave it unmapped with the reason."""
    reading = read_description(observed.description)
    if reading.category is None:
        return Suggestion(observed, None, reasons=(reading.why,))
    reasons = [f"description: {reading.why}"]
    score = 2 if reading.plain else 1
    flag, flag_name = _sis_presence(observed)
    expected = _expected_presence(reading)
    if flag is not None and expected is not None:
        shown = "present" if flag else "absent"
        if flag != expected:
            return Suggestion(
                observed,
                None,
                reasons=(
                    f"description suggests {reading.category.value}, "
                    f"but the SIS's {flag_name} says {shown}: decide which is right",
                ),
            )
        score += 1
        reasons.append(f"SIS {flag_name} agrees ({shown})")
    if observed.with_minutes and not reading.partial_day:
        reasons.append(f"{observed.with_minutes} row(s) carry minutes: check whether it is a part-day code")
    confidence = {3: Confidence.HIGH, 2: Confidence.MEDIUM}.get(score, Confidence.LOW)
    return Suggestion(observed, reading.category, reading.partial_day, confidence, tuple(reasons))


def suggest_all(observed: Iterable[ObservedCode]) -> list[Suggestion]:
    """Every code's suggestion: unmapped codes first (they need a person), then by code."""
    return sorted((suggest(code) for code in observed), key=lambda s: (s.mapped, s.code))


def render_code_map(suggestions: Sequence[Suggestion], *, source: str, fold_case: bool = False) -> str:
    """A code map file an admin reviews: unmapped codes on top as comments, each entry explained.

    The file loads as it is (unmapped codes stay quarantined); to place an unmapped code, the admin
    uncomments its line and picks a category. ``fold_case`` carries the current map's option over.
    """
    lines = [
        f"# Proposed by `truancy mappings discover` from {source}.",
        "# Review every entry before pointing mappings.code_map at this file: a wrong category",
        "# becomes a wrong letter to a family. Categories: present, excused, unexcused, tardy,",
        "# suspension; `partial_day: true` codes carry the minutes missed.",
        "version: 1",
        *(["fold_case: true  # codes match whatever their case"] if fold_case else []),
        "codes:",
    ]
    if any(not s.mapped for s in suggestions):
        lines.append("  # UNMAPPED: rows with these codes are quarantined until you choose a category.")
    for suggestion in sorted(suggestions, key=lambda s: (s.mapped, s.code)):
        observed = suggestion.observed
        if suggestion.category is None:
            lines.append(f"  # {suggestion.reasons[0]}; {_usage(observed)}")
            lines.append(f"  # {_entry(suggestion.code, 'CHOOSE', observed.description, False)}")
            continue
        confidence = suggestion.confidence.value if suggestion.confidence else "unrated"
        lines.append(f"  # confidence {confidence}: {'; '.join(suggestion.reasons)}; {_usage(observed)}")
        entry = _entry(
            suggestion.code, suggestion.category.value, observed.description, suggestion.partial_day
        )
        lines.append(f"  {entry}")
    return "\n".join(lines) + "\n"


def _entry(code: str, category: str, description: str, partial_day: bool) -> str:
    partial = ", partial_day: true" if partial_day else ""
    return f"{json.dumps(code)}: {{category: {category}, description: {json.dumps(description)}{partial}}}"


def _usage(observed: ObservedCode) -> str:
    return f"{observed.occurrences:,} row(s) this year"


@dataclass(frozen=True, slots=True)
class MapDifference:
    """How a proposal differs from the map in force for one code."""

    code: str
    change: str
    current: str | None = None
    proposed: str | None = None


def _describe_entry(category: Category, partial_day: bool) -> str:
    return f"{category.value}{' (part day)' if partial_day else ''}"


def compare_with_map(
    current: Mapping[str, CodeEntry], suggestions: Sequence[Suggestion]
) -> list[MapDifference]:
    """Codes the proposal adds, changes or cannot place, and mapped codes the SIS does not define."""
    differences: list[MapDifference] = []
    proposed_codes = set()
    for suggestion in suggestions:
        proposed_codes.add(suggestion.code)
        entry = current.get(suggestion.code)
        now = _describe_entry(entry.category, entry.partial_day) if entry is not None else None
        if suggestion.category is None:
            differences.append(MapDifference(suggestion.code, "unmapped in proposal", now, None))
            continue
        proposed = _describe_entry(suggestion.category, suggestion.partial_day)
        if now is None:
            differences.append(MapDifference(suggestion.code, "added", None, proposed))
        elif now != proposed:
            differences.append(MapDifference(suggestion.code, "changed", now, proposed))
    for code in sorted(set(current) - proposed_codes):
        entry = current[code]
        differences.append(
            MapDifference(code, "not defined in the SIS", _describe_entry(entry.category, entry.partial_day))
        )
    return differences
