"""The admin under the API's rules: every role that can sign in x every admin page and action x an
object in / out of the caller's regions, with the exact status code; no out-of-scope row on any
page; personal data masked without the right (and never shown in full); refused actions and
edits write nothing. Everyone here is staff and holds every Django model permission of the
project's apps (but the personal-data right), as the demo's officers did: the admin decides by
role and region (access.scope), so those permissions open nothing the role may not do."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse

from access.models import AccessLog
from enrollment.models import ApparatusWorker, EnrollmentEvent
from enrollment.nik import nik_mask
from tests.helpers import today
from villages.models import Regency, Village

from .conftest import (
    ADMIN,
    ANONYMOUS,
    BRANCH_OFFICER,
    CAPABILITIES,
    COVERS,
    ENROLL,
    OTHER,
    OWN,
    PROVINCE_OFFICER,
    READ,
    REGENCY_OFFICER,
    SIBLING,
    VIEWER,
    VILLAGE,
    WRITE,
    World,
    activation_args,
    make_user,
    worker_payload,
)

# People sign in to the admin; integration clients have no password (tokens only).
WEB_ROLES = [ANONYMOUS, ADMIN, PROVINCE_OFFICER, REGENCY_OFFICER, BRANCH_OFFICER, VIEWER]
READERS = [r for r in WEB_ROLES if READ in CAPABILITIES[r]]
# Superusers hold every permission, the personal-data right included, and branch officers see
# personal data by role (access.personal_data): masks are for the others.
MASKED_READERS = [r for r in READERS if r not in (ADMIN, BRANCH_OFFICER)]
WHERE = {"in": OWN, "out": OTHER}
CHANGELIST = "admin:enrollment_apparatusworker_changelist"
# The ways a birth date (1980-05-17) could appear on a page.
BIRTH_DATE_TEXTS = ["1980-05-17", "17-05-1980", "17/05/1980", "17 Mei 1980", "17 May 1980", "17.05.1980"]


def model_permissions():
    """Every model permission of the project's apps, but the personal-data right."""
    from django.contrib.auth.models import Permission

    apps = ["enrollment", "villages", "coverage", "access"]
    return Permission.objects.filter(content_type__app_label__in=apps).exclude(codename="view_personal_data")


@pytest.fixture
def web_for(shared, db):
    """web_for(role, personal_data=False) -> a test Client signed in as the role's user, with
    staff status (the admin's door); personal_data: a new user of the role with the right."""

    def build(role: str, *, personal_data: bool = False) -> Client:
        client = Client()
        if role == ANONYMOUS:
            return client
        user = make_user(role, personal_data=True)[0] if personal_data else shared.users[role][0]
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        user.user_permissions.add(*model_permissions())
        client.force_login(user)
        client.user = user
        return client

    return build


def events(worker_id: int) -> list[tuple]:
    return list(EnrollmentEvent.objects.filter(worker_id=worker_id).order_by("id").values_list("kind", "actor_id"))


def page(response) -> str:
    return response.content.decode()


# -- the pages and actions ----------------------------------------------------------------------


def _worker_form(world: World, regency: str) -> dict:
    worker = ApparatusWorker.objects.get(pk=world.new[regency].pk)
    return {
        "village": worker.village_id,
        "nik": worker.nik,
        "full_name": "Nama Baru",
        "sex": worker.sex,
        "birth_date": worker.birth_date.isoformat(),
        "phone": worker.phone,
        "institution": worker.institution,
        "position": worker.position,
        "term_start": worker.term_start.isoformat(),
        "term_end": "",
        "wage_basis": worker.wage_basis,
        "monthly_wage": str(worker.monthly_wage),
        "version": str(worker.version),
        "enrollment-TOTAL_FORMS": "1",
        "enrollment-INITIAL_FORMS": "1",
        "enrollment-0-worker": worker.pk,
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
    }


def _add_form(world: World, regency: str) -> dict:
    data = worker_payload(VILLAGE[regency])
    return {
        **data,
        "village": Village.objects.get(code=VILLAGE[regency]).pk,
        "term_end": "",
        "enrollment-TOTAL_FORMS": "0",
        "enrollment-INITIAL_FORMS": "0",
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
    }


