"""Scope is enforced by the write services themselves: a caller's change to a worker outside its
regions, or into a village outside them, is refused with one error code (`out_of_scope`) and
writes nothing, whatever the entry point (the API, the admin, the import and the commands all
call these services)."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from access.models import AccessProfile
from core.errors import OutOfScopeError
from enrollment import services
from villages.models import Regency

from .factories import OTHER_REGENCY_VILLAGE, VILLAGE, WorkerFactory, activation, bring_to, village
from .helpers import db_state
from .test_api import LIST, worker_data

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


@pytest.fixture
def kerinci_officer(regions):
    """A regency officer of Kerinci (15.01); Bungo (15.08) is outside its regions."""
    user = get_user_model().objects.create_user("kerinci", password="pw-kerinci-123")
    AccessProfile.objects.create(user=user, role="regency_officer", regency=Regency.objects.get(code="15.01"))
    return user


def call(name: str, actor: services.Actor, worker, today):
    return {
        "update": lambda: services.worker_update(
            actor=actor, worker_id=worker.pk, changes={"full_name": "Nama Lain"}, expected_version=None
        ),
        "submit": lambda: services.enrollment_submit(actor=actor, worker_id=worker.pk),
        "activate": lambda: services.enrollment_activate(actor=actor, worker_id=worker.pk, **activation()),
        "renew": lambda: services.enrollment_renew(actor=actor, worker_id=worker.pk, paid_until=today + 400 * DAY),
        "lapse": lambda: services.enrollment_lapse(actor=actor, worker_id=worker.pk),
        "end": lambda: services.worker_end_service(actor=actor, worker_id=worker.pk),
    }[name]()


STATUS_FOR = {
    "update": "not_registered",
    "submit": "not_registered",
    "activate": "submitted",
    "renew": "active",
    "lapse": "active",
    "end": "submitted",
}


@pytest.mark.parametrize("name", list(STATUS_FOR))
def test_a_change_to_a_worker_outside_the_callers_regions_is_refused_as_not_found(kerinci_officer, today, name):
    outside = bring_to(WorkerFactory(village=village(OTHER_REGENCY_VILLAGE)), STATUS_FOR[name])
    before = db_state()

    with pytest.raises(OutOfScopeError) as refused:
        call(name, services.Actor(user=kerinci_officer), outside, today)

    assert (refused.value.status_code, refused.value.code, refused.value.field) == (404, "out_of_scope", None)
    assert db_state() == before


@pytest.mark.parametrize("name", list(STATUS_FOR))
def test_the_same_change_inside_the_callers_regions_is_made(kerinci_officer, today, name):
    inside = bring_to(WorkerFactory(village=village(VILLAGE)), STATUS_FOR[name])

    worker = call(name, services.Actor(user=kerinci_officer), inside, today)

    assert worker.version > inside.version


def test_a_registration_in_a_village_outside_the_callers_regions_is_refused_naming_the_village(kerinci_officer):
    before = db_state()

    with pytest.raises(OutOfScopeError) as refused:
        WorkerFactory(actor=services.Actor(user=kerinci_officer), village=village(OTHER_REGENCY_VILLAGE))

    assert (refused.value.status_code, refused.value.code, refused.value.field) == (400, "out_of_scope", "village")
    assert db_state() == before


def test_moving_a_worker_to_a_village_outside_the_callers_regions_is_refused(kerinci_officer):
    worker = WorkerFactory(village=village(VILLAGE))
    before = db_state()

    with pytest.raises(OutOfScopeError) as refused:
        services.worker_update(
            actor=services.Actor(user=kerinci_officer),
            worker_id=worker.pk,
            changes={"village": village(OTHER_REGENCY_VILLAGE)},
            expected_version=worker.version,
        )

    assert (refused.value.status_code, refused.value.field) == (400, "village")
    assert db_state() == before


def test_an_operator_limited_to_a_region_is_refused_outside_it(regions):
    from access.scope import operator_scope

    actor = services.Actor(
        label="operator", region_scope=operator_scope(regency_id=Regency.objects.get(code="15.01").pk)
    )
    outside = WorkerFactory(village=village(OTHER_REGENCY_VILLAGE))

    with pytest.raises(OutOfScopeError):
        services.enrollment_submit(actor=actor, worker_id=outside.pk)
    assert services.enrollment_submit(actor=actor, worker_id=WorkerFactory(village=village(VILLAGE)).pk).version == 2


def test_the_api_answers_the_services_refusal_in_the_one_error_shape(kerinci_officer):
    client = APIClient()
    client.force_authenticate(kerinci_officer)
    before = db_state()

    response = client.post(LIST, worker_data(village=OTHER_REGENCY_VILLAGE), format="json")

    assert response.status_code == 400
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [("village", "out_of_scope")]
    assert db_state() == before


@pytest.fixture
def bungo_clerk(regions):
    """A branch officer of Muara Bungo, which serves Bungo (15.08); Kerinci (15.01) is outside."""
    from villages.models import BranchOffice

    user = get_user_model().objects.create_user("bungo", password="pw-bungo-123")
    AccessProfile.objects.create(user=user, role="branch_officer", branch=BranchOffice.objects.get(code="muara-bungo"))
    return user


TRANSITION_BODIES = {
    "activate": lambda: {k: str(v) if isinstance(v, datetime.date) else v for k, v in activation().items()},
    "lapse": dict,
    "submit": dict,
}
BAD_BODIES = {"activate": {"scheme": "none"}, "lapse": {"effective_date": "soon"}, "submit": {"effective_date": "x"}}
STATUS_BEFORE = {"activate": "submitted", "lapse": "active", "submit": "not_registered"}
# Who may make the transition, and its village inside and outside the caller's regions.
CALLER = {
    "activate": ("bungo_clerk", OTHER_REGENCY_VILLAGE, VILLAGE),
    "lapse": ("bungo_clerk", OTHER_REGENCY_VILLAGE, VILLAGE),
    "submit": ("kerinci_officer", VILLAGE, OTHER_REGENCY_VILLAGE),
}


def _caller(request, name: str) -> tuple[APIClient, str, str]:
    fixture, inside, outside = CALLER[name]
    client = APIClient()
    client.force_authenticate(request.getfixturevalue(fixture))
    return client, inside, outside


@pytest.mark.parametrize("name", list(TRANSITION_BODIES))
def test_a_transition_of_a_worker_outside_the_callers_regions_is_the_404_of_one_that_does_not_exist(request, name):
    """The transition reads the worker only with its lock (the service checks the scope): the
    caller outside its regions gets the very answer of a worker that does not exist, whether its
    body is right or wrong, and whatever version its If-Match names; nothing is written."""
    client, _inside, outside_village = _caller(request, name)
    outside = bring_to(WorkerFactory(village=village(outside_village)), STATUS_BEFORE[name])
    missing = outside.pk + 10_000
    before = db_state()

    for body, headers in (
        (TRANSITION_BODIES[name](), {}),
        (BAD_BODIES[name], {}),
        (TRANSITION_BODIES[name](), {"HTTP_IF_MATCH": '"999"'}),
        (TRANSITION_BODIES[name](), {"HTTP_IF_MATCH": "not-a-version"}),
    ):
        answers = [
            client.post(f"{LIST}{worker_id}/{name}/", body, format="json", **headers)
            for worker_id in (outside.pk, missing)
        ]
        assert [a.status_code for a in answers] == [404, 404], [a.content for a in answers]
        assert answers[0].json() == answers[1].json()
    assert db_state() == before


@pytest.mark.parametrize("name", list(TRANSITION_BODIES))
def test_a_transition_inside_the_callers_regions_answers_what_its_request_gets_wrong(request, name):
    client, inside_village, _outside = _caller(request, name)
    inside = bring_to(WorkerFactory(village=village(inside_village)), STATUS_BEFORE[name])
    url = f"{LIST}{inside.pk}/{name}/"

    bad_body = client.post(url, BAD_BODIES[name], format="json")
    bad_if_match = client.post(url, TRANSITION_BODIES[name](), format="json", HTTP_IF_MATCH="not-a-version")
    stale = client.post(url, TRANSITION_BODIES[name](), format="json", HTTP_IF_MATCH='"999"')
    done = client.post(url, TRANSITION_BODIES[name](), format="json")

    assert bad_body.status_code == 400
    assert bad_if_match.status_code == 400
    assert stale.status_code == 412
    assert done.status_code == 200
    assert (done.json()["village"], done.json()["district"], done.json()["regency"], done.json()["province"]) == (
        inside.village.code,
        inside.district.code,
        inside.regency.code,
        inside.province.code,
    )


@pytest.mark.parametrize("worker_id", ["0", "-3", str(2**63), "12abc"])
def test_a_transition_of_an_id_no_worker_can_have_is_404(admin_client, worker_id):
    response = admin_client.post(f"{LIST}{worker_id}/lapse/", {}, format="json")

    assert response.status_code == 404
