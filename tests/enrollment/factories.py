"""factory_boy factories for workers, and helpers that move them through the enrollment states.

Everything is built through the real services (`worker_register`, `enrollment_activate`, ...),
so test data carries its history events and coverage counters like production data does.
"""

from __future__ import annotations

import datetime
import itertools

import factory

from enrollment import services
from enrollment.choices import EnrollmentStatus, Institution
from enrollment.models import ApparatusWorker
from tests.helpers import nik_for
from villages.models import Village

VILLAGE = "15.01.01.2001"  # Lempur Tengah, Kerinci
OTHER_VILLAGE_SAME_DISTRICT = "15.01.01.2002"  # Lempur Mudik
OTHER_REGENCY_VILLAGE = "15.08.01.2001"  # Rantau Keloyang, Bungo

_kpj_numbers = itertools.count(10_000_000_001)


def village(code: str = VILLAGE) -> Village:
    return Village.objects.get(code=code)


def position_for(institution: str) -> str:
    """A position that exists in `institution`."""
    return "staf" if institution == Institution.PEMERINTAH_DESA else "ketua"


def next_kpj() -> str:
    return f"{next(_kpj_numbers) % 10**11:011d}"


class WorkerFactory(factory.Factory):
    """A serving worker registered through `worker_register` (history event and counters included)."""

    class Meta:
        model = ApparatusWorker

    actor = factory.LazyFunction(lambda: services.Actor(label="factory"))
    village = factory.LazyFunction(village)
    full_name = factory.Sequence(lambda n: f"Pekerja {n}")
    sex = "male"
    birth_date = datetime.date(1980, 5, 17)
    # serials from 1000 up, so the low serials stay free for NIKs a test spells out
    nik = factory.LazyAttributeSequence(lambda o, n: nik_for(o.birth_date, o.sex, 1000 + n % 8999))
    phone = ""
    institution = Institution.PEMERINTAH_DESA
    position = factory.LazyAttribute(lambda o: position_for(o.institution))
    term_start = datetime.date(2024, 1, 1)
    term_end = None
    wage_basis = "siltap"
    monthly_wage = 2_500_000

    @classmethod
    def _create(cls, model_class, *args, **kwargs) -> ApparatusWorker:
        return services.worker_register(**kwargs)


def activation(**overrides) -> dict:
    """Valid `enrollment_activate` arguments: a BPU membership paid 60 days ahead."""
    today = services.today()
    data = {
        "kpj_number": next_kpj(),
        "scheme": "bpu",
        "programs": ["jkk", "jkm"],
        "funding_source": "apbdes",
        "coverage_start": today - datetime.timedelta(days=30),
        "paid_until": today + datetime.timedelta(days=60),
    }
    data.update(overrides)
    return data


def submit(worker: ApparatusWorker, actor: services.Actor | None = None, **kwargs) -> ApparatusWorker:
    return services.enrollment_submit(actor=actor or services.Actor(label="test"), worker_id=worker.pk, **kwargs)


def activate(worker: ApparatusWorker, actor: services.Actor | None = None, **overrides) -> ApparatusWorker:
    extra = {k: overrides.pop(k) for k in ("expected_version", "effective_date") if k in overrides}
    return services.enrollment_activate(
        actor=actor or services.Actor(label="test"), worker_id=worker.pk, **activation(**overrides), **extra
    )


def renew(worker: ApparatusWorker, actor: services.Actor | None = None, **kwargs) -> ApparatusWorker:
    if "paid_until" not in kwargs:
        worker.enrollment.refresh_from_db()
        kwargs["paid_until"] = worker.enrollment.paid_until + datetime.timedelta(days=30)
    return services.enrollment_renew(actor=actor or services.Actor(label="test"), worker_id=worker.pk, **kwargs)


def lapse(worker: ApparatusWorker, actor: services.Actor | None = None, **kwargs) -> ApparatusWorker:
    return services.enrollment_lapse(actor=actor or services.Actor(label="test"), worker_id=worker.pk, **kwargs)


def end_service(worker: ApparatusWorker, actor: services.Actor | None = None, **kwargs) -> ApparatusWorker:
    return services.worker_end_service(actor=actor or services.Actor(label="test"), worker_id=worker.pk, **kwargs)


def bring_to(worker: ApparatusWorker, status: str) -> ApparatusWorker:
    """Move a freshly registered worker to `status` along the shortest legal path."""
    path = {
        EnrollmentStatus.NOT_REGISTERED: [],
        EnrollmentStatus.SUBMITTED: [submit],
        EnrollmentStatus.ACTIVE: [submit, activate],
        EnrollmentStatus.LAPSED: [submit, activate, lapse],
        EnrollmentStatus.ENDED: [end_service],
    }[status]
    for step in path:
        worker = step(worker)
    worker.refresh_from_db()
    assert worker.enrollment.status == status
    return worker
