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
