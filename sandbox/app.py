"""The sandbox SIS as one FastAPI app: OneRoster, PowerSchool, student pages and test controls."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from truancy.sandbox.auth import TokenStore
from truancy.sandbox.control import Fault, FaultPlan, RequestStats
from truancy.sandbox.edfi import edfi_router
from truancy.sandbox.extension_tables import ExtensionTables
from truancy.sandbox.fragments import STATIC_TYPES, PageFragments
from truancy.sandbox.model import AttendanceError, District
from truancy.sandbox.oauth1 import OAuth1Verifier
from truancy.sandbox.oneroster_api import RosterCollections, oneroster_router
from truancy.sandbox.oneroster_control import oneroster_control_router
from truancy.sandbox.oneroster_v1p1 import V1P1_PATH, oneroster_v1p1_router
from truancy.sandbox.pacing import Pacing, PacingError, PacingSettings
from truancy.sandbox.pages import (
    START_PAGE,
    STUDENT_PAGE,
    custom_page,
    index_page,
    start_page,
    student_page,
)
from truancy.sandbox.powerschool_api import SESSION_COOKIE, powerschool_router
from truancy.sandbox.quirks import QuirkSettings
from truancy.sandbox.responses import imsx_error, powerschool_error
from truancy.sandbox.roster import BASE_PATH, build_roster
from truancy.sandbox.staff import (
    DEFAULT_USER,
    SIGN_IN_PAGE,
    StaffUser,
    session_scope,
    sign_in_page,
    signed_in_as,
    user_of,
)

CONTROL_PREFIX = "/_sandbox"
# The sandbox's well-known demo credentials; it holds only generated data.
DEMO_CLIENT_ID = "sandbox"
DEMO_CLIENT_SECRET = "sandbox"  # noqa: S105 - the sandbox's published demo credential
_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


class InjectedDropError(Exception):
    """Raised after the response has started, so the server aborts the connection with no body."""


class _DroppingResponse(Response):
    """Headers promising a body, then an abort: to the client, a connection that broke mid-response."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"64")]})
        raise InjectedDropError("injected fault: connection dropped")


def _fault_response(path: str, fault: Fault) -> Response:
    if fault.drop:
        return _DroppingResponse()
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
    description = f"injected fault: HTTP {fault.status}"
    if path.startswith((BASE_PATH, V1P1_PATH, "/oauth/token")):
        code_minor = "server_busy" if fault.status == 429 else "internal_server_error"
        return imsx_error(fault.status, code_minor, description, headers)
    return powerschool_error(fault.status, description, headers)


def _too_many(path: str, retry_after: int) -> Response:
    """A 429 in the protocol's own error format, asking the client to wait ``retry_after`` seconds."""
    return _fault_response(path, Fault(path, 429, 1, retry_after))


