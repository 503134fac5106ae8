"""The sandbox's staff accounts: who is signed in to the SIS's pages.

PowerSchool knows the signed-in user from the browser session: pages read their name through
``~[x:username]`` ("Last, First") and every table write records them in WHOCREATED/WHOMODIFIED.
The sandbox does the same: a page visit without a session signs in the default attendance officer
(so ``make demo`` needs no password), and ``/admin/pw.html`` signs in any account with the demo
password, as a district's second officer would.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from html import escape

SIGN_IN_PAGE = "/admin/pw.html"
STAFF_PASSWORD = "sandbox"  # noqa: S105 - the sandbox's well-known demo password
_USER_SCOPE = "user:"


@dataclass(frozen=True, slots=True)
class StaffUser:
    username: str
    last_name: str
    first_name: str
    dcid: int
    """USERS.DCID, which a page reads as ``~[x:users_dcid]`` (to look up the user's LOGINID)."""

    @property
    def lastfirst(self) -> str:
        return f"{self.last_name}, {self.first_name}"


STAFF: tuple[StaffUser, ...] = (
    StaffUser("mortega", "Ortega", "Marisol", 101),
    StaffUser("dkim", "Kim", "Daniel", 102),
    StaffUser("aokafor", "Okafor", "Adaeze", 103),
)
DEFAULT_USER = STAFF[0]


def staff_user(username: str) -> StaffUser | None:
    return next((user for user in STAFF if user.username == username), None)


def signed_in_as(password: str, username: str) -> StaffUser | None:
    """The account for a sign-in form, or None for an unknown user or a wrong password."""
    user = staff_user(username.strip().lower())
    if user is None or not hmac.compare_digest(password.encode(), STAFF_PASSWORD.encode()):
        return None
    return user


def session_scope(user: StaffUser) -> frozenset[str]:
    """What a browser session token carries: the user it was issued to."""
    return frozenset({_USER_SCOPE + user.username})


def user_of(scopes: frozenset[str]) -> StaffUser:
    """The user a session was issued to (an unmarked session is the default officer's)."""
    for scope in scopes:
        if scope.startswith(_USER_SCOPE):
            found = staff_user(scope.removeprefix(_USER_SCOPE))
            if found is not None:
                return found
    return DEFAULT_USER


def sign_in_page(message: str = "") -> str:
    notice = f'<p role="alert">{escape(message)}</p>' if message else ""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head><body>'
        "<h1>PowerSchool sandbox: staff sign in</h1>"
        f"{notice}"
        f'<form method="post" action="{SIGN_IN_PAGE}">'
        '<label>Username <input name="username" autocomplete="username" required></label> '
        '<label>Password <input name="password" type="password" autocomplete="current-password" required>'
        '</label> <button type="submit">Sign in</button></form>'
        f"<p>Accounts: {escape(', '.join(user.username for user in STAFF))}; password {STAFF_PASSWORD}.</p>"
        "</body></html>"
    )
