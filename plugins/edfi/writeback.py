"""Flags, notes and tasks as Ed-Fi records, and back.

Flags and notes are student indicators inside the student's studentEducationOrganizationAssociation.
That association holds the SIS's own indicators too (and much else), so a write is always read,
merge, write: GET by id, replace only our indicator, PUT with ``If-Match``; a 412 means the SIS
changed it meanwhile, and the merge starts again from a fresh read.

Tasks are studentInterventionAssociations, each on an intervention of its own (upserted when the
task is created, deleted with it): the ODS keys an association, and the attendance events that close
it, by intervention and student alone, so two tasks of one type for one student (two letters to
approve) on a shared intervention would be one record, each write overwriting the other. The
intervention's code is the task type and the start of the sync key; the association's
``diagnosticStatement`` carries the task and its whole sync key. An officer
closes a task by recording a studentInterventionAttendanceEvent for it: the event's date is the day
the work happened, its reason the outcome (a code or label of :mod:`truancy.mappings.task_outcomes`,
e.g. ``held`` or "Conference held"). A reason that keeps the task open (``rescheduled``) does not
close it, as on the PowerSchool page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Any

from truancy.connector.edfi import ChangeWindow, EdFiClient, StaleEtagError
from truancy.connector.errors import HttpStatusError
from truancy.mappings.task_outcomes import KEEPS_OPEN, PETITIONS, TASK_OUTCOMES
from truancy.mappings.writes import AUTHOR, DesiredWrite, WriteKind
from truancy.plugins.base import Cursor, Ownership, ReadBackPage, RemoteRow
from truancy.plugins.edfi.fieldmap import EdFiFieldMap

SEOA = "ed-fi/studentEducationOrganizationAssociations"
INTERVENTIONS = "ed-fi/interventions"
SIA = "ed-fi/studentInterventionAssociations"
SIAE = "ed-fi/studentInterventionAttendanceEvents"
MERGE_ATTEMPTS = 3
KEY_DIGITS_IN_CODE = 20
"""80 bits of the sync key in an intervention's code: unique among a district's tasks, within DS 5.0's
60 characters whatever the prefix (at most 20) and task type (clipped)."""
TASK_LOOKUPS = 50
"""Changed tasks read one by one (their association and its attendance events) up to this many;
beyond it, one paged read of both resources costs fewer requests."""
_KEY_IN_STATEMENT = re.compile(r"^\[truancy-sync ([0-9a-f]{40})(?: w:([0-9a-f]+))?\] ")
_TASK_IN_STATEMENT = re.compile(r"^(?P<title>.*), due (?P<due_date>\S*)\.(?: (?P<detail>.*))?$", re.DOTALL)
_WRITER_IN_DESIGNATED_BY = re.compile(r" w:([0-9a-f]+)$")
"""Ed-Fi records have no field of ours: the store's instance id rides in the text the daemon owns
(a task's statement tag, a flag's ``designatedBy``), so a second store is detected as on PowerSchool."""
# The length limits of DS 5.0, applied before comparing, so an over-long value is not rewritten forever.
_LIMITS = {"indicatorGroup": 200, "indicator": 60, "designatedBy": 60, "diagnosticStatement": 1024}
Replacement = Callable[[Mapping[str, Any] | None], dict[str, Any] | None]
_OUTCOME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_CODE_OF_LABEL = {
    o.label.lower(): o.code for outcomes in (*TASK_OUTCOMES.values(), PETITIONS) for o in outcomes
}


OWNERSHIP: Mapping[WriteKind, Ownership] = {
    WriteKind.FLAG: Ownership(
        daemon=frozenset({"label", "since_date", "writer"}),
        officer=frozenset({"status", "dismissed_date"}),
        retract_while={"status": "active"},
    ),
    WriteKind.NOTE: Ownership(daemon=frozenset({"note_text", "category", "note_date", "author"})),
    WriteKind.TASK: Ownership(
        daemon=frozenset({"title", "due_date", "detail", "writer"}),
        officer=frozenset({"status", "completed_date", "outcome"}),
        retract_while={"status": "open"},
    ),
}
"""Who owns what in the ODS: the officer sets a flag indicator's value and its period's end, and
closes a task by an attendance event; the daemon owns the rest of what it writes. A task's citation
and detail share its statement, so they read back together as ``detail``."""


def clip(field: str, value: str) -> str:
    limit = _LIMITS[field]
    return value if len(value) <= limit else value[: limit - 1] + "…"


class EdFiWriteBack:
    def __init__(
        self, client: EdFiClient, field_map: EdFiFieldMap, education_organization_id: int, school_year: int
    ) -> None:
        self.client = client
        self.field_map = field_map
        self.org_id = education_organization_id
        self.begin_date = date(school_year - 1, 7, 1).isoformat()

    # -- rendering -----------------------------------------------------------------------------

    def _prefix(self, kind: WriteKind) -> str:
        return (
            self.field_map.flag.indicator_name_prefix
            if kind is WriteKind.FLAG
            else self.field_map.note.indicator_name_prefix
        )

    def indicator(
        self, write: DesiredWrite, keep_officer_fields: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The student indicator for a flag or note; a flag keeps the officer's status and end date."""
        fields = write.fields
        name = self._prefix(write.kind) + write.sync_key
        if write.kind is WriteKind.FLAG:
            officer = keep_officer_fields or {}
            period: dict[str, Any] = {"beginDate": fields["since_date"]}
            end = officer.get("endDate")
            if end:
                period["endDate"] = end
            return {
                "indicatorName": name,
                "indicatorGroup": clip("indicatorGroup", fields.get("label", "")),
                "indicator": clip("indicator", officer.get("indicator") or fields.get("status", "active")),
                "designatedBy": _designated_by(fields.get("writer")),
                "periods": [period],
            }
        return {
            "indicatorName": name,
            "indicatorGroup": clip("indicatorGroup", fields.get("note_text", "")),
            "indicator": clip("indicator", fields.get("category", "")),
            "designatedBy": clip("designatedBy", fields.get("author", AUTHOR)),
            "periods": [{"beginDate": fields["note_date"]}],
        }

    def statement(self, write: DesiredWrite) -> str:
        fields = write.fields
        writer = fields.get("writer")
        tag = f"{write.sync_key} w:{writer}" if writer else write.sync_key
        text = f"[truancy-sync {tag}] {fields.get('title', '')}, due {fields.get('due_date', '')}."
        for extra in (fields.get("citation"), fields.get("detail")):
            if extra:
                text += f" {extra}"
        return clip("diagnosticStatement", text)

    def stored_fields(self, write: DesiredWrite) -> dict[str, str]:
        """The write as ``read_back`` shows it: rendered as the ODS keeps it, then read back."""
        if write.kind is WriteKind.TASK:
            return _statement_fields(self.statement(write))
        return _indicator_columns(write.kind, self.indicator(write))

    def intervention_code(self, write: DesiredWrite) -> str:
        """The task's own intervention: ``PREFIX + TASK_TYPE`` (clipped) ``-`` the sync key's start."""
        tag = "-" + write.sync_key[:KEY_DIGITS_IN_CODE]
        task_type = str(write.fields.get("task_type", "task")).upper()
        named = self.field_map.task.intervention_code_prefix + task_type
        return named[: 60 - len(tag)] + tag

    # -- reading back --------------------------------------------------------------------------

    def read_back(self) -> Iterator[RemoteRow]:
        for page in self._all_pages():
            for rows in page.records.values():
                yield from rows

    def read_back_pages(self, cursor: str | None) -> Iterator[ReadBackPage]:
        """Our rows changed after the cursor's change version (None: all of them).

        The newest change version is taken first, so a change made mid-read lands in the next
        window. Flags and notes live in studentEducationOrganizationAssociations, read whole when
        changed; a task is its studentInterventionAssociation with the latest of its
        studentInterventionAttendanceEvents, so a changed or deleted event re-reads its task.
        ``/deletes`` gives the records gone (Ed-Fi "Changed Record Queries": ``minChangeVersion``,
        ``maxChangeVersion``, ``/{resource}/deletes``; ODS/API 7.3 DeletesController.cs).
        """
        read_at = datetime.now(UTC)
        newest = self.client.available_change_versions().max_version
        since = Cursor.loads(cursor)
        if since is None:
            yield from self._all_pages()
            yield ReadBackPage(cursor=Cursor(newest, read_at).dumps(), end=True)
            return
        done = int(since.position)
        if done < newest:
            yield from self._changed_pages(ChangeWindow(done + 1, newest))
        yield ReadBackPage(cursor=Cursor(max(newest, done), read_at).dumps(), end=True)

    def _org(self) -> dict[str, str]:
        return {"educationOrganizationId": str(self.org_id)}

    def _all_pages(self) -> Iterator[ReadBackPage]:
        for page in self.client.pages(SEOA, self._org()):
            yield ReadBackPage(records={f"seoa:{a['id']}": list(self._indicator_rows(a)) for a in page})
        done = self._done_events(self.client.pages(SIAE, self._org()))
        for page in self.client.pages(SIA, self._org()):
            yield self._task_page(page, done)

    def _changed_pages(self, window: ChangeWindow) -> Iterator[ReadBackPage]:
        for page in self.client.pages(SEOA, self._org(), window=window):
            yield ReadBackPage(records={f"seoa:{a['id']}": list(self._indicator_rows(a)) for a in page})
        for tombstones in self.client.deletes(SEOA, window):
            yield ReadBackPage(deleted=[f"seoa:{entry['id']}" for entry in tombstones])
        changed: set[tuple[str, str]] = set()
        for page in self.client.pages(SIA, self._org(), window=window):
            changed.update(_pair(a) for a in page)
        for page in self.client.pages(SIAE, self._org(), window=window):
            changed.update(_pair(event) for event in page)
        for tombstones in self.client.deletes(SIAE, window):
            changed.update(_pair_of_key(entry.get("keyValues") or {}) for entry in tombstones)
        prefix = self.field_map.task.intervention_code_prefix
        ours = sorted(pair for pair in changed if pair[0].startswith(prefix))
        if len(ours) > TASK_LOOKUPS:
            done = self._done_events(self.client.pages(SIAE, self._org()))
            for page in self.client.pages(SIA, self._org()):
                yield self._task_page(page, done)
        else:
            for code, student in ours:
                key = {**self._org(), "interventionIdentificationCode": code, "studentUniqueId": student}
                done = self._done_events([self.client.find(SIAE, key)])
                yield self._task_page(self.client.find(SIA, key), done)
        for tombstones in self.client.deletes(SIA, window):
            yield ReadBackPage(deleted=[f"sia:{entry['id']}" for entry in tombstones])

    def _task_page(
        self, associations: Iterable[Mapping[str, Any]], done: Mapping[tuple[str, str], Mapping[str, Any]]
    ) -> ReadBackPage:
        prefix = self.field_map.task.intervention_code_prefix
        page = ReadBackPage()
        for association in associations:
            code = _pair(association)[0]
            if code.startswith(prefix):
                page.records[f"sia:{association['id']}"] = [self._task_row(association, code, done)]
        return page

    def _indicator_rows(self, association: Mapping[str, Any]) -> Iterator[RemoteRow]:
        student = str(association.get("studentReference", {}).get("studentUniqueId", ""))
        for indicator in association.get("studentIndicators") or ():
            name = str(indicator.get("indicatorName", ""))
            for kind in (WriteKind.FLAG, WriteKind.NOTE):
                if name.startswith(self._prefix(kind)):
                    yield RemoteRow(
                        kind=kind,
                        remote_id=f"{association['id']}/{name}",
                        sync_key=name.removeprefix(self._prefix(kind)),
                        sis_ref=student,
                        columns=_indicator_columns(kind, indicator),
                    )

    @staticmethod
    def _done_events(
        pages: Iterable[Iterable[Mapping[str, Any]]],
    ) -> dict[tuple[str, str], Mapping[str, Any]]:
        """The latest intervention attendance event per (intervention code, student)."""
        latest: dict[tuple[str, str], Mapping[str, Any]] = {}
        for page in pages:
            for event in page:
                pair = _pair(event)
                known = latest.get(pair)
                if known is None or str(event.get("eventDate", "")) > str(known.get("eventDate", "")):
                    latest[pair] = event
        return latest

    def _task_row(
        self, association: Mapping[str, Any], code: str, done: Mapping[tuple[str, str], Mapping[str, Any]]
    ) -> RemoteRow:
        student = str(association.get("studentReference", {}).get("studentUniqueId", ""))
        statement = str(association.get("diagnosticStatement") or "")
        found = _KEY_IN_STATEMENT.match(statement)
        event = done.get((code, student))
        outcome = _outcome(event) if event is not None else ""
        columns = {
            **_statement_fields(statement),
            "status": "open" if event is None or outcome in KEEPS_OPEN else "done",
        }
        if event is not None:
            columns["completed_date"] = str(event.get("eventDate", ""))
            columns["outcome"] = outcome
        return RemoteRow(
            WriteKind.TASK, str(association["id"]), found.group(1) if found else None, student, columns
        )

    # -- writing -------------------------------------------------------------------------------

    def create(self, write: DesiredWrite, student: str) -> str:
        if write.kind is WriteKind.TASK:
            code = self._ensure_intervention(write)
            body = {
                "interventionReference": {
                    "educationOrganizationId": self.org_id,
                    "interventionIdentificationCode": code,
                },
                "studentReference": {"studentUniqueId": student},
                "diagnosticStatement": self.statement(write),
            }
            return self.client.post(SIA, body).id
        indicator = self.indicator(write)
        found = self.client.find(
            SEOA, {"educationOrganizationId": str(self.org_id), "studentUniqueId": student}
        )
        if not found:
            body = {
                "educationOrganizationReference": {"educationOrganizationId": self.org_id},
                "studentReference": {"studentUniqueId": student},
                "studentIndicators": [indicator],
            }
            association_id = self.client.post(SEOA, body).id
        else:
            association_id = str(found[0]["id"])
            self._merge(association_id, indicator["indicatorName"], lambda _current: indicator)
        return f"{association_id}/{indicator['indicatorName']}"

    def update(self, remote: RemoteRow, write: DesiredWrite) -> None:
        if write.kind is WriteKind.TASK:
            self._update_task(remote.remote_id, write)
            return
        association_id, name = remote.remote_id.split("/", 1)
        self._merge(association_id, name, lambda current: self.indicator(write, _officer_part(current)))

    def delete(self, remote: RemoteRow) -> None:
        if remote.kind is WriteKind.TASK:
            current = self.client.get(SIA, remote.remote_id)
            if current is not None:
                self.client.delete(SIA, remote.remote_id, current[1])
                self._delete_own_intervention(current[0], remote.sync_key)
            return
        association_id, name = remote.remote_id.split("/", 1)
        self._merge(association_id, name, lambda _current: None)

    def _update_task(self, record_id: str, write: DesiredWrite) -> None:
        for _ in range(MERGE_ATTEMPTS):
            current = self.client.get(SIA, record_id)
            if current is None:
                return
            body, etag = current
            try:
                self.client.put(SIA, record_id, {**body, "diagnosticStatement": self.statement(write)}, etag)
                return
            except StaleEtagError:
                continue
        raise StaleEtagError(
            f"{self.client.name}: a studentInterventionAssociation kept changing while we wrote it"
        )

    def _merge(self, association_id: str, name: str, replace: Replacement) -> None:
        """Swap our one indicator (``replace(ours) -> new, or None to drop it``) into a fresh read."""
        for _ in range(MERGE_ATTEMPTS):
            current = self.client.get(SEOA, association_id)
            if current is None:
                return
            body, etag = current
            indicators = list(body.get("studentIndicators") or ())
            ours = next((item for item in indicators if item.get("indicatorName") == name), None)
            others = [item for item in indicators if item.get("indicatorName") != name]
            new = replace(ours)
            body["studentIndicators"] = others if new is None else [*others, new]
            try:
                self.client.put(SEOA, association_id, body, etag)
                return
            except StaleEtagError:
                continue
        raise StaleEtagError(
            f"{self.client.name}: a studentEducationOrganizationAssociation kept changing while we wrote it"
        )

    def _ensure_intervention(self, write: DesiredWrite) -> str:
        code = self.intervention_code(write)
        task_map = self.field_map.task
        self.client.post(
            INTERVENTIONS,
            {
                "interventionIdentificationCode": code,
                "educationOrganizationReference": {"educationOrganizationId": self.org_id},
                "deliveryMethodDescriptor": task_map.delivery_method_descriptor,
                "interventionClassDescriptor": task_map.intervention_class_descriptor,
                "beginDate": self.begin_date,
            },
        )
        return code

    def _delete_own_intervention(self, association: Mapping[str, Any], sync_key: str | None) -> None:
        """Delete the task's own intervention after its association; one shared by a task type (as
        written before each task had its own) stays, and so does one the officer's attendance events
        still refer to (the ODS refuses with 409: their record is not ours to remove)."""
        code = str(association.get("interventionReference", {}).get("interventionIdentificationCode", ""))
        if not sync_key or not code.endswith("-" + sync_key[:KEY_DIGITS_IN_CODE]):
            return
        params = {"educationOrganizationId": str(self.org_id), "interventionIdentificationCode": code}
        for intervention in self.client.find(INTERVENTIONS, params):
            try:
                self.client.delete(INTERVENTIONS, str(intervention["id"]))
            except HttpStatusError as refused:
                if refused.status != 409:
                    raise