class _FrontDoor:
    """What every request meets first: the control API answers loopback only; any other request is
    counted, may meet an injected fault, and is answered at the SIS's pace (plain ASGI, see
    :meth:`Pacing.serve`)."""

    def __init__(self, app: ASGIApp, *, faults: FaultPlan, stats: RequestStats, pacing: Pacing) -> None:
        self.app, self.faults, self.stats, self.pacing = app, faults, stats, pacing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(CONTROL_PREFIX):
            client = scope.get("client")
            if client is None or client[0] not in _LOOPBACK:
                refusal = JSONResponse({"message": "the control API answers loopback clients only"}, 403)
                await refusal(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        self.stats.record(path)

        async def answer(scope: Scope, receive: Receive, send: Send) -> None:
            fault = self.faults.take(path, scope["method"])
            respond = self.app if fault is None else _fault_response(path, fault)
            await respond(scope, receive, send)

        await self.pacing.serve(answer, scope, receive, send, lambda wait: _too_many(path, wait))


def _pacing_routes(app: FastAPI, pacing: Pacing) -> None:
    @app.get(CONTROL_PREFIX + "/pacing")
    def get_pacing() -> JSONResponse:
        return JSONResponse(pacing.snapshot())

    @app.put(CONTROL_PREFIX + "/pacing")
    async def set_pacing(request: Request) -> JSONResponse:
        body: Any = await request.json()
        if not isinstance(body, dict):
            return JSONResponse({"message": "expected latency_ms, max_concurrent and retry_after"}, 400)
        try:
            pacing.configure(PacingSettings.from_mapping(body))
        except PacingError as exc:
            return JSONResponse({"message": f"pacing: {exc}"}, 400)
        pacing.reset_counts()
        return JSONResponse(pacing.snapshot())


def _control_routes(
    app: FastAPI, district: District, faults: FaultPlan, stats: RequestStats, *tokens: TokenStore
) -> None:
    @app.post(CONTROL_PREFIX + "/faults")
    async def add_fault(request: Request) -> JSONResponse:
        body: dict[str, Any] = await request.json()
        try:
            fault = Fault(
                path_prefix=str(body["path_prefix"]),
                status=int(body.get("status", 500)),
                remaining=int(body.get("count", 1)),
                retry_after=None if body.get("retry_after") is None else int(body["retry_after"]),
                drop=bool(body.get("drop", False)),
                method=str(body["method"]).upper() if body.get("method") else None,
            )
        except (KeyError, TypeError, ValueError):
            return JSONResponse(
                {"message": "expected path_prefix, status, count and optional retry_after, drop or method"},
                400,
            )
        faults.add(fault)
        return JSONResponse({"status": "queued"})

    @app.delete(CONTROL_PREFIX + "/faults")
    def clear_faults() -> Response:
        faults.clear()
        return Response(status_code=204)

    @app.post(CONTROL_PREFIX + "/tokens/expire")
    def expire_tokens() -> Response:
        for store in tokens:
            store.expire_all()
        return Response(status_code=204)

    @app.post(CONTROL_PREFIX + "/attendance/correct")
    async def correct(request: Request) -> Response:
        body: dict[str, Any] = await request.json()
        try:
            row = district.apply_correction(int(body["dcid"]), str(body["att_code"]))
        except KeyError:
            return JSONResponse({"message": "no attendance row with that dcid"}, 404)
        except (AttendanceError, TypeError, ValueError) as error:
            return JSONResponse({"message": str(error)}, 400)
        return JSONResponse({"dcid": row.dcid, "whenmodified": row.whenmodified.isoformat()})

    @app.post(CONTROL_PREFIX + "/attendance")
    async def add(request: Request) -> Response:
        body: dict[str, Any] = await request.json()
        try:
            minutes = None if body.get("minutes") in (None, "") else int(body["minutes"])
            row = district.add_attendance(
                int(body["studentsdcid"]),
                date.fromisoformat(body["att_date"]),
                str(body["att_code"]),
                minutes,
            )
        except (AttendanceError, KeyError, TypeError, ValueError) as error:
            return JSONResponse({"message": f"cannot add attendance: {error}"}, 400)
        return JSONResponse({"dcid": row.dcid, "whenmodified": row.whenmodified.isoformat()}, 201)

    @app.get(CONTROL_PREFIX + "/attendance/{studentsdcid}")
    def attendance_of(studentsdcid: int) -> Response:
        """One student's daily rows (dcid, date, code): what a test or benchmark corrects."""
        rows = district.attendance_of(studentsdcid)
        return JSONResponse(
            [{"dcid": r.dcid, "att_date": r.att_date.isoformat(), "att_code": r.att_code} for r in rows]
        )

    @app.delete(CONTROL_PREFIX + "/attendance/{dcid}")
    def delete(dcid: int) -> Response:
        try:
            district.delete_attendance(dcid)
        except KeyError:
            return JSONResponse({"message": "no attendance row with that dcid"}, 404)
        return Response(status_code=204)

    @app.get(CONTROL_PREFIX + "/stats")
    def get_stats() -> JSONResponse:
        counts = stats.snapshot()
        return JSONResponse({"requests": counts, "total": sum(counts.values())})

    @app.delete(CONTROL_PREFIX + "/stats")
    def reset_stats() -> Response:
        stats.reset()
        return Response(status_code=204)


def _session_user(request: Request, sessions: TokenStore) -> StaffUser | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    grant = sessions.grant_for(f"Bearer {cookie}") if cookie else None
    return user_of(grant.scopes) if grant is not None else None


def _signed_in(response: HTMLResponse, request: Request, sessions: TokenStore) -> HTMLResponse:
    """Pages are served to a signed-in officer: a browser session the plugin's scripts call the API with.
    A visit without one signs in the default attendance officer."""
    if _session_user(request, sessions) is None:
        _set_session(response, sessions, DEFAULT_USER)
    return response


def _set_session(response: Response, sessions: TokenStore, user: StaffUser) -> None:
    token = sessions.issue(session_scope(user))
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", path="/")


def create_app(
    district: District,
    *,
    client_id: str = DEMO_CLIENT_ID,
    client_secret: str = DEMO_CLIENT_SECRET,
    fragments_dir: Path | None = None,
    pacing: PacingSettings | None = None,
) -> FastAPI:
    """An app serving ``district``; each app has its own tokens, tables, faults and counters.

    ``pacing``: the delay and concurrency cap of a remote SIS (:mod:`truancy.sandbox.pacing`),
    changeable later through ``/_sandbox/pacing``.

    ``fragments_dir`` is a PowerSchool plugin's ``web_root``: its page fragments are inserted into
    the student and start pages, and its scripts served, as PowerSchool does once it is installed.
    """
    app = FastAPI(title="truancy-sync sandbox SIS", docs_url=None, redoc_url=None, openapi_url=None)
    roster_tokens, powerschool_tokens, sessions = TokenStore(), TokenStore(), TokenStore()
    fragments = PageFragments(fragments_dir) if fragments_dir is not None else None
    roster = RosterCollections(build_roster(district))
    quirks = QuirkSettings()
    tables = ExtensionTables(district.has_student)
    faults, stats, paced = FaultPlan(), RequestStats(), Pacing(pacing)

    app.add_middleware(_FrontDoor, faults=faults, stats=stats, pacing=paced)

    app.include_router(oneroster_router(roster, roster_tokens, client_id, client_secret, quirks))
    verifier = OAuth1Verifier(client_id, client_secret)
    app.include_router(oneroster_v1p1_router(roster, roster_tokens, verifier, quirks))
    app.include_router(oneroster_control_router(CONTROL_PREFIX, roster, quirks))
    app.include_router(
        powerschool_router(district, tables, powerschool_tokens, client_id, client_secret, sessions)
    )
    app.include_router(edfi_router(district, client_id, client_secret))
    _control_routes(app, district, faults, stats, roster_tokens, powerschool_tokens, sessions)
    _pacing_routes(app, paced)

    @app.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        return HTMLResponse(index_page(district, tables))

    @app.get(STUDENT_PAGE, response_class=HTMLResponse)
    def student(request: Request, frn: str = "") -> HTMLResponse:
        dcid = frn.removeprefix("001")
        if not frn.startswith("001") or not dcid.isdigit() or not district.has_student(int(dcid)):
            return HTMLResponse("<!DOCTYPE html><title>Not found</title><p>No such student.</p>", 404)
        user = _session_user(request, sessions) or DEFAULT_USER
        page = student_page(district, tables, district.student(int(dcid)), fragments, user)
        return _signed_in(HTMLResponse(page), request, sessions)

    @app.get(START_PAGE, response_class=HTMLResponse)
    def start(request: Request) -> HTMLResponse:
        user = _session_user(request, sessions) or DEFAULT_USER
        return _signed_in(HTMLResponse(start_page(district, fragments, tables, user)), request, sessions)

    @app.get(SIGN_IN_PAGE, response_class=HTMLResponse)
    def sign_in_form() -> HTMLResponse:
        return HTMLResponse(sign_in_page())

    @app.post(SIGN_IN_PAGE)
    async def sign_in(request: Request) -> Response:
        form = {
            key: values[0]
            for key, values in parse_qs((await request.body()).decode("utf-8", "replace")).items()
        }
        user = signed_in_as(form.get("password", ""), form.get("username", ""))
        if user is None:
            return HTMLResponse(sign_in_page("Unknown username or wrong password."), 401)
        response = Response(status_code=303, headers={"Location": START_PAGE})
        _set_session(response, sessions, user)
        return response

    @app.get("/admin/{folder}/{name}.html", response_class=HTMLResponse)
    def plugin_page(request: Request, folder: str, name: str) -> HTMLResponse:
        found = fragments.custom_page(f"admin/{folder}/{name}.html") if fragments is not None else None
        if found is None:
            return HTMLResponse("<!DOCTYPE html><title>Not found</title><p>No such page.</p>", 404)
        user = _session_user(request, sessions) or DEFAULT_USER
        page = custom_page(found.read_text(encoding="utf-8"), district, tables, user)
        return _signed_in(HTMLResponse(page), request, sessions)

    @app.get("/scripts/{path:path}")
    def plugin_script(path: str) -> Response:
        found = fragments.static_file(f"scripts/{path}") if fragments is not None else None
        if found is None:
            return Response("no such file", 404, media_type="text/plain")
        return FileResponse(found, media_type=STATIC_TYPES[found.suffix])

    return app