def _action(name: str, kind: str, **form) -> Callable[[World, str], dict]:
    """A POST of the changelist's action `name` on the regency's `kind` worker ("new"/"active");
    with `form`, the action's own form as submitted ("apply")."""

    def body(world: World, regency: str) -> dict:
        worker = getattr(world, kind)[regency]
        if not form:
            return {"action": name, "index": "0", "select_across": "0", ACTION_CHECKBOX_NAME: [worker.pk]}
        values = {k: v() if callable(v) else v for k, v in form.items()}
        return {"action": name, ACTION_CHECKBOX_NAME: [worker.pk], "apply": "1", **values}

    return body


def _activation() -> dict:
    args = activation_args()
    return {**args, "coverage_start": args["coverage_start"].isoformat(), "paid_until": args["paid_until"].isoformat()}


@dataclass(frozen=True)
class Page:
    """One admin page or action. `url(world, regency)`; `needs` the capabilities; `out` the
    status for a caller with them but not the region (None: the page has no region); `body` for
    a POST; `target(world, regency)` the worker a write would touch (its history must not move
    unless the write is allowed)."""

    name: str
    url: Callable[[World, str], str]
    needs: frozenset[str]
    ok: int = 200
    out: int | None = 404
    body: Callable[[World, str], dict] | None = None
    target: Callable[[World, str], int] | None = None
    wrote: tuple[str, ...] = ()  # the event kinds an allowed write adds


def _new(world: World, regency: str) -> int:
    return world.new[regency].pk


def _active(world: World, regency: str) -> int:
    return world.active[regency].pk


def _event(world: World, regency: str) -> int:
    return EnrollmentEvent.objects.filter(worker_id=world.new[regency].pk).order_by("id").first().pk


AUTOCOMPLETE = "app_label=enrollment&model_name=apparatusworker&field_name=village&term="

PAGES = [
    Page("worker-changelist", lambda w, r: reverse(CHANGELIST), frozenset({READ}), out=None),
    Page(
        "worker-change",
        lambda w, r: reverse("admin:enrollment_apparatusworker_change", args=[_new(w, r)]),
        frozenset({READ}),
    ),
    Page(
        "worker-object-history",
        lambda w, r: reverse("admin:enrollment_apparatusworker_history", args=[_new(w, r)]),
        frozenset({READ}),
    ),
    Page("worker-add", lambda w, r: reverse("admin:enrollment_apparatusworker_add"), frozenset({WRITE}), out=None),
    Page(
        "worker-add-post",
        lambda w, r: reverse("admin:enrollment_apparatusworker_add"),
        frozenset({WRITE}),
        ok=302,
        out=200,  # the form again, its village refused
        body=_add_form,
    ),
    Page(
        "worker-change-post",
        lambda w, r: reverse("admin:enrollment_apparatusworker_change", args=[_new(w, r)]),
        frozenset({WRITE}),
        ok=302,
        body=_worker_form,
        target=_new,
        wrote=("updated",),
    ),
    Page(
        "village-autocomplete",
        lambda w, r: f"{reverse('admin:autocomplete')}?{AUTOCOMPLETE}",
        frozenset({WRITE}),
        out=None,
    ),
    Page(
        "event-changelist",
        lambda w, r: reverse("admin:enrollment_enrollmentevent_changelist"),
        frozenset({READ}),
        out=None,
    ),
    Page(
        "event-change",
        lambda w, r: reverse("admin:enrollment_enrollmentevent_change", args=[_event(w, r)]),
        frozenset({READ}),
    ),
    Page(
        "action-submit",
        lambda w, r: reverse(CHANGELIST),
        frozenset({WRITE}),
        ok=302,
        body=_action("submit_action", "new"),
        target=_new,
        wrote=("submitted",),
    ),
    Page(
        "action-end-service",
        lambda w, r: reverse(CHANGELIST),
        frozenset({WRITE}),
        ok=302,
        body=_action("end_service_action", "new"),
        target=_new,
        wrote=("service_ended",),
    ),
    Page(
        "action-activate",
        lambda w, r: reverse(CHANGELIST),
        frozenset({ENROLL}),
        ok=302,
        body=_action(
            "activate_action",
            "new",
            **{k: (lambda k=k: _activation()[k]) for k in _activation()},
        ),
        target=_new,
        wrote=("activated",),
    ),
    Page(
        "action-activate-form",
        lambda w, r: reverse(CHANGELIST),
        frozenset({ENROLL}),
        body=_action("activate_action", "new"),
        target=_new,
    ),
    Page(
        "action-renew",
        lambda w, r: reverse(CHANGELIST),
        frozenset({ENROLL}),
        ok=302,
        body=_action("renew_action", "active", paid_until=lambda: (today() + datetime.timedelta(days=90)).isoformat()),
        target=_active,
        wrote=("renewed",),
    ),
    Page(
        "action-lapse",
        lambda w, r: reverse(CHANGELIST),
        frozenset({ENROLL}),
        ok=302,
        body=_action("lapse_action", "active"),
        target=_active,
        wrote=("lapsed",),
    ),
]
BY_NAME = {p.name: p for p in PAGES}


