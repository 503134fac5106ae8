"""Reads and writes against one ODS/API: pages, change-query windows, deletes, key changes, upserts.

Reading follows the Ed-Fi client guidance: offset/limit pages (limit at most 500) with
``totalCount`` on the first request, or cursor pages (``pageToken``/``pageSize``, ``Next-Page-Token``)
where the server offers them; change queries in ``minChangeVersion``/``maxChangeVersion`` windows
stepped in chunks, so one huge delta never becomes one huge paged scan.

Snapshots: on an ODS/API host that keeps one, ``Use-Snapshot: true`` switches the whole request to the
snapshot database (Ed-Fi-ODS v7.3.2 ``SnapshotContextActionFilter.cs:38-56``,
``SnapshotOdsDatabaseConnectionStringProviderDecorator.cs:32-75``), so every read of a sync sends it:
``availableChangeVersions`` and ``/partitions`` as well as pages, deletes and key changes; a bookmark
taken live while pages come from the snapshot would skip what changed after the snapshot. A host
without one answers 404 "Snapshot not found." and from then on everything is read live. Writes never
carry the header (the host refuses them 405), and write-back reads through :meth:`EdFiClient.live`:
a merge must start from the record as it is now, not as the snapshot froze it.

Writing: POST upserts by natural key and hands back the ``id`` in ``Location``; PUT and DELETE go by
``id`` with ``If-Match``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import requests

from truancy.connector.edfi.problems import describe_problem
from truancy.connector.errors import ConfigurationError, FailureType, HttpStatusError, ProtocolError, RowError
from truancy.connector.http import HttpSession
from truancy.connector.redaction import path_template

MAX_LIMIT = 500
Paging = Literal["auto", "offset", "cursor"]
_READ_EXPECTED = (200, 404)
_WRITE_EXPECTED = (200, 201, 204, 400, 403, 404, 409, 412)
_PROBE_EXPECTED = (200, 400, 404, 405)
# DescriptorExistsAttribute.cs:34 in Ed-Fi-ODS v7.3.2: "<Name>Descriptor value '<uri>' does not exist."
_MISSING_DESCRIPTOR = re.compile(r"\b([A-Z][A-Za-z]*Descriptor) value '[^']*' does not exist")


class StaleEtagError(RowError):
    """The record changed since we read it (412): read it again, merge, and retry the write.

    Still raised after the retries, it refuses that one row for this cycle; the next cycle merges again."""

    def __init__(self, message: str) -> None:
        reason = "the record kept changing while it was written"
        super().__init__(message, reason=reason, failure=FailureType.TRANSIENT)


@dataclass(frozen=True, slots=True)
class ChangeWindow:
    """Change versions ``min_version``..``max_version``, both inclusive."""

    min_version: int
    max_version: int

    def steps(self, size: int) -> Iterator[ChangeWindow]:
        """Consecutive windows of at most ``size`` versions covering this one."""
        start = self.min_version
        while start <= self.max_version:
            end = min(self.max_version, start + size - 1)
            yield ChangeWindow(start, end)
            start = end + 1

    def params(self) -> dict[str, str]:
        return {"minChangeVersion": str(self.min_version), "maxChangeVersion": str(self.max_version)}


@dataclass(frozen=True, slots=True)
class WriteResult:
    id: str
    etag: str | None
    created: bool


class EdFiClient:
    """One ODS/API data root (``.../data/v3``) and its change-query root, over one session."""

    def __init__(
        self,
        session: HttpSession,
        change_queries_url: str,
        *,
        page_size: int = MAX_LIMIT,
        paging: Paging = "auto",
        change_window: int = 1_000_000,
        use_snapshot: bool = True,
    ) -> None:
        if not 1 <= page_size <= MAX_LIMIT:
            raise ConfigurationError(f"{session.name}.page_size must be 1..{MAX_LIMIT} (the ODS/API maximum)")
        if change_window < 1:
            raise ConfigurationError(f"{session.name}.change_window must be at least 1")
        self.session = session
        self.change_queries_url = change_queries_url.rstrip("/")
        self.page_size = page_size
        self.paging = paging
        self.change_window = change_window
        self.use_snapshot = use_snapshot
        self._cursor_offered: dict[str, bool] = {}

    @property
    def name(self) -> str:
        return self.session.name

    def live(self) -> EdFiClient:
        """The same ODS/API over the same session, read without the snapshot (for write-back)."""
        return EdFiClient(
            self.session,
            self.change_queries_url,
            page_size=self.page_size,
            paging=self.paging,
            change_window=self.change_window,
            use_snapshot=False,
        )

    # -- reading -------------------------------------------------------------------------------

    def available_change_versions(self) -> ChangeWindow:
        """The oldest and newest change versions the ODS holds (404: change queries are disabled)."""
        response = self._get(f"{self.change_queries_url}/availableChangeVersions", {})
        if response.status_code == 404:
            raise ConfigurationError(
                f"{self.name}: change queries are disabled on this ODS/API; ask the host to enable them"
            )
        body = self._json(response, "availableChangeVersions")
        try:
            return ChangeWindow(int(body["oldestChangeVersion"]), int(body["newestChangeVersion"]))
        except (KeyError, TypeError, ValueError):
            raise ProtocolError(
                f"{self.name}: availableChangeVersions lacks its two version numbers"
            ) from None

    def pages(
        self, resource: str, params: Mapping[str, str] | None = None, *, window: ChangeWindow | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """Every record of ``resource`` (optionally only those changed in ``window``), page by page.

        A change window is walked in steps of ``change_window`` versions."""
        if window is None:
            yield from self._pages(resource, dict(params or {}))
            return
        for step in window.steps(self.change_window):
            yield from self._pages(resource, {**(params or {}), **step.params()})

    def deletes(self, resource: str, window: ChangeWindow) -> Iterator[list[dict[str, Any]]]:
        """Tombstones (``id``, ``changeVersion``, ``keyValues``) of records deleted in ``window``."""
        for step in window.steps(self.change_window):
            yield from self._offset_pages(f"{resource}/deletes", step.params(), count=False)

    def key_changes(self, resource: str, window: ChangeWindow) -> Iterator[list[dict[str, Any]]]:
        """Natural-key changes (``id``, ``oldKeyValues``, ``newKeyValues``) made in ``window``."""
        for step in window.steps(self.change_window):
            yield from self._offset_pages(f"{resource}/keyChanges", step.params(), count=False)

    def find(self, resource: str, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """Records matching query parameters (natural-key lookups return zero or one)."""
        return [record for page in self._offset_pages(resource, dict(params), count=False) for record in page]

    def get(self, resource: str, record_id: str) -> tuple[dict[str, Any], str | None] | None:
        """One record by id with its ETag, or None when it no longer exists."""
        response = self._get(f"{resource}/{record_id}", {})
        if response.status_code == 404:
            return None
        body = self._json(response, resource)
        if not isinstance(body, dict):
            raise ProtocolError(f"{self.name}: GET {resource}/{{id}} did not return an object")
        return body, response.headers.get("ETag") or _str_or_none(body.get("_etag"))

    def _pages(self, resource: str, params: dict[str, str]) -> Iterator[list[dict[str, Any]]]:
        if self._cursor(resource):
            yield from self._cursor_pages(resource, params)
        else:
            yield from self._offset_pages(resource, params, count=True)

    def _cursor(self, resource: str) -> bool:
        """Whether to page by cursor: configured, or probed once per resource with ``/partitions``."""
        if self.paging != "auto":
            return self.paging == "cursor"
        if resource not in self._cursor_offered:
            response = self._get(f"{resource}/partitions", {"number": "1"}, expected=_PROBE_EXPECTED)
            self._cursor_offered[resource] = response.status_code == 200
        return self._cursor_offered[resource]

    def _cursor_pages(self, resource: str, params: dict[str, str]) -> Iterator[list[dict[str, Any]]]:
        """Follow ``Next-Page-Token`` until the server stops sending it (an empty page is not the end)."""
        response = self._get(f"{resource}/partitions", {**params, "number": "1"}, expected=(200,))
        tokens = self._json(response, f"{resource}/partitions").get("pageTokens")
        if not isinstance(tokens, list):
            raise ProtocolError(f"{self.name}: {resource}/partitions lacks pageTokens")
        token: str | None = str(tokens[0]) if tokens else None
        while token is not None:
            response = self._get(resource, {**params, "pageToken": token, "pageSize": str(self.page_size)})
            records = self._records(response, resource)
            token = response.headers.get("Next-Page-Token") or None
            if records:
                yield records

    def _offset_pages(
        self, resource: str, params: dict[str, str], *, count: bool
    ) -> Iterator[list[dict[str, Any]]]:
        offset, total = 0, None
        while total is None or offset < total:
            query = {**params, "offset": str(offset), "limit": str(self.page_size)}
            if count and offset == 0:
                query["totalCount"] = "true"
            response = self._get(resource, query)
            records = self._records(response, resource)
            if offset == 0 and count:
                total = _int_or_none(response.headers.get("Total-Count"))
            if records:
                yield records
            if len(records) < self.page_size:
                return
            offset += len(records)

    def _get(
        self, path: str, params: Mapping[str, str], expected: tuple[int, ...] = _READ_EXPECTED
    ) -> requests.Response:
        """A GET under the snapshot header while the host offers snapshots.

        A host without snapshots answers 404 "Snapshot not found." (``urn:ed-fi:api:not-found``);
        from then on we read live data."""
        if self.use_snapshot:
            response = self.session.get(
                path, params=params, headers={"Use-Snapshot": "true"}, expected=(*expected, 404)
            )
            if response.status_code != 404 or not describe_problem(response).is_a("snapshot not found"):
                if response.status_code not in expected:
                    summary = describe_problem(response).summary
                    raise HttpStatusError(
                        f"{self.name}: GET {path_template(response.url)} failed (404 {summary})",
                        status=404,
                        summary=summary,
                    )
                return response
            self.use_snapshot = False
        return self.session.get(path, params=params, expected=expected)

    def _records(self, response: requests.Response, resource: str) -> list[dict[str, Any]]:
        if response.status_code == 404:
            raise ConfigurationError(
                f"{self.name}: {resource} is not published by this ODS/API (404); check base_url, "
                f"school_year and the data standard version"
            )
        body = self._json(response, resource)
        if not isinstance(body, list):
            raise ProtocolError(f"{self.name}: GET {resource} did not return a JSON array")
        return body

    def _json(self, response: requests.Response, what: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise ProtocolError(f"{self.name}: {what} answered with a body that is not JSON") from None

    # -- writing -------------------------------------------------------------------------------

    def post(self, resource: str, body: Mapping[str, Any]) -> WriteResult:
        """Upsert by natural key; the server's ``id`` comes back in ``Location``."""
        response = self.session.post(resource, json=dict(body), expected=_WRITE_EXPECTED)
        self._raise_for_write(response, "POST", resource)
        location = response.headers.get("Location", "")
        record_id = location.rstrip("/").rsplit("/", 1)[-1] if location else ""
        if not record_id:
            raise ProtocolError(f"{self.name}: POST {resource} answered without a Location header")
        return WriteResult(record_id, response.headers.get("ETag"), created=response.status_code == 201)

    def put(self, resource: str, record_id: str, body: Mapping[str, Any], etag: str | None) -> str | None:
        """Replace a record by id; raises ``StaleEtagError`` when it changed since ``etag``."""
        headers = {"If-Match": etag} if etag else None
        payload = {
            key: value for key, value in body.items() if key not in ("id", "_etag", "_lastModifiedDate")
        }
        response = self.session.put(
            f"{resource}/{record_id}", json=payload, headers=headers, expected=_WRITE_EXPECTED
        )
        self._raise_for_write(response, "PUT", resource)
        return response.headers.get("ETag")

    def delete(self, resource: str, record_id: str, etag: str | None = None) -> bool:
        """Delete by id (the ODS/API has no delete by natural key); False when it was already gone."""
        headers = {"If-Match": etag} if etag else None
        response = self.session.delete(f"{resource}/{record_id}", headers=headers, expected=_WRITE_EXPECTED)
        if response.status_code == 404:
            return False
        self._raise_for_write(response, "DELETE", resource)
        return True

    def _raise_for_write(self, response: requests.Response, method: str, resource: str) -> None:
        status = response.status_code
        if status in (200, 201, 204):
            return
        problem = describe_problem(response)
        endpoint = f"{method} {resource}"
        if status == 412:
            raise StaleEtagError(f"{self.name}: {endpoint}: the record changed since it was read")
        if status == 403 and problem.is_a("relationship"):
            # One student outside the key's schools refuses that student's rows, not every write.
            raise RowError(
                f"{self.name}: {endpoint} refused: the API key has no relationship with the student's "
                f"school or district ({problem.summary}); associate the key's client with the "
                f"district's LEA or schools in the ODS/API admin, and check the student is enrolled there",
                reason="the API key has no relationship with the student's school or district",
                failure=FailureType.CONFIGURATION,
            )
        if status == 403:
            raise ConfigurationError(
                f"{self.name}: {endpoint} refused ({problem.summary or 'forbidden'}): the key's claim set "
                f"does not allow writing {resource}; ask the ODS/API host to grant it"
            )
        missing = sorted(set(_MISSING_DESCRIPTOR.findall(problem.raw_text)))
        if status == 400 and missing:
            raise HttpStatusError(
                f"{self.name}: {endpoint} failed (400): the ODS/API does not define the "
                f"{', '.join(missing)} value it was given; add the value to the ODS/API's descriptors or "
                f"change the field map to one it defines ({problem.summary})",
                status=status,
                summary=problem.summary,
            )
        if status == 409 and problem.is_a("dependent", "dependency"):
            advice = "other records still refer to it; remove those first"
        elif status in (400, 409) and problem.is_a("unresolved", "could not be resolved"):
            advice = "a record it refers to (intervention, student or education organization) does not exist"
        elif status == 409:
            advice = "it would leave the ODS in an invalid state (e.g. a duplicate natural key)"
        else:
            advice = "the ODS/API rejected the data"
        summary = problem.summary or str(status)
        raise HttpStatusError(
            f"{self.name}: {endpoint} failed ({status}): {advice} ({summary})", status=status, summary=summary
        )


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None
