"""Reading a BPJS Ketenagakerjaan extract and matching it with the registry: pure, no database.

`enrollment.reconcile_services` reads the registry's workers in the uploader's scope (one query,
values only) into a `Registry`, streams the file's rows through `ExtractReader` and `classify`,
and records the outcomes. Everything here works on plain values, so it is checked strictly and
tested without a database.

Outcomes (ReconciliationOutcome): `same` (nothing to do), `activate` (BPJS active, the registry
not protected), `lapse` (the registry active, BPJS inactive or not listing the person), `renew`
(paid-until later in BPJS), `not_in_registry`, `probable_match` (no NIK matches but someone in
scope looks like the person: for a person to check, never applied), `bad_row`.
"""

from __future__ import annotations

import datetime
import difflib
import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.utils.translation import gettext as _

from core.errors import ServiceError

from . import rules
from .choices import EnrollmentStatus, EventKind, Program, ReconciliationOutcome, Scheme, Sex
from .imports import ImportFileError, date_cell, formula_like, quoted
from .nik import nik_compact, nik_problems

Out = ReconciliationOutcome
ACTIVE = str(EnrollmentStatus.ACTIVE)
LAPSED = str(EnrollmentStatus.LAPSED)

# The extract's columns: each accepted header (lower case, spaces and dashes as "_") and its column.
HEADERS: dict[str, str] = {
    **dict.fromkeys(["nik", "no_nik", "nomor_nik"], "nik"),
    **dict.fromkeys(["nik_hash", "hash_nik"], "nik_hash"),
    **dict.fromkeys(["nama", "name", "nama_lengkap", "full_name", "nama_peserta"], "full_name"),
    **dict.fromkeys(["tanggal_lahir", "tgl_lahir", "birth_date", "date_of_birth"], "birth_date"),
    **dict.fromkeys(["jenis_kelamin", "sex", "jk", "gender"], "sex"),
    **dict.fromkeys(["status", "status_kepesertaan", "membership_status"], "status"),
    **dict.fromkeys(["program", "programs", "program_kepesertaan"], "programs"),
    **dict.fromkeys(["bayar_sampai", "paid_until", "iuran_sampai", "dibayar_sampai"], "paid_until"),
    **dict.fromkeys(["kpj", "kpj_number", "no_kpj", "nomor_kpj"], "kpj_number"),
    **dict.fromkeys(["npp"], "npp"),
    **dict.fromkeys(["nama_pemberi_kerja", "employer_name", "pemberi_kerja", "employer"], "employer_name"),
}
REQUIRED = ("full_name", "birth_date", "status", "programs", "paid_until")
# BPJS's statuses, as its extracts spell them (lower case, spaces collapsed): active or not.
STATUSES: dict[str, bool] = {
    "aktif": True,
    "active": True,
    "nonaktif": False,
    "non aktif": False,
    "non-aktif": False,
    "inactive": False,
    "tidak aktif": False,
    "meninggal": False,
    "meninggal dunia": False,
    "keluar": False,
    "pindah": False,
    "pindah perusahaan": False,
    "berhenti": False,
    "ended": False,
}
SEXES: dict[str, str] = {
    **dict.fromkeys(["l", "lk", "laki-laki", "laki laki", "pria", "m", "male"], str(Sex.MALE)),
    **dict.fromkeys(["p", "pr", "perempuan", "wanita", "f", "female"], str(Sex.FEMALE)),
}
PROGRAMS = frozenset(Program.values)
NAME_THRESHOLD = 0.85  # a probable match's name similarity, with the same birth date (and sex)
NIK_NEAR_NAME_THRESHOLD = 0.6  # ... or with a NIK one typed digit away
HEX64 = re.compile(r"[0-9a-f]{64}")
MAX_TEXT = 150


def header_key(cell: Any) -> str:
    return re.sub(r"[\s\-]+", "_", str(cell).strip().lower()) if cell is not None else ""


def nik_hmac(secret: str, nik: str) -> str:
    """The keyed hash of a NIK both parties compute: HMAC-SHA256(secret, NIK), hex."""
    return hmac.new(secret.encode(), nik.encode(), hashlib.sha256).hexdigest()


def nik_sha256(nik: str) -> str:
    """The plain hash of a NIK, which a keyed-hash extract must not hold (easy to reverse)."""
    return hashlib.sha256(nik.encode()).hexdigest()