def _pair(record: Mapping[str, Any]) -> tuple[str, str]:
    """(intervention code, student) of an association or one of its attendance events."""
    code = str(record.get("interventionReference", {}).get("interventionIdentificationCode", ""))
    return code, str(record.get("studentReference", {}).get("studentUniqueId", ""))


def _pair_of_key(key_values: Mapping[str, Any]) -> tuple[str, str]:
    """(intervention code, student) of a deleted attendance event, from its tombstone's natural key."""
    return str(key_values.get("interventionIdentificationCode", "")), str(
        key_values.get("studentUniqueId", "")
    )


def _outcome(event: Mapping[str, Any]) -> str:
    """The outcome code of an attendance event's reason: a code, a label, or ``other``."""
    reason = " ".join(str(event.get("attendanceEventReason") or "").split()).lower()
    code = _CODE_OF_LABEL.get(reason, reason)
    return code if _OUTCOME.match(code) else "other" if code else ""


def _officer_part(indicator: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the officer owns in a flag indicator: its value (active/dismissed) and the period's end."""
    if indicator is None:
        return {}
    periods = indicator.get("periods") or [{}]
    return {"indicator": indicator.get("indicator"), "endDate": periods[0].get("endDate")}


def _designated_by(writer: str | None) -> str:
    return f"{AUTHOR} w:{writer}" if writer else AUTHOR


def _writer_in(designated_by: str) -> str:
    found = _WRITER_IN_DESIGNATED_BY.search(designated_by)
    return found.group(1) if found else ""


def _statement_fields(statement: str) -> dict[str, str]:
    """A task's statement in canonical fields: ``[truancy-sync KEY w:WRITER] title, due date. detail``."""
    found = _KEY_IN_STATEMENT.match(statement)
    writer = (found.group(2) or "") if found else ""
    rest = statement[found.end() :] if found else statement
    task = _TASK_IN_STATEMENT.match(rest)
    if task is None:
        return {"title": rest, "writer": writer}
    parts = {"title": task["title"], "due_date": task["due_date"], "detail": task["detail"] or ""}
    return {**parts, "writer": writer}


def _indicator_columns(kind: WriteKind, indicator: Mapping[str, Any]) -> dict[str, str]:
    period = (indicator.get("periods") or [{}])[0]
    if kind is WriteKind.FLAG:
        return {
            "label": str(indicator.get("indicatorGroup") or ""),
            "status": str(indicator.get("indicator") or ""),
            "since_date": str(period.get("beginDate") or ""),
            "dismissed_date": str(period.get("endDate") or ""),
            "writer": _writer_in(str(indicator.get("designatedBy") or "")),
        }
    return {
        "note_text": str(indicator.get("indicatorGroup") or ""),
        "category": str(indicator.get("indicator") or ""),
        "note_date": str(period.get("beginDate") or ""),
        "author": str(indicator.get("designatedBy") or ""),
    }
