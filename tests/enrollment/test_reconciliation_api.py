"""The reconciliation API through real HTTP: upload, scope (another branch's is not found),
masked rows, apply and its 409s, the template; and the matching's precision and recall."""

from __future__ import annotations

import datetime
import io
import random

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework.test import APIClient

from access.models import AccessProfile
from enrollment import reconciling
from enrollment.models import Enrollment
from tests.enrollment.test_reconciliation import BUNGO_VILLAGE, csv_file, line, register
from villages.models import BranchOffice, Regency


def client_of(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def officer(username: str, **profile):
    user = get_user_model().objects.create_user(username, password="x-Passw0rd!")
    AccessProfile.objects.create(user=user, **profile)
    return user


@pytest.fixture
def bungo_branch(regions):
    return officer("bpjs-bungo", role="branch_officer", branch=BranchOffice.objects.get(code="muara-bungo"))


@pytest.fixture
def kerinci_branch(regions):
    branch = BranchOffice.objects.create(code="sungai-penuh", name="Cabang Sungai Penuh")
    branch.regencies.set(Regency.objects.filter(code="15.01"))
    return officer("bpjs-kerinci", role="branch_officer", branch=branch)


def upload(client, data: bytes, name: str = "bpjs.csv", **fields):
    file = io.BytesIO(data)
    file.name = name
    return client.post(reverse("reconciliation-list"), {"file": file, **fields}, format="multipart")


def test_upload_list_rows_and_apply_then_409(bungo_branch, kerinci_branch, today):
    worker = register(BUNGO_VILLAGE, 1)
    client = client_of(bungo_branch)
    response = upload(client, csv_file([line(worker, paid_until=today + datetime.timedelta(days=30))]))
    assert response.status_code == 201
    body = response.json()
    assert body["counts"]["activate"] == 1
    detail = reverse("reconciliation-detail", args=[body["id"]])
    assert client.get(detail).status_code == 200
    assert client.get(reverse("reconciliation-list")).json()["count"] == 1
    rows = client.get(reverse("reconciliation-rows", args=[body["id"]]), {"outcome": "activate"})
    assert rows.status_code == 200
    assert rows.json()["results"][0]["nik"] == worker.nik  # a branch officer sees personal data
    # Another branch neither sees nor applies it.
    other = client_of(kerinci_branch)
    assert other.get(detail).status_code == 404
    assert other.get(reverse("reconciliation-list")).json()["count"] == 0
    assert other.post(reverse("reconciliation-apply", args=[body["id"]]), {"outcomes": ["activate"]}).status_code == 404
    applied = client.post(reverse("reconciliation-apply", args=[body["id"]]), {"outcomes": ["activate"]})
    assert applied.status_code == 200
    assert applied.json() == {"activate": 1, "renew": 0, "lapse": 0}
    shown = client.get(reverse("worker-detail", args=[worker.pk])).json()["enrollment"]
    assert shown["evidence"] == {"kind": "reconciliation", "reconciliation": body["id"]}
    assert shown["kpj_number"] is None
    again = client.post(reverse("reconciliation-apply", args=[body["id"]]), {"outcomes": ["activate"]})
    assert again.status_code == 409
    assert again.json()["errors"][0]["code"] == "already_applied"


def test_a_branch_cannot_reconcile_another_branchs_territory(bungo_branch, kerinci_branch, today):
    worker = register(BUNGO_VILLAGE, 1)
    response = upload(client_of(kerinci_branch), csv_file([line(worker, paid_until=today)]))
    assert response.status_code == 201
    assert response.json()["counts"]["bad_row"] == 1
    assert Enrollment.objects.get(pk=worker.pk).status == "not_registered"


def test_rows_are_masked_for_a_province_officer_without_the_right_and_apply_needs_manage_enrollment(regions, today):
    from villages.models import Province

    worker = register(BUNGO_VILLAGE, 1)
    province = officer("dpmd-jambi", role="province_officer", province=Province.objects.get(code="15"))
    client = client_of(province)
    response = upload(client, csv_file([line(worker, paid_until=today + datetime.timedelta(days=30))]))
    assert response.status_code == 201
    rows = client.get(reverse("reconciliation-rows", args=[response.json()["id"]])).json()["results"]
    activation = next(row for row in rows if row["outcome"] == "activate")
    assert activation["nik"] == worker.nik[:4] + "*" * 12
    assert activation["birth_date"] is None
    apply = client.post(reverse("reconciliation-apply", args=[response.json()["id"]]), {"outcomes": ["activate"]})
    assert apply.status_code == 403


def test_rows_as_xlsx_and_the_templates(bungo_branch, today):
    worker = register(BUNGO_VILLAGE, 1)
    client = client_of(bungo_branch)
    record = upload(client, csv_file([line(worker, paid_until=today + datetime.timedelta(days=30))])).json()
    xlsx = client.get(reverse("reconciliation-rows", args=[record["id"]]), {"format": "xlsx"})
    assert xlsx.status_code == 200
    assert b"".join(xlsx.streaming_content)[:2] == b"PK"
    template = client.get(reverse("reconciliation-template"))
    assert template.status_code == 200
    assert template.content[:2] == b"PK"
    template_csv = client.get(reverse("reconciliation-template"), {"format": "csv"})
    assert template_csv.status_code == 200
    assert template_csv.content.startswith(b"nik,nama,tanggal_lahir")
    # The template, filled in, is an extract the upload takes.
    assert upload(client, template.content, "template.xlsx").status_code == 201


def test_a_refused_file_is_400_naming_the_file(bungo_branch):
    response = upload(client_of(bungo_branch), b"NIK,Nama\n1,2\n")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "file"
    assert response.json()["errors"][0]["code"] == "missing_columns"


def test_probable_match_precision_and_recall_on_typos():
    """A registry of 2,000 people; an extract of 300 of them with one typed NIK digit (substituted
    or two swapped) or a typo in the name (exact NIK missing: a NIK of another region), and 300
    people not in the registry born the same days. Each should find its person, and only it."""
    rng = random.Random(18)
    first = ["Budi", "Siti", "Agus", "Dewi", "Rina", "Joko", "Sri", "Andi", "Nur", "Ahmad", "Putri", "Yusuf"]
    last = ["Santoso", "Rahmawati", "Hidayat", "Lestari", "Saputra", "Wibowo", "Pratama", "Kurniawan", "Sari"]
    births = [datetime.date(1960, 1, 1) + datetime.timedelta(days=rng.randrange(12000)) for _ in range(400)]
    workers = []
    for n in range(2000):
        birth = rng.choice(births)
        sex = rng.choice(["male", "female"])
        nik = f"1508{rng.randrange(10**12):012d}"
        name = f"{rng.choice(first)} {rng.choice(last)} {rng.choice(first)}"
        workers.append((n + 1, nik, "not_registered", None, None, birth, sex, name, 1))
    registry = reconciling.Registry(workers)
    truth: list[int | None] = []
    rows = []
    for n, worker in enumerate(rng.sample(workers, 300)):
        nik, name = worker[1], worker[7]
        if n % 3 == 0:
            i = rng.randrange(16)
            nik = nik[:i] + str((int(nik[i]) + 1) % 10) + nik[i + 1 :]
        elif n % 3 == 1:
            i = rng.randrange(15)
            nik = nik[:i] + nik[i + 1] + nik[i] + nik[i + 2 :] if nik[i] != nik[i + 1] else "1601" + nik[4:]
        else:
            nik = "1601" + nik[4:]
            i = rng.randrange(len(name))
            name = name[:i] + name[i + 1 :]  # a letter dropped
        rows.append((nik, name, worker[5], worker[6]))
        truth.append(worker[0])
    for _ in range(300):
        name = f"{rng.choice(first)} {rng.choice(last)} {rng.choice(first)}"
        rows.append((f"1609{rng.randrange(10**12):012d}", name, rng.choice(births), rng.choice(["male", "female"])))
        truth.append(None)
    true_positive = false_positive = 0
    for (nik, name, birth, sex), expected in zip(rows, truth, strict=True):
        row = reconciling.ExtractRow(0, nik, name, birth, sex, "aktif", True, ["jkk", "jkm"], None, "", "", "")
        candidates = registry.probable(row, matched=set())
        best = candidates[0]["worker"] if candidates else None
        if best is not None and best == expected:
            true_positive += 1
        elif best is not None:
            false_positive += 1
    precision = true_positive / max(true_positive + false_positive, 1)
    recall = true_positive / 300
    print(f"probable matches: precision {precision:.3f}, recall {recall:.3f}")
    assert precision >= 0.9
    assert recall >= 0.8


def test_a_branch_clerk_applies_its_territory_of_a_province_officers_reconciliation(
    bungo_branch, kerinci_branch, today
):
    from tests.enrollment.test_reconciliation import KERINCI_VILLAGE
    from villages.models import Province

    bungo, kerinci = register(BUNGO_VILLAGE, 1), register(KERINCI_VILLAGE, 2)
    province = officer("dpmd-jambi", role="province_officer", province=Province.objects.get(code="15"))
    paid = today + datetime.timedelta(days=30)
    record = upload(client_of(province), csv_file([line(bungo, paid_until=paid), line(kerinci, paid_until=paid)]))
    assert record.status_code == 201
    assert record.json()["counts"]["activate"] == 2
    rows_url = reverse("reconciliation-rows", args=[record.json()["id"]])
    apply_url = reverse("reconciliation-apply", args=[record.json()["id"]])
    clerk = client_of(bungo_branch)
    seen = clerk.get(rows_url).json()
    assert [row["worker"] for row in seen["results"]] == [bungo.pk]
    assert clerk.post(apply_url, {"outcomes": ["activate"]}).json() == {"activate": 1, "renew": 0, "lapse": 0}
    assert Enrollment.objects.get(pk=bungo.pk).status == "active"
    assert Enrollment.objects.get(pk=kerinci.pk).status == "not_registered"
    other_row = client_of(kerinci_branch).get(rows_url).json()["results"][0]["id"]
    assert clerk.post(apply_url, {"rows": [other_row]}).status_code == 404


def test_list_and_rows_take_the_same_queries_whatever_the_rows(bungo_branch, today):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_of(bungo_branch)
    paid = today + datetime.timedelta(days=30)

    def queries() -> tuple[int, int]:
        last = client.get(reverse("reconciliation-list")).json()["results"][0]["id"]
        with CaptureQueriesContext(connection) as listed:
            assert client.get(reverse("reconciliation-list")).status_code == 200
        with CaptureQueriesContext(connection) as rows:
            assert client.get(reverse("reconciliation-rows", args=[last])).status_code == 200
        return len(listed), len(rows)

    assert upload(client, csv_file([line(register(BUNGO_VILLAGE, 1), paid_until=paid)])).status_code == 201
    few = queries()
    workers = [register(BUNGO_VILLAGE, n) for n in range(2, 7)]
    for _ in range(4):
        assert upload(client, csv_file([line(w, paid_until=paid) for w in workers])).status_code == 201
    assert queries() == few