def name_key(name: str) -> str:
    """A name compared: accents, punctuation and case dropped, words sorted."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return " ".join(sorted(re.findall(r"[a-z0-9]+", text)))


def name_similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def nik_neighbours(nik: str) -> Iterator[str]:
    """Every NIK one typed digit away: one digit substituted, or two adjacent ones swapped."""
    digits = "0123456789"
    for i, own in enumerate(nik):
        for d in digits:
            if d != own:
                yield nik[:i] + d + nik[i + 1 :]
    for i in range(len(nik) - 1):
        if nik[i] != nik[i + 1]:
            yield nik[:i] + nik[i + 1] + nik[i] + nik[i + 2 :]


@dataclass(slots=True)
class ExtractRow:
    """One participant of the extract, its cells cleaned."""

    number: int
    nik: str  # the NIK, or its keyed hash
    full_name: str
    birth_date: datetime.date | None
    sex: str
    status_text: str
    active: bool
    programs: list[str]
    paid_until: datetime.date | None
    kpj_number: str
    npp: str
    employer_name: str


@dataclass(slots=True)
class Outcome:
    """What one row (or one worker the extract does not list) comes to."""

    outcome: str
    row: ExtractRow | None = None
    row_number: int | None = None
    worker_id: int | None = None
    worker_version: int | None = None
    proposed: str = ""
    proposed_values: dict[str, Any] = field(default_factory=dict)
    candidates: list[dict[str, Any]] = field(default_factory=list)
    column: str = ""
    message: str = ""


def bad(number: int | None, column: str, message: str, row: ExtractRow | None = None) -> Outcome:
    return Outcome(Out.BAD_ROW, row=row, row_number=number, column=column, message=quoted(message, 300))


class ExtractReader:
    """The extract's header, then each row as an `ExtractRow` or a bad row's `Outcome`."""

    def __init__(self, cells: list[Any], *, hashed: bool):
        self.hashed = hashed
        header = [header_key(cell) for cell in cells]
        while header and not header[-1]:
            header.pop()
        unknown = [h for h in header if h not in HEADERS]
        if unknown:
            raise ImportFileError(
                _("Unknown columns: %(columns)s. Use the template's headers.")
                % {"columns": quoted(", ".join(unknown))},
                code="unknown_columns",
            )
        columns = [HEADERS[h] for h in header]
        duplicated = sorted({c for c in columns if columns.count(c) > 1})
        if duplicated:
            raise ImportFileError(
                _("Columns appear twice: %(columns)s.") % {"columns": ", ".join(duplicated)}, code="duplicate_columns"
            )
        key = "nik_hash" if hashed else "nik"
        other = "nik" if hashed else "nik_hash"
        if other in columns:
            message = (
                _("A keyed-hash extract holds the column nik_hash, never the NIK itself.")
                if hashed
                else _("This extract holds hashed NIKs: upload it with nik_hashed=true.")
            )
            raise ImportFileError(message, code="wrong_nik_column")
        missing = [c for c in (key, *REQUIRED) if c not in columns]
        if missing:
            raise ImportFileError(
                _("Missing columns: %(columns)s.") % {"columns": ", ".join(missing)}, code="missing_columns"
            )
        self.width = len(columns)
        self.index = {column: i for i, column in enumerate(columns)}
        self.key = key

    def _cell(self, cells: list[Any], column: str) -> Any:
        i = self.index.get(column)
        return cells[i] if i is not None and i < len(cells) else None

    def _text(self, cells: list[Any], column: str) -> str:
        raw = self._cell(cells, column)
        if raw is None:
            return ""
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        return str(raw).strip()

    def row(self, number: int, cells: list[Any]) -> ExtractRow | Outcome:
        for column, i in self.index.items():
            raw = cells[i] if i < len(cells) else None
            if isinstance(raw, str):
                if "\x00" in raw:
                    return bad(number, column, _("The cell contains a NUL character, which is not allowed."))
                if formula_like(raw):
                    return bad(number, column, _("Formulas are not accepted; enter the value itself."))
                if len(raw) > MAX_TEXT:
                    return bad(number, column, _("At most %(n)d characters.") % {"n": MAX_TEXT})
        if len(cells) > self.width and any(c not in (None, "") for c in cells[self.width :]):
            return bad(number, "", _("The row has more cells than the header has columns."))
        raw_nik = self._cell(cells, self.key)
        if isinstance(raw_nik, (int, float)) and not isinstance(raw_nik, bool):
            return bad(number, self.key, _("Enter this number as text: a spreadsheet rounds long numbers."))
        nik = self._text(cells, self.key)
        if self.hashed:
            nik = nik.lower()
            if not HEX64.fullmatch(nik):
                return bad(number, "nik_hash", _("A keyed hash is 64 hexadecimal characters (HMAC-SHA256)."))
        else:
            nik = nik_compact(nik)
            if not nik:
                return bad(number, "nik", _("This column must be filled in."))
            problems = nik_problems(nik)
            if problems:
                return bad(number, "nik", problems[0].message)
        status_text = " ".join(self._text(cells, "status").lower().split())
        active = STATUSES.get(status_text)
        if active is None:
            allowed = ", ".join(sorted(STATUSES))
            return bad(
                number,
                "status",
                _("Unknown status %(value)r; known: %(allowed)s.") % {"value": quoted(status_text), "allowed": allowed},
            )
        full_name = self._text(cells, "full_name")
        if not full_name:
            return bad(number, "full_name", _("This column must be filled in."))
        try:
            birth_date = date_cell(self._cell(cells, "birth_date"))
        except ValueError as exc:
            return bad(number, "birth_date", str(exc))
        try:
            paid_until = date_cell(self._cell(cells, "paid_until"))
        except ValueError as exc:
            return bad(number, "paid_until", str(exc))
        sex_text = self._text(cells, "sex").lower()
        sex = SEXES.get(sex_text, "") if sex_text else ""
        if sex_text and not sex:
            return bad(number, "sex", _("Unknown sex %(value)r; use L or P.") % {"value": quoted(sex_text)})
        program_text = self._text(cells, "programs").lower()
        programs = sorted({p for p in re.split(r"[,;/ +]+", program_text) if p})
        unknown = [p for p in programs if p not in PROGRAMS]
        if unknown:
            return bad(
                number,
                "programs",
                _("Unknown programs: %(p)s (use jkk, jkm, jht, jp).") % {"p": quoted(", ".join(unknown))},
            )
        kpj = self._text(cells, "kpj_number")
        if kpj and not rules.KPJ_FULL_RE.fullmatch(kpj):
            return bad(number, "kpj_number", _("The KPJ number must have 11 digits."))
        npp = self._text(cells, "npp")
        if len(npp) > 20:
            return bad(number, "npp", _("Too long."))
        return ExtractRow(
            number=number,
            nik=nik,
            full_name=full_name,
            birth_date=birth_date,
            sex=sex,
            status_text=status_text,
            active=active,
            programs=programs or [str(Program.JKK), str(Program.JKM)],
            paid_until=paid_until,
            kpj_number=kpj,
            npp=npp,
            employer_name=self._text(cells, "employer_name"),
        )


class WorkerValues(NamedTuple):
    """A registry worker as `Registry` holds it (the query's values, in this order)."""

    id: int
    nik: str
    status: str
    paid_until: datetime.date | None
    coverage_start: datetime.date | None
    birth_date: datetime.date
    sex: str
    name: str
    version: int


class Registry:
    """The serving workers in the uploader's scope, by NIK (or by keyed hash of the NIK)."""

    def __init__(self, workers: Iterable[tuple[Any, ...]], *, secret: str | None = None):
        self.by_key: dict[str, WorkerValues] = {}
        self.secret = secret
        make = WorkerValues._make
        for values in workers:
            worker = make(values)
            key = worker.nik if secret is None else nik_hmac(secret, worker.nik)
            self.by_key[key] = worker
        self._by_birth: dict[datetime.date, list[WorkerValues]] | None = None

    def plain_hashes(self) -> set[str]:
        """The unkeyed SHA-256 of every NIK in scope: what a refused plain-hash extract would hold."""
        return {nik_sha256(worker.nik) for worker in self.by_key.values()}

    def by_birth(self) -> dict[datetime.date, list[WorkerValues]]:
        if self._by_birth is None:
            index: dict[datetime.date, list[WorkerValues]] = {}
            for worker in self.by_key.values():
                index.setdefault(worker.birth_date, []).append(worker)
            self._by_birth = index
        return self._by_birth

    def probable(self, row: ExtractRow, *, matched: set[int]) -> list[dict[str, Any]]:
        """Workers in scope who may be the row's person: the same birth date (and sex, if given)
        and a similar name, or (plain NIKs) a NIK one typed digit away and a name not unlike.
        Workers the extract matched exactly are left out. Best first."""
        found: dict[int, dict[str, Any]] = {}
        name = name_key(row.full_name)
        if row.birth_date is not None:
            for worker in self.by_birth().get(row.birth_date, ()):
                if worker.id in matched or (row.sex and row.sex != worker.sex):
                    continue
                score = name_similarity(name, name_key(worker.name))
                if score >= NAME_THRESHOLD:
                    found[worker.id] = {"worker": worker.id, "score": round(score, 3), "reason": "name_birth_date"}
        if self.secret is None:
            for nik in nik_neighbours(row.nik):
                near = self.by_key.get(nik)
                if near is None or near.id in matched or near.id in found:
                    continue
                score = name_similarity(name, name_key(near.name))
                if score >= NIK_NEAR_NAME_THRESHOLD or near.birth_date == row.birth_date:
                    found[near.id] = {"worker": near.id, "score": round(score, 3), "reason": "nik_typo"}
        return sorted(found.values(), key=lambda c: (-c["score"], c["worker"]))


def _checked(proposal: Outcome, check: Callable[[], None]) -> Outcome:
    """`proposal`, or a bad row naming what the transition's rules refuse in it."""
    try:
        check()
    except ServiceError as exc:
        errors = exc.errors
        first = errors[0] if errors else None
        column = first.field if first is not None and first.field else ""
        message = "; ".join(e.message for e in errors) if errors else exc.message
        return bad(proposal.row_number, column or "", message, proposal.row)
    return proposal


def classify(row: ExtractRow, worker: WorkerValues, *, upload_date: datetime.date) -> Outcome:
    """What a row matched to `worker` by NIK comes to (see the module's docstring)."""
    status, paid = worker.status, worker.paid_until
    base: dict[str, Any] = {
        "row": row,
        "row_number": row.number,
        "worker_id": worker.id,
        "worker_version": worker.version,
    }
    if not row.active:
        if status == ACTIVE:
            date = upload_date
            if row.paid_until is not None and row.paid_until < upload_date:
                date = max(row.paid_until + datetime.timedelta(days=1), worker.coverage_start or upload_date)
            return Outcome(
                Out.LAPSE, proposed=EventKind.LAPSED, proposed_values={"effective_date": date.isoformat()}, **base
            )
        return Outcome(Out.SAME, **base)
    if status in (ACTIVE, LAPSED):
        if row.paid_until is None or row.paid_until == paid:
            if status == ACTIVE:
                return Outcome(Out.SAME, **base)
            return bad(
                row.number, "paid_until", _("BPJS says active but gives no later paid-until to renew with."), row
            )
        if paid is not None and row.paid_until < paid:
            return bad(
                row.number,
                "paid_until",
                _("BPJS's paid-until (%(bpjs)s) is earlier than the registry's (%(registry)s): check it by hand.")
                % {"bpjs": row.paid_until.isoformat(), "registry": paid.isoformat()},
                row,
            )
        new_paid = row.paid_until
        start = worker.coverage_start or upload_date

        def check_renewal() -> None:
            rules.rule_paid_until_later(paid or start, new_paid)
            rules.rule_period(start, new_paid, upload_date, now=upload_date)

        proposal = Outcome(
            Out.RENEW,
            proposed=EventKind.RENEWED,
            proposed_values={"effective_date": upload_date.isoformat(), "paid_until": new_paid.isoformat()},
            **base,
        )
        return _checked(proposal, check_renewal)
    # Not protected in the registry (not registered, submitted): BPJS's word activates it.
    if row.paid_until is None:
        return bad(row.number, "paid_until", _("An active participant needs its paid-until to be activated."), row)
    scheme = str(Scheme.PU) if row.npp else str(Scheme.BPU)
    values = {
        "effective_date": upload_date.isoformat(),
        "coverage_start": upload_date.isoformat(),
        "paid_until": row.paid_until.isoformat(),
        "scheme": scheme,
        "npp": row.npp,
        "programs": row.programs,
        "kpj_number": row.kpj_number or None,
    }
    paid_until = row.paid_until

    def check_activation() -> None:
        rules.rule_membership(
            kpj_number=row.kpj_number or None, scheme=scheme, programs=row.programs, npp=row.npp, confirmed=True
        )
        rules.rule_period(upload_date, paid_until, upload_date, now=upload_date)

    return _checked(
        Outcome(Out.ACTIVATE, proposed=EventKind.ACTIVATED, proposed_values=values, **base), check_activation
    )


def not_listed(registry: Registry, *, seen: set[int], upload_date: datetime.date) -> Iterator[Outcome]:
    """The registry's active workers in scope the extract does not list: proposed lapses dated the
    upload date."""
    for worker in registry.by_key.values():
        if worker.status == ACTIVE and worker.id not in seen:
            yield Outcome(
                Out.LAPSE,
                worker_id=worker.id,
                worker_version=worker.version,
                proposed=EventKind.LAPSED,
                proposed_values={"effective_date": upload_date.isoformat()},
                message=_("Not listed by BPJS."),
            )


def counts(outcomes: Iterable[str]) -> dict[str, int]:
    """Counts by outcome, every outcome named."""
    tally = dict.fromkeys(Out.values, 0)
    for outcome in outcomes:
        tally[outcome] += 1
    return tally


def iso_date(value: Mapping[str, Any], key: str) -> datetime.date:
    """A proposal's date (stored as ISO text)."""
    return datetime.date.fromisoformat(str(value[key]))