def allowed(p: Page, role: str, where: str) -> bool:
    """Written from the specification: signed in, with the capabilities, and (for a page about
    a region) covering the region."""
    if role == ANONYMOUS or not p.needs <= CAPABILITIES[role]:
        return False
    return p.out is None or role == ADMIN or WHERE[where] in COVERS[role]


def expected_status(p: Page, role: str, where: str) -> int:
    """The admin's login for strangers, 403 without the capability, 404 (or the page's own
    answer) outside the regions."""
    if role == ANONYMOUS:
        return 302
    if not p.needs <= CAPABILITIES[role]:
        return 403
    return p.ok if allowed(p, role, where) else p.out


def _cells():
    for p in PAGES:
        for role in WEB_ROLES:
            for where in ("in", "out") if p.out is not None else ("in",):
                yield pytest.param(p.name, role, where, id=f"{p.name}-{role}-{where}")


@pytest.mark.parametrize(("page_name", "role", "where"), list(_cells()))
def test_admin_status_matches_spec_for_every_page_role_and_region(web_for, world, page_name, role, where):
    p = BY_NAME[page_name]
    regency = WHERE[where]
    client = web_for(role)
    target = p.target(world, regency) if p.target else None
    before = events(target) if target else None
    workers_before = ApparatusWorker.objects.count()

    url = p.url(world, regency)
    response = client.post(url, p.body(world, regency)) if p.body else client.get(url)

    status = expected_status(p, role, where)
    assert response.status_code == status, page(response)[:600]
    if role == ANONYMOUS:
        assert response["Location"].startswith(reverse("admin:login"))
    if target is not None:
        added = [kind for kind, _actor in events(target)[len(before) :]]
        assert events(target)[: len(before)] == before
        assert added == (list(p.wrote) if allowed(p, role, where) else [])
        if added:
            assert events(target)[-1][1] == client.user.pk  # recorded as the caller's
    if page_name == "worker-add-post":
        assert ApparatusWorker.objects.count() == workers_before + (1 if allowed(p, role, where) else 0)
        if status == 200:
            assert "village" in response.context["adminform"].form.errors


def test_admin_matrix_covers_every_action_and_capability():
    from enrollment.admin import ApparatusWorkerAdmin

    in_matrix = {"submit_action", "end_service_action", "activate_action", "renew_action", "lapse_action"}
    assert set(ApparatusWorkerAdmin.actions) == in_matrix
    assert {c for p in PAGES for c in p.needs} == {READ, WRITE, ENROLL}


# -- what the pages hold --------------------------------------------------------------------------


