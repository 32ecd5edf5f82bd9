"""A Bundle's resources and how references between them resolve.

References resolve by `fullUrl` (`urn:uuid:`, absolute URLs), relative `Type/id`, `#id` for
contained resources, and conditionally (`Practitioner?identifier=system|value`, or a reference
that carries only an `identifier`): to a resource of the Bundle with that identifier, or else to
a `Conditional` that names what the Bundle does not include. A literal reference to a resource
the Bundle does not hold is broken.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from services.intake.domain.outcome import Issue


@dataclass(eq=False)
class Entry:
    """One resource and the FHIRPath expression that names it in the request."""

    path: str
    resource: dict[str, Any]
    full_url: str | None = None
    container: Entry | None = None
    contained: dict[str, Entry] = field(default_factory=dict)

    @property
    def type(self) -> str:
        return str(self.resource.get("resourceType", ""))

    def at(self, element: str) -> str:
        return f"{self.path}.{element}"

    def identifiers(self) -> list[tuple[str | None, str]]:
        return identifiers_of(self.resource)


@dataclass(frozen=True)
class Conditional:
    """A resource named by identifier only, which the Bundle does not carry."""

    resource_type: str
    system: str | None
    value: str | None
    display: str | None = None


class BrokenReference(Exception):
    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.diagnostics)
        self.issue = issue


def as_list(value: Any) -> list[Any]:
    """The value when it is a JSON array, else an empty one (absent or malformed element)."""
    return value if isinstance(value, list) else []


def identifiers_of(resource: dict[str, Any]) -> list[tuple[str | None, str]]:
    found = []
    for ident in as_list(resource.get("identifier")):
        value = ident.get("value") if isinstance(ident, dict) else None
        if isinstance(value, str) and value:
            system = ident.get("system")
            found.append((system if isinstance(system, str) else None, value))
    return found


def _with_contained(entry: Entry) -> Entry:
    for n, item in enumerate(as_list(entry.resource.get("contained"))):
        if isinstance(item, dict) and item.get("id"):
            entry.contained[str(item["id"])] = Entry(
                f"{entry.path}.contained[{n}]", item, container=entry
            )
    return entry


class ResourceIndex:
    """Every resource of a request (Bundle entries, or one resource and what it contains)."""

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = [_with_contained(e) for e in entries]
        self._by_url: dict[str, Entry] = {}
        self._by_identifier: dict[tuple[str, str | None, str], Entry] = {}
        for entry in self.all():
            if entry.full_url:
                self._by_url.setdefault(entry.full_url, entry)
            if entry.container is None and entry.resource.get("id"):
                self._by_url.setdefault(f"{entry.type}/{entry.resource['id']}", entry)
            for system, value in entry.identifiers():
                self._by_identifier.setdefault((entry.type, system, value), entry)
                self._by_identifier.setdefault((entry.type, None, value), entry)

    def all(self) -> Iterator[Entry]:
        for entry in self.entries:
            yield entry
            yield from entry.contained.values()

    def of_type(self, *types: str) -> Iterator[Entry]:
        return (e for e in self.all() if e.type in types)

    def resolve(self, reference: Any, at: str, owner: Entry) -> Entry | Conditional | None:
        """What `reference` (a FHIR Reference, at expression `at` in `owner`) points to.

        None when the reference is empty; `BrokenReference` when it names a resource the
        request does not hold.
        """
        if not isinstance(reference, dict):
            return None
        literal = reference.get("reference")
        display = reference.get("display")
        if isinstance(literal, str) and literal:
            return self._literal(literal, at, owner, display)
        ident = reference.get("identifier")
        if isinstance(ident, dict) and ident.get("value"):
            kind = str(reference.get("type") or "").rsplit("/", 1)[-1]
            return self._by_ident(kind, ident.get("system"), str(ident["value"]), display)
        return None

    def _literal(self, literal: str, at: str, owner: Entry, display: Any) -> Entry | Conditional:
        if literal.startswith("#"):
            home = owner.container or owner
            target = home if literal == "#" else home.contained.get(literal[1:])
            if target is not None:
                return target
        elif "?" in literal:
            kind, _, query = literal.partition("?")
            params = urllib.parse.parse_qs(query)
            token = (params.get("identifier") or [""])[0]
            system, bar, value = token.rpartition("|")
            return self._by_ident(
                kind.rsplit("/", 1)[-1], system if bar else None, value or None, display
            )
        else:
            found = self._by_url.get(literal) or self._by_url.get(_relative(literal))
            if found is not None:
                return found
        raise BrokenReference(
            Issue("not-found", at, f"reference {literal} does not resolve to a resource here")
        )

    def _by_ident(
        self, kind: str, system: str | None, value: str | None, display: Any
    ) -> Entry | Conditional:
        if value is not None:
            found = self._by_identifier.get((kind, system, value))
            if found is not None:
                return found
        return Conditional(kind, system, value, display if isinstance(display, str) else None)


def _relative(url: str) -> str:
    """`Type/id` of an absolute or versioned reference (`http://x/fhir/Patient/1/_history/2`)."""
    parts = url.split("/_history/")[0].rstrip("/").split("/")
    return "/".join(parts[-2:]) if len(parts) >= 2 else url
