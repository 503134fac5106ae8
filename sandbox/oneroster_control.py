"""Control routes for OneRoster tests: provider quirks, roster changes and CSV package exports.

Mounted under ``/_sandbox`` (loopback only, like every control route).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from truancy.sandbox.csv_export import CSV_VERSIONS, export_package
from truancy.sandbox.quirks import QuirkSettings
from truancy.sandbox.roster_changes import end_enrollment, reenroll, touch, withdraw

if TYPE_CHECKING:
    from truancy.sandbox.oneroster_api import RosterCollections


def oneroster_control_router(prefix: str, roster: RosterCollections, quirks: QuirkSettings) -> APIRouter:
    router = APIRouter(prefix=prefix)

    @router.get("/quirks")
    def get_quirks() -> JSONResponse:
        return JSONResponse(quirks.current.as_json())

    @router.post("/quirks")
    async def set_quirks(request: Request) -> JSONResponse:
        body: Any = await request.json()
        if not isinstance(body, dict):
            return JSONResponse({"message": "expected a JSON object of quirk names to values"}, 400)
        try:
            current = quirks.update(body)
        except ValueError as error:
            return JSONResponse({"message": str(error)}, 400)
        return JSONResponse(current.as_json())

    @router.delete("/quirks")
    def reset_quirks() -> Response:
        quirks.reset()
        return Response(status_code=204)

    @router.post("/oneroster/touch")
    async def touch_records(request: Request) -> JSONResponse:
        body: Any = await request.json()
        try:
            touched = touch(roster, str(body["collection"]), int(body.get("every", 1)))
        except (KeyError, TypeError, ValueError):
            return JSONResponse({"message": "expected a served collection and every >= 1"}, 400)
        return JSONResponse({"touched": touched})

    @router.post("/oneroster/withdraw")
    async def withdraw_user(request: Request) -> JSONResponse:
        body: Any = await request.json()
        try:
            changed = withdraw(
                roster,
                str(body["sourcedId"]),
                hard_delete=quirks.current.hard_deletes,
                status=str(body.get("status", "tobedeleted")),
            )
        except KeyError:
            return JSONResponse({"message": "expected the sourcedId of a served user"}, 404)
        except (TypeError, ValueError) as error:
            return JSONResponse({"message": str(error)}, 400)
        return JSONResponse({"changed": changed, "hard_delete": quirks.current.hard_deletes})

    @router.post("/oneroster/enrollment/end")
    async def end_user_enrollment(request: Request) -> JSONResponse:
        """``{"sourcedId": user, "endDate": day}``: a withdrawal or transfer out on that day."""
        body: Any = await request.json()
        try:
            changed = end_enrollment(roster, str(body["sourcedId"]), date.fromisoformat(body["endDate"]))
        except KeyError:
            return JSONResponse({"message": "expected the sourcedId of a served user and an endDate"}, 404)
        except (TypeError, ValueError) as error:
            return JSONResponse({"message": f"cannot end the enrollment: {error}"}, 400)
        return JSONResponse({"changed": changed})

    @router.post("/oneroster/enrollment/reenter")
    async def reenter_user(request: Request) -> JSONResponse:
        """``{"sourcedId": user, "beginDate": day, "endDate": day}``: the student enrolls again."""
        body: Any = await request.json()
        try:
            added = reenroll(
                roster,
                str(body["sourcedId"]),
                date.fromisoformat(body["beginDate"]),
                date.fromisoformat(body["endDate"]),
            )
        except KeyError:
            return JSONResponse({"message": "expected the sourcedId of a served user and the dates"}, 404)
        except (TypeError, ValueError) as error:
            return JSONResponse({"message": f"cannot re-enroll: {error}"}, 400)
        return JSONResponse({"added": added}, 201)

    @router.get("/oneroster/package")
    def package(version: str = "1.2", since: str | None = None) -> Response:
        """The district as a OneRoster CSV zip: bulk, or delta since an ISO 8601 instant."""
        if version not in CSV_VERSIONS:
            return JSONResponse({"message": f"version must be one of {', '.join(CSV_VERSIONS)}"}, 400)
        try:
            moment = None if since is None else datetime.fromisoformat(since.replace("Z", "+00:00"))
        except ValueError:
            return JSONResponse({"message": "since must be an ISO 8601 date-time"}, 400)
        return Response(export_package(roster.records, version, since=moment), media_type="application/zip")

    return router
