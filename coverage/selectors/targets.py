"""Coverage targets as a region sees them: its own, or its nearest ancestor's."""

from __future__ import annotations

from decimal import Decimal

from villages.services import parent_code

from ..models import Target
from .kept import structural


def _targets_read(kind: str, year: int) -> dict[str, Decimal]:
    return dict(Target.objects.filter(kind=kind, year=year).values_list("region_code", "target_pct"))


class TargetResolver:
    """Targets of one kind and year; a region without its own inherits the nearest ancestor's."""

    def __init__(self, *, kind: str, year: int) -> None:
        self.targets: dict[str, Decimal] = structural(_targets_read, kind, year)

    def for_codes(self, codes: list[str]) -> dict[str, Decimal | None]:
        """{code: target} for many regions at once: siblings (consecutive in code order) look
        their parent's target up once."""
        targets = self.targets
        found: dict[str, Decimal | None] = {}
        last_parent, inherited = None, None
        for code in codes:
            if code in targets:
                found[code] = targets[code]
                continue
            if "." not in code:
                found[code] = None
                continue
            parent = parent_code(code)
            if parent != last_parent:
                last_parent, inherited = parent, self.for_code(parent)
            found[code] = inherited
        return found

    def for_code(self, code: str) -> Decimal | None:
        while True:
            if code in self.targets:
                return self.targets[code]
            if "." not in code:
                return None
            code = parent_code(code)
