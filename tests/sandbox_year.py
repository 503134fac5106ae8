"""The sandbox day the tests pin, so their counts do not move with the calendar."""

from __future__ import annotations

from datetime import date

PINNED_AS_OF = date(2026, 6, 5)
"""The day after 2025-26's last school day: the whole year is recorded, withdrawals included."""
