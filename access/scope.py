"""The one place that decides what a caller may see and do: its capabilities and the regions
it covers. Every endpoint, export, admin page and write service asks `access.context.scope_for(user)`
(which keeps it for the request); a region outside it is refused the same way everywhere
(`Scope.require`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypedDict, TypeVar

from django.db.models import Model, Q, QuerySet

from core.errors import OutOfScopeError
from villages.models import Regency

from .choices import READ_ONLY_CAPABILITIES, ROLE_CAPABILITIES, Capability, Role

_M = TypeVar("_M", bound=Model)


@dataclass(frozen=True)
class Scope:
    """Capabilities plus the provinces and regencies a caller covers (all of them for admins)."""

    role: str = ""
    everything: bool = False
    capabilities: frozenset[str] = frozenset()
    province_ids: frozenset[int] = frozenset()
    regency_ids: frozenset[int] = frozenset()
    province_codes: frozenset[str] = frozenset()
    regency_codes: frozenset[str] = frozenset()
    # Provinces that contain a covered regency: a regency officer may ask for "the regencies
    # of my province" and get its own row.
    parent_province_ids: frozenset[int] = field(default=frozenset())

    def can(self, capability: str) -> bool:
        return capability in self.capabilities

    def q(self, *, province: str = "province_id", regency: str = "regency_id") -> Q:
        """A filter keeping rows whose province or regency column is covered."""
        if self.everything:
            return Q()
        condition = Q(pk__in=[])
        if self.province_ids:
            condition |= Q(**{f"{province}__in": self.province_ids})
        if self.regency_ids:
            condition |= Q(**{f"{regency}__in": self.regency_ids})
        return condition

    def filter(self, queryset: QuerySet[_M], **columns: str) -> QuerySet[_M]:
        return queryset.filter(self.q(**columns))

    def contains(self, *, province_id: int | None, regency_id: int | None) -> bool:
        """Whether a region (given its province and, below province level, its regency) is covered."""
        return (
            self.everything
            or province_id in self.province_ids
            or (regency_id is not None and regency_id in self.regency_ids)
        )

    def require(self, *, province_id: int | None, regency_id: int | None, field: str | None = None) -> None:
        """Refuse a region outside the scope: it does not exist for the caller. With `field`, the
        region is one the request names in that field (400 naming it); without, the record the
        request addresses lies there (404). The same code, `out_of_scope`, either way."""
        if not self.contains(province_id=province_id, regency_id=regency_id):
            raise OutOfScopeError(field=field)

    def contains_code(self, code: str) -> bool:
        """The same by region code (for tables keyed by code)."""
        return self.everything or code[:2] in self.province_codes or (len(code) >= 5 and code[:5] in self.regency_codes)

    def code_q(self, column: str = "region_code") -> Q:
        if self.everything:
            return Q()
        condition = Q(pk__in=[])
        for code in self.province_codes:
            condition |= Q(**{column: code}) | Q(**{f"{column}__startswith": f"{code}."})
        for code in self.regency_codes:
            condition |= Q(**{column: code}) | Q(**{f"{column}__startswith": f"{code}."})
        return condition


NOTHING = Scope()
# The system itself (commands run by an operator, scheduled jobs): every region, every capability.
EVERYTHING = Scope(role=Role.ADMIN, everything=True, capabilities=ROLE_CAPABILITIES[Role.ADMIN])


class _Regions(TypedDict):
    province_ids: frozenset[int]
    regency_ids: frozenset[int]
    province_codes: frozenset[str]
    regency_codes: frozenset[str]
    parent_province_ids: frozenset[int]


def _regions(province_ids: set[int], regency_ids: set[int]) -> _Regions:
    regencies = list(Regency.objects.filter(pk__in=regency_ids).values_list("pk", "code", "province_id"))
    from villages.models import Province

    return {
        "province_ids": frozenset(province_ids),
        "regency_ids": frozenset(regency_ids),
        "province_codes": frozenset(Province.objects.filter(pk__in=province_ids).values_list("code", flat=True)),
        "regency_codes": frozenset(code for _pk, code, _prov in regencies),
        "parent_province_ids": frozenset(prov for _pk, _code, prov in regencies),
    }


def operator_scope(*, province_id: int | None = None, regency_id: int | None = None) -> Scope:
    """Every capability, limited to one province or one regency: an operator's command run for a
    region (`import_workers --region`)."""
    if (province_id is None) == (regency_id is None):
        raise ValueError("an operator's scope is one province or one regency")
    regions = _regions({province_id} if province_id is not None else set(), {regency_id} if regency_id else set())
    return Scope(role=Role.ADMIN, capabilities=ROLE_CAPABILITIES[Role.ADMIN], **regions)


# The regions of each kind of profile (role, province, regency, branch) as last read, for one
# version of everything but the workers: every change of regions and of a branch's regencies
# moves it on (coverage.signals, villages.services), and the memo is emptied when it does.
_memo: dict[tuple[Any, ...], _Regions] = {}
_memo_version: list[int | None] = [None]


def _regions_of(profile: Any, province_ids: set[int], regency_ids: set[int], version: int | None) -> _Regions:
    """`_regions` of a profile's own regions (a branch's: its regencies), read again only when
    the data version moved on. Without a version known, read."""
    if profile.role == Role.BRANCH_OFFICER:
        key: tuple[Any, ...] = (profile.role, profile.branch_id)
    else:
        key = (profile.role, profile.province_id, profile.regency_id)
    if version is None:
        return _regions(province_ids, _branch_regencies(profile, regency_ids))
    if _memo_version[0] != version:
        _memo.clear()
        _memo_version[0] = version
    regions = _memo.get(key)
    if regions is None:
        regions = _memo[key] = _regions(province_ids, _branch_regencies(profile, regency_ids))
    return regions


def regions_forget() -> None:
    """Empty the memo of profiles' regions (tests: every test starts at the same version)."""
    _memo.clear()
    _memo_version[0] = None


def _branch_regencies(profile: Any, regency_ids: set[int]) -> set[int]:
    if profile.role == Role.BRANCH_OFFICER:
        return set(profile.branch.regencies.values_list("pk", flat=True))
    return regency_ids


def scope_compute(user: Any, *, version: int | None = None) -> Scope:
    """The scope of an active, authenticated `user`: its role's capabilities, and its regions.
    Asked through `access.context.scope_for`, which keeps it for the request. `version`: the
    version of everything but the workers (core.data_version) the request knows, under which the
    regions read before are still right."""
    if user.is_superuser:
        return Scope(role=Role.ADMIN, everything=True, capabilities=ROLE_CAPABILITIES[Role.ADMIN])
    profile = getattr(user, "access_profile", None)
    if profile is None:
        return NOTHING
    role = profile.role
    if role == Role.ADMIN:
        return Scope(role=role, everything=True, capabilities=ROLE_CAPABILITIES[Role.ADMIN])
    province_ids = {profile.province_id} if profile.province_id else set()
    regency_ids = {profile.regency_id} if profile.regency_id else set()
    if role == Role.INTEGRATION:
        acts_as = Role.PROVINCE_OFFICER if profile.province_id else Role.REGENCY_OFFICER
        capabilities = ROLE_CAPABILITIES[acts_as]
        if not profile.can_write:
            capabilities = capabilities & READ_ONLY_CAPABILITIES
    else:
        capabilities = ROLE_CAPABILITIES[role]
    regions = _regions_of(profile, province_ids, regency_ids, version)
    return Scope(role=role, capabilities=frozenset(capabilities), **regions)


__all__ = ["Capability", "EVERYTHING", "NOTHING", "Scope", "scope_compute"]
