"""What the URL says: the filters (date range, platforms, projects) and the page's focus.

A shared link carries the view; values that do not parse are dropped, and a hostile URL costs no
more than a long one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from urllib.parse import parse_qs, urlencode

MAX_FILTER_VALUES = 50
MAX_FILTER_CHARS = 400


@dataclass(frozen=True)
class Filters:
    """Date range, platforms and projects ('PLATFORM:PROJECT') chosen in the URL."""

    start: date | None = None
    end: date | None = None
    platforms: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()
    focus: str = ""  # what the page zooms in on (the Quality page's project field)

    @classmethod
    def from_query(cls, search: str | None) -> Filters:
        """Filters from a URL query string; values that do not parse are dropped."""
        # only the first fields are read, so a hostile URL costs no more than a long one
        fields = (search or "").lstrip("?").split("&")[: 4 * MAX_FILTER_VALUES]
        query = parse_qs("&".join(fields))
        start, end = _date(query.get("from")), _date(query.get("to"))
        if start and end and start > end:
            start, end = end, start
        focus = next(iter(_values(query.get("focus"))), "")
        return cls(start, end, _values(query.get("platform")), _values(query.get("project")), focus)

    def to_query(self) -> str:
        """The URL query string of these filters ('' when none is set)."""
        pairs: list[tuple[str, str]] = []
        if self.start:
            pairs.append(("from", self.start.isoformat()))
        if self.end:
            pairs.append(("to", self.end.isoformat()))
        pairs += [("platform", p) for p in self.platforms]
        pairs += [("project", p) for p in self.projects]
        if self.focus:
            pairs.append(("focus", self.focus))
        return "?" + urlencode(pairs) if pairs else ""

    def whole_weeks(self) -> Filters:
        """These filters with the date range widened to whole weeks, Monday to Sunday."""
        start = self.start - timedelta(days=self.start.weekday()) if self.start else None
        end = self.end + timedelta(days=6 - self.end.weekday()) if self.end else None
        return replace(self, start=start, end=end)

    @property
    def narrows(self) -> bool:
        """Whether a date, platform or project filter is set (the focus narrows no rows)."""
        return replace(self, focus="") != Filters()


@dataclass(frozen=True)
class FieldKey:
    """One answered field of one project: what the Quality page zooms in on."""

    platform: str
    project_id: str
    field: str

    # the separator cannot occur in platform names; the field takes whatever follows
    SEPARATOR = "\x1f"

    def to_focus(self) -> str:
        """The field as the URL's `focus` value."""
        return self.SEPARATOR.join((self.platform, self.project_id, self.field))

    @classmethod
    def from_focus(cls, focus: str | None) -> FieldKey | None:
        """The field a `focus` value names, or None when it names none."""
        parts = (focus or "").split(cls.SEPARATOR, 2)
        return cls(*parts) if len(parts) == 3 and all(parts) else None


def _date(values: list[str] | None) -> date | None:
    try:
        return date.fromisoformat(values[0][:10]) if values else None
    except ValueError:
        return None


def _values(values: list[str] | None) -> tuple[str, ...]:
    cleaned = {v for v in values or [] if 0 < len(v) <= MAX_FILTER_CHARS}
    return tuple(sorted(cleaned)[:MAX_FILTER_VALUES])