@pytest.mark.parametrize("role", MASKED_READERS)
def test_worker_changelist_holds_only_covered_workers_masked(web_for, world, role):
    response = web_for(role).get(reverse(CHANGELIST))

    assert response.status_code == 200
    shown = {w.pk for w in response.context["cl"].result_list}
    assert shown == world.worker_ids(COVERS[role])
    html = page(response)
    for regency in (OWN, SIBLING, OTHER):
        for worker in world.workers[regency]:
            assert worker.nik not in html  # never in full without the right
            assert (nik_mask(worker.nik) in html) == (regency in COVERS[role])


@pytest.mark.parametrize("role", READERS)
def test_worker_changelist_shows_full_nik_with_the_right_and_logs_it(web_for, world, role):
    client = web_for(role, personal_data=True)
    response = client.get(reverse(CHANGELIST))

    assert response.status_code == 200
    html = page(response)
    for regency in (OWN, SIBLING, OTHER):
        for worker in world.workers[regency]:
            assert (worker.nik in html) == (regency in COVERS[role])
    log = AccessLog.objects.get(user=client.user)
    assert (log.kind, set(log.worker_ids)) == ("personal_data", world.worker_ids(COVERS[role]))


@pytest.mark.parametrize("role", MASKED_READERS)
def test_worker_change_page_masks_personal_data_and_its_history(web_for, world, role):
    worker = world.new[OWN]
    response = web_for(role).get(reverse("admin:enrollment_apparatusworker_change", args=[worker.pk]))

    assert response.status_code == 200
    html = page(response)
    assert nik_mask(worker.nik) in html
    assert worker.nik not in html
    assert worker.phone not in html
    assert not [text for text in BIRTH_DATE_TEXTS if text in html]
    assert "***" in html  # the registration event's changes, masked
    assert AccessLog.objects.count() == 0


@pytest.mark.parametrize("role", MASKED_READERS)
def test_event_pages_hold_only_covered_workers_masked(web_for, world, role):
    client = web_for(role)
    response = client.get(reverse("admin:enrollment_enrollmentevent_changelist"))
    detail = client.get(reverse("admin:enrollment_enrollmentevent_change", args=[_event(world, OWN)]))

    assert response.status_code == 200
    assert {e.worker_id for e in response.context["cl"].result_list} == world.worker_ids(COVERS[role])
    assert detail.status_code == 200
    html = page(detail)
    worker = world.new[OWN]
    assert worker.nik not in html
    assert worker.phone not in html
    assert not [text for text in BIRTH_DATE_TEXTS if text in html]
    assert "***" in html


@pytest.mark.parametrize("role", MASKED_READERS)
@pytest.mark.parametrize("url_name", [CHANGELIST, "admin:enrollment_enrollmentevent_changelist"])
def test_nik_search_needs_the_personal_data_right(web_for, world, role, url_name):
    worker = world.new[OWN]
    without = web_for(role).get(reverse(url_name), {"q": worker.nik})
    with_right = web_for(role, personal_data=True).get(reverse(url_name), {"q": worker.nik})

    assert without.status_code == with_right.status_code == 200
    assert list(without.context["cl"].result_list) == []
    found = {getattr(row, "worker_id", row.pk) for row in with_right.context["cl"].result_list}
    assert found == {worker.pk}


@pytest.mark.parametrize("role", [r for r in WEB_ROLES if WRITE in CAPABILITIES[r]])
def test_village_picker_offers_only_covered_villages(web_for, world, role):
    response = web_for(role).get(f"{reverse('admin:autocomplete')}?{AUTOCOMPLETE}")

    assert response.status_code == 200
    codes = set(
        Village.objects.filter(pk__in=[int(r["id"]) for r in response.json()["results"]]).values_list("code", flat=True)
    )
    assert codes == {VILLAGE[r] for r in COVERS[role]}


@pytest.mark.parametrize("role", READERS)
def test_changelist_offers_only_the_actions_of_the_role(web_for, world, role):
    response = web_for(role).get(reverse(CHANGELIST))

    offered = {name for name, _label in response.context["action_form"].fields["action"].choices if name}
    expected = set()
    if WRITE in CAPABILITIES[role]:
        expected |= {"submit_action", "end_service_action"}
    if ENROLL in CAPABILITIES[role]:
        expected |= {"activate_action", "renew_action", "lapse_action"}
    assert offered == expected


