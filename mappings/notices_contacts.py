"""A guardian as a notice needs them: who, how related, where to send, which language, and whether
the school may write to them at all. Read only for students with a case or a notice due; never
logged."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class GuardianContact:
    student_id: str
    contact_id: str
    name: str
    relationship: str
    receives_mail: bool
    contact_restriction: str
    """Non-empty when a custody order or the family bars contact: such a guardian gets no notice."""
    address: tuple[str, ...]
    email: str
    phone: str
    language: str
    """The family's preferred language as a BCP 47 tag (``en``, ``es``, ``vi``, ``zh``, ``ar``)."""
    student_name: str = ""
    """How the letter names the pupil (the store itself keeps no names)."""
    school_name: str = ""

    @property
    def may_receive(self) -> bool:
        return self.receives_mail and not self.contact_restriction
