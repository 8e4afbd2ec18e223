"""Benchmark of a reconciliation (issue 18, item 7): a BPJS extract of every serving worker of the
database (up to --rows), with some statuses and paid-until dates changed, checked against the
registry as an admin (dry run, full result written), then --apply accepted changes applied.

    DATABASE_URL=... python bench/reconcile.py --rows 500000 --apply 50000
Run under /usr/bin/time -v for the peak memory.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import io
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ucj_project.settings.local")
os.environ.setdefault("DEBUG", "false")  # no query log: measure the work, not the debug wrapper

import django  # noqa: E402

django.setup()

from django.db.models import Q  # noqa: E402

from core.clock import today  # noqa: E402
from enrollment import reconcile_services  # noqa: E402
from enrollment.models import ApparatusWorker, Reconciliation, ReconciliationRow  # noqa: E402
from enrollment.recording import Actor  # noqa: E402


def extract(rows: int) -> bytes:
    now = today()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["nik", "nama", "tanggal_lahir", "jenis_kelamin", "status", "program", "bayar_sampai"])
    workers = (
        ApparatusWorker.objects.filter(serving=True)
        .order_by("pk")
        .values_list("nik", "full_name", "birth_date", "sex", "enrollment_status", "enrollment__paid_until")[:rows]
    )
    for n, (nik, name, birth, sex, status, paid) in enumerate(workers.iterator(chunk_size=10000)):
        active = status == "active"
        if n % 7 == 0:  # BPJS says active where the registry does not, or paid further
            active, paid = True, max(paid or now, now) + datetime.timedelta(days=90)
        elif n % 11 == 0:
            active = False
        writer.writerow(
            [nik, name, birth.isoformat(), "L" if sex == "male" else "P", "aktif" if active else "non aktif"]
            + ["jkk,jkm", paid.isoformat() if paid else ""]
        )
    return out.getvalue().encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--apply", type=int, default=50_000)
    parser.add_argument("--reuse", type=int, default=None, help="apply from this reconciliation, no new check")
    args = parser.parse_args()
    actor = Actor(label="bench")
    if args.reuse is not None:
        apply(actor, Reconciliation.objects.get(pk=args.reuse), args.apply)
        return
    started = time.perf_counter()
    data = extract(args.rows)
    print(f"extract: {args.rows} rows, {len(data) / 1e6:.1f} MB, built in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    record = reconcile_services.reconciliation_record(actor=actor, file_name="bench.csv", data=data)
    print(f"reconcile (dry run, result written): {time.perf_counter() - started:.1f} s; counts {record.counts}")
    del data
    if args.apply:
        apply(actor, record, args.apply)


def apply(actor: Actor, record: Reconciliation, count: int) -> None:
    ids = list(
        ReconciliationRow.objects.filter(reconciliation=record)
        .filter(Q(outcome="activate") | Q(outcome="renew") | Q(outcome="lapse"))
        .order_by("id")
        .values_list("pk", flat=True)[:count]
    )
    started = time.perf_counter()
    applied = reconcile_services.reconciliation_apply(actor=actor, reconciliation=record, row_ids=ids)
    print(f"apply {len(ids)} accepted rows: {time.perf_counter() - started:.1f} s; {applied}")


if __name__ == "__main__":
    main()