def test_action_on_a_mix_of_covered_and_uncovered_workers_writes_nothing(web_for, world):
    client = web_for(REGENCY_OFFICER)
    mine, other = world.new[OWN].pk, world.new[SIBLING].pk
    before = events(mine), events(other)

    response = client.post(
        reverse(CHANGELIST), {"action": "submit_action", "index": "0", ACTION_CHECKBOX_NAME: [mine, other]}
    )

    assert response.status_code == 404
    assert (events(mine), events(other)) == before


def test_staff_without_a_role_sees_no_worker_page(world, db):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("staff-no-role", password="x-Passw0rd!", is_staff=True)
    client = Client()
    client.force_login(user)

    assert client.get(reverse(CHANGELIST)).status_code == 403
    assert client.get(reverse("admin:enrollment_enrollmentevent_changelist")).status_code == 403
    assert client.get(f"{reverse('admin:autocomplete')}?{AUTOCOMPLETE}").status_code == 403
    assert "enrollment" not in page(client.get(reverse("admin:index")))


def test_officers_do_not_manage_users_or_groups_even_with_django_permissions(web_for, world):
    from django.contrib.auth.models import Permission

    client = web_for(REGENCY_OFFICER)
    client.user.user_permissions.add(*Permission.objects.filter(content_type__app_label="auth"))

    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403
    assert client.get(reverse("admin:auth_group_add")).status_code == 403
    assert client.get(reverse("admin:access_accesslog_changelist")).status_code == 403


@pytest.mark.parametrize("role", [r for r in WEB_ROLES if r != ANONYMOUS])
def test_coverage_counters_page_holds_only_covered_villages(web_for, world, role):
    response = web_for(role).get(reverse("admin:coverage_villagecoverage_changelist"))

    assert response.status_code == 200
    codes = {row.village.code for row in response.context["cl"].result_list}
    assert codes == {VILLAGE[r] for r in COVERS[role]}


ACTION_FORMS = {
    "activate_action": _activation,
    "renew_action": lambda: {"paid_until": (today() + datetime.timedelta(days=90)).isoformat()},
}
ACTION_NEEDS = {
    "submit_action": (REGENCY_OFFICER, "new"),
    "end_service_action": (REGENCY_OFFICER, "new"),
    "activate_action": (BRANCH_OFFICER, "new"),
    "renew_action": (BRANCH_OFFICER, "active"),
    "lapse_action": (BRANCH_OFFICER, "active"),
}


def _call_action(rf, user, name: str, worker_ids: list[int]):
    """The action method itself, as any caller would run it (not through the changelist)."""
    from django.contrib import admin as django_admin

    model_admin = django_admin.site.get_model_admin(ApparatusWorker)
    data = {"apply": "1", **ACTION_FORMS.get(name, dict)()}
    request = rf.post(reverse(CHANGELIST), data)
    request.user = user
    return getattr(model_admin, name)(request, ApparatusWorker.objects.filter(pk__in=worker_ids))


@pytest.mark.parametrize("name", sorted(ACTION_NEEDS))
def test_each_action_checks_its_capability_itself(rf, web_for, world, name):
    from django.core.exceptions import PermissionDenied

    role, kind = ACTION_NEEDS[name]
    lacking = BRANCH_OFFICER if role == REGENCY_OFFICER else REGENCY_OFFICER
    worker = getattr(world, kind)[OWN].pk
    before = events(worker)

    with pytest.raises(PermissionDenied):
        _call_action(rf, web_for(lacking).user, name, [worker])
    assert events(worker) == before


@pytest.mark.parametrize("name", sorted(ACTION_NEEDS))
def test_each_action_checks_every_workers_region_before_writing(rf, web_for, world, name):
    from django.http import Http404

    role, kind = ACTION_NEEDS[name]
    mine, other = getattr(world, kind)[OWN].pk, getattr(world, kind)[OTHER].pk
    before = events(mine), events(other)

    with pytest.raises(Http404):
        _call_action(rf, web_for(role).user, name, [mine, other])
    assert (events(mine), events(other)) == before


