"""demo_bpjs_extract: a deterministic BPJS extract of the demo branch's territory in which, once
reconciled, every outcome appears, as many times as the command says it planned."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from enrollment import reconcile_services
from enrollment.choices import EventSource, ReconciliationOutcome
from enrollment.recording import Actor
from seed.bpjs_extract import bpjs_extract

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    call_command("load_demo", stdout=io.StringIO())


def test_the_extract_is_deterministic_and_every_outcome_appears_when_reconciled(demo, tmp_path):
    first, second, book = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.xlsx"
    said = io.StringIO()

    call_command("demo_bpjs_extract", "--branch", "muara-bungo", "--out", str(first), stdout=said)
    call_command("demo_bpjs_extract", "--out", str(second), stdout=io.StringIO())
    call_command("demo_bpjs_extract", "--out", str(book), stdout=io.StringIO())
    record = reconcile_services.reconciliation_record(
        actor=Actor(user=get_user_model().objects.get(username="bpjs.muarabungo"), source=EventSource.RECONCILIATION),
        file_name=first.name,
        data=first.read_bytes(),
        nik_hashed=False,
    )

    assert first.read_bytes() == second.read_bytes()
    assert str(first.resolve()) in said.getvalue()
    rows = list(load_workbook(book, read_only=True).worksheets[0].values)
    assert [[cell or "" for cell in row] for row in rows] == bpjs_extract(branch_code="muara-bungo").rows
    assert set(record.counts) == set(ReconciliationOutcome.values)
    assert all(count > 0 for count in record.counts.values())
    assert record.counts == bpjs_extract(branch_code="muara-bungo").planned


def test_an_unknown_branch_or_file_kind_is_refused(db, tmp_path):
    with pytest.raises(CommandError, match="no such branch"):
        call_command("demo_bpjs_extract", "--branch", "nowhere", "--out", str(tmp_path / "x.csv"))
    with pytest.raises(CommandError, match=r"\.csv or \.xlsx"):
        call_command("demo_bpjs_extract", "--out", str(tmp_path / "x.txt"))
