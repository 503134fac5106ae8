"""Families: the students one letter to a household covers.

A family is the students who share a guardian who may receive mail. Two contacts are the same
guardian when they are one SIS contact (the same contact id), or when they carry the same name at
the same mailing address (case, accents, spacing and punctuation aside): many SISs keep a guardian
record per child, so siblings' records differ in id but not in name and address. Families are the
connected groups of students so linked, so a child whose mother and father live apart joins both
parents' other children in one family.

A student with no guardian who may receive mail belongs to no family: nobody can be written to.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from truancy.mappings.notices_contacts import GuardianContact


@dataclass(frozen=True)
class Family:
    students: tuple[str, ...]
    """Student ids, sorted."""
    guardians: tuple[GuardianContact, ...]
    """One contact per distinct guardian (name and address), the first student's first."""

    @property
    def key(self) -> str:
        """Stable for the same children: a notice id rests on it, so a rerun makes no second letter."""
        return hashlib.sha256("\x1f".join(self.students).encode("utf-8")).hexdigest()[:32]


def _folded(text: str) -> str:
    """Case, accents, spacing and punctuation folded: the same person typed twice matches."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return re.sub(r"[\s.,#]+", " ", bare).strip()


def guardian_identity(contact: GuardianContact) -> tuple[str, str]:
    """Who the guardian is for grouping: their name and mailing address, case and spacing folded."""
    return _folded(contact.name), _folded(" ".join(contact.address))


def families(contacts: Iterable[GuardianContact]) -> list[Family]:
    """The families among the students these contacts belong to (see the module docstring),
    sorted by their first student."""
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def join(a: str, b: str) -> None:
        parent[find(a)] = find(b)

    receiving = [c for c in contacts if c.may_receive]
    for contact in receiving:
        student = f"s:{contact.student_id}"
        join(student, f"c:{contact.contact_id}")
        name, address = guardian_identity(contact)
        if name and address:
            join(student, f"g:{name}\x1f{address}")
    members: dict[str, set[str]] = {}
    guardians: dict[str, dict[tuple[str, str], GuardianContact]] = {}
    for contact in receiving:
        root = find(f"s:{contact.student_id}")
        members.setdefault(root, set()).add(contact.student_id)
        guardians.setdefault(root, {}).setdefault(guardian_identity(contact), contact)
    found = []
    for root, students in members.items():
        ordered = tuple(sorted(students))
        first = ordered[0]
        people = sorted(guardians[root].values(), key=lambda c: (c.student_id != first, c.student_id))
        found.append(Family(ordered, tuple(people)))
    return sorted(found, key=lambda family: family.students)
