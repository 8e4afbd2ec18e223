"""Fixtures for coverage tests (the region tree, the admin and `set_today` are in tests/conftest.py):
helpers that write workers and their enrollment through the real services with effective dates."""

from __future__ import annotations

import datetime
import itertools

import pytest

from enrollment.services import (
    Actor,
    enrollment_activate,
    enrollment_lapse,
    enrollment_renew,
    enrollment_submit,
    worker_end_service,
    worker_register,
    worker_update,
)
from villages.models import Village

D = datetime.date
TERM_START = D(2024, 1, 1)
PAID_UNTIL = D(2025, 6, 30)


class Workers:
    """Writes workers and enrollment changes through the services, each on a given date."""

    def __init__(self, actor: Actor):
        self.actor = actor
        self.serial = itertools.count(1)
        self.kpj = itertools.count(10_000_000_001)

    def register(
        self,
        village: str,
        *,
        start: datetime.date = TERM_START,
        institution: str = "pemerintah_desa",
        position: str = "staf",
        wage_basis: str = "siltap",
        monthly_wage: int | None = 2_000_000,
    ):
        # NIK 150101 170580 nnnn: a man born 1980-05-17.
        return worker_register(
            actor=self.actor,
            village=Village.objects.get(code=village),
            nik=f"150101170580{next(self.serial):04d}",
            full_name="Budi Santoso",
            sex="male",
            birth_date=D(1980, 5, 17),
            institution=institution,
            position=position,
            term_start=start,
            wage_basis=wage_basis,
            monthly_wage=monthly_wage,
        )

    def activate(
        self,
        worker,
        on: datetime.date,
        *,
        paid_until: datetime.date = PAID_UNTIL,
        scheme: str = "bpu",
        funding_source: str = "apbdes",
    ):
        return enrollment_activate(
            actor=self.actor,
            worker_id=worker.pk,
            kpj_number=str(next(self.kpj)),
            scheme=scheme,
            npp="12345678" if scheme == "pu" else "",
            programs=["jkk", "jkm"],
            funding_source=funding_source,
            coverage_start=on,
            paid_until=paid_until,
            effective_date=on,
        )

    def submit(self, worker, on: datetime.date):
        return enrollment_submit(actor=self.actor, worker_id=worker.pk, effective_date=on)

    def renew(self, worker, on: datetime.date, *, paid_until: datetime.date):
        return enrollment_renew(actor=self.actor, worker_id=worker.pk, paid_until=paid_until, effective_date=on)

    def lapse(self, worker, on: datetime.date):
        return enrollment_lapse(actor=self.actor, worker_id=worker.pk, effective_date=on)

    def end(self, worker, on: datetime.date):
        return worker_end_service(actor=self.actor, worker_id=worker.pk, effective_date=on)

    def move(self, worker, village: str, on: datetime.date):
        worker.refresh_from_db()
        return worker_update(
            actor=self.actor,
            worker_id=worker.pk,
            changes={"village": Village.objects.get(code=village)},
            expected_version=worker.version,
            effective_date=on,
        )


@pytest.fixture
def workers(regions, actor) -> Workers:
    return Workers(actor)


# The two dates of the history scenario: figures read from the counters on DAY_ONE must be what
# the history gives for DAY_ONE once later events (up to DAY_TWO) have been written.
DAY_ONE = D(2024, 6, 30)
DAY_TWO = D(2024, 10, 31)


def build_until_day_one(workers: Workers) -> dict[str, object]:
    """Workers and enrollment changes effective on or before DAY_ONE (today must be DAY_ONE)."""
    w = {}
    w["head"] = workers.register("15.01.01.2001", position="kepala_desa", monthly_wage=2_500_000)
    workers.activate(w["head"], D(2024, 2, 1), scheme="pu", funding_source="apbdes")
    w["bpd"] = workers.register(
        "15.01.01.2001", institution="bpd", position="ketua", wage_basis="honorarium", monthly_wage=800_000
    )
    workers.activate(w["bpd"], D(2024, 3, 1), paid_until=D(2024, 12, 31), funding_source="apbd_kabupaten")
    w["rt"] = workers.register(
        "15.01.01.2001", institution="rt", position="ketua", wage_basis="honorarium", monthly_wage=400_000
    )
    w["pkk"] = workers.register("15.01.01.2001", institution="pkk", position="kader", wage_basis="honorarium")
    workers.submit(w["pkk"], D(2024, 4, 1))
    w["mudik_head"] = workers.register("15.01.01.2002", position="kepala_desa")
    workers.activate(w["mudik_head"], D(2024, 5, 1), funding_source="self_paid")
    w["mudik_staff"] = workers.register("15.01.01.2002")
    w["lapsed"] = workers.register("15.01.02.2001")
    workers.activate(w["lapsed"], D(2024, 2, 1), paid_until=D(2024, 5, 31))
    workers.lapse(w["lapsed"], D(2024, 6, 1))
    w["bungo_head"] = workers.register("15.08.01.2001", position="kepala_desa")
    workers.activate(w["bungo_head"], D(2024, 1, 15), scheme="pu")
    w["bungo_staff"] = workers.register("15.08.01.2001")
    workers.activate(w["bungo_staff"], DAY_ONE)  # effective on the day itself: counts on it
    w["bungo_ended"] = workers.register("15.08.01.2001")
    workers.end(w["bungo_ended"], D(2024, 5, 15))
    w["kelurahan"] = workers.register("15.08.01.1001", institution="linmas", position="anggota", monthly_wage=None)
    w["sumsel"] = workers.register("16.01.01.2001", position="kepala_desa")
    workers.activate(w["sumsel"], D(2024, 3, 10))
    return w


def build_after_day_one(workers: Workers, w: dict[str, object]) -> None:
    """Changes effective after DAY_ONE (today must be DAY_TWO): none may show on DAY_ONE."""
    workers.activate(w["kelurahan"], D(2024, 7, 1))  # the day after
    workers.activate(w["rt"], D(2024, 7, 15))
    workers.move(w["head"], "15.08.01.2001", D(2024, 7, 20))
    workers.lapse(w["bpd"], D(2024, 8, 1))
    workers.move(w["mudik_staff"], "16.01.01.2001", D(2024, 8, 10))
    workers.end(w["mudik_head"], D(2024, 9, 1))
    workers.renew(w["lapsed"], D(2024, 9, 15), paid_until=D(2025, 9, 30))
    workers.end(w["bungo_staff"], D(2024, 10, 1))
    w["newcomer"] = workers.register("15.01.01.2001", start=D(2024, 8, 1))
    workers.activate(w["newcomer"], D(2024, 8, 5))