@pytest.mark.parametrize("role", READERS)
def test_regency_filter_offers_only_covered_regencies(web_for, world, role):
    response = web_for(role).get(reverse(CHANGELIST))

    filters = [f for f in response.context["cl"].filter_specs if getattr(f, "field_path", "") == "regency"]
    ids = [pk for f in filters for pk, _name in f.lookup_choices]
    offered = set(Regency.objects.filter(pk__in=ids).values_list("code", flat=True))
    assert offered == (COVERS[role] if len(COVERS[role]) > 1 else set())  # one choice: Django hides the filter


LEAKY_LOOKUPS = [
    (CHANGELIST, "birth_date", "1980-05-17"),
    (CHANGELIST, "nik__startswith", "150101170580"),
    (CHANGELIST, "phone__contains", "0812"),
    ("admin:enrollment_enrollmentevent_changelist", "changes__nik__0__startswith", "1501"),
    ("admin:enrollment_enrollmentevent_changelist", "changes__birth_date__1", "1980-05-17"),
]


@pytest.mark.parametrize("role", MASKED_READERS)
@pytest.mark.parametrize(("url_name", "lookup", "value"), LEAKY_LOOKUPS)
def test_lookups_on_personal_data_need_the_right(web_for, world, role, url_name, lookup, value):
    without = web_for(role).get(reverse(url_name), {lookup: value})
    with_right = web_for(role, personal_data=True).get(reverse(url_name), {lookup: value})

    assert without.status_code == 400
    assert with_right.status_code == 200


def test_admin_by_profile_without_the_right_sees_every_worker_masked(world, db):
    from django.contrib.auth import get_user_model

    from access.models import AccessProfile

    user = get_user_model().objects.create_user("kepala-dinas", password="x-Passw0rd!", is_staff=True)
    AccessProfile.objects.create(user=user, role="admin")
    client = Client()
    client.force_login(user)

    response = client.get(reverse(CHANGELIST))
    by_nik = client.get(reverse(CHANGELIST), {"q": world.new[OTHER].nik})

    assert response.status_code == 200
    assert {w.pk for w in response.context["cl"].result_list} == world.worker_ids({OWN, SIBLING, OTHER})
    html = page(response)
    assert all(w.nik not in html and nik_mask(w.nik) in html for ws in world.workers.values() for w in ws)
    assert list(by_nik.context["cl"].result_list) == []
    assert client.get(reverse("admin:enrollment_apparatusworker_change", args=[world.new[OTHER].pk])).status_code == 200


def test_admin_registration_without_the_right_is_a_counted_nik_lookup(web_for, shared, world, settings, monkeypatch):
    from django.conf import settings as django_settings
    from rest_framework.throttling import SimpleRateThrottle

    rates = {**django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "nik_lookup": "1/day"}
    settings.REST_FRAMEWORK = {**django_settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    client = web_for(REGENCY_OFFICER)
    url = reverse("admin:enrollment_apparatusworker_add")
    first, second = _add_form(world, OWN), _add_form(world, OWN)
    before = ApparatusWorker.objects.count()

    saved = client.post(url, first)
    refused = client.post(url, second, follow=True)

    assert saved.status_code == 302
    assert refused.redirect_chain == [(url, 302)]  # back to the form, with the limit's message
    assert "Terlalu banyak pencarian NIK" in page(refused)
    assert ApparatusWorker.objects.count() == before + 1
    logged = AccessLog.objects.filter(kind="nik_lookup")
    officer = shared.users[REGENCY_OFFICER][0]
    assert [(e.user_id, e.query) for e in logged] == [(officer.pk, f"nik={first['nik']}")]


@pytest.mark.parametrize("selected", ["²", "99999999999999999999999"])
def test_admin_action_on_an_id_that_is_no_id_is_a_404(web_for, world, selected):
    client = web_for(REGENCY_OFFICER)
    body = {"action": "submit_action", "index": "0", "select_across": "0", ACTION_CHECKBOX_NAME: [selected]}

    response = client.post(reverse(CHANGELIST), body)

    assert response.status_code == 404
