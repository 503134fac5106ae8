"""OneRoster rosters for any SIS plugin: the ``[sis.oneroster]`` settings, the source (REST 1.1/1.2 or a
CSV package) and the roster stream (students and enrollments, with their cursor)."""

from truancy.plugins.oneroster.config import ROSTER_SCOPES, OneRosterConfig
from truancy.plugins.oneroster.roster import ROSTER_WATERMARK_OVERLAP, OneRosterRoster
from truancy.plugins.oneroster.source import RosterSource, open_roster_source

__all__ = [
    "ROSTER_SCOPES",
    "ROSTER_WATERMARK_OVERLAP",
    "OneRosterConfig",
    "OneRosterRoster",
    "RosterSource",
    "open_roster_source",
]
