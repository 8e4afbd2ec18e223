"""Enumerations of apparatus workers and their BPJS Ketenagakerjaan enrollment."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Sex(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class Institution(models.TextChoices):
    PEMERINTAH_DESA = "pemerintah_desa", _("Village government")
    BPD = "bpd", _("Village consultative body (BPD)")
    RT = "rt", _("Neighbourhood unit (RT)")
    RW = "rw", _("Community unit (RW)")
    PKK = "pkk", _("Family welfare movement (PKK)")
    KARANG_TARUNA = "karang_taruna", _("Youth organisation (Karang Taruna)")
    POSYANDU = "posyandu", _("Integrated health post (Posyandu)")
    LPM = "lpm", _("Community empowerment institution (LPM)")
    LEMBAGA_ADAT = "lembaga_adat", _("Customary institution")
    LINMAS = "linmas", _("Community protection (Linmas)")
    OTHER = "other", _("Other")


class Position(models.TextChoices):
    KEPALA_DESA = "kepala_desa", _("Village head")
    SEKRETARIS_DESA = "sekretaris_desa", _("Village secretary")
    KEPALA_URUSAN = "kepala_urusan", _("Head of affairs (kaur)")
    KEPALA_SEKSI = "kepala_seksi", _("Head of section (kasi)")
    KEPALA_DUSUN = "kepala_dusun", _("Hamlet head")
    STAF = "staf", _("Staff")
    KETUA = "ketua", _("Chair")
    WAKIL_KETUA = "wakil_ketua", _("Vice chair")
    SEKRETARIS = "sekretaris", _("Secretary")
    BENDAHARA = "bendahara", _("Treasurer")
    ANGGOTA = "anggota", _("Member")
    KADER = "kader", _("Cadre")
    OTHER = "other", _("Other")


_BOARD: set[str] = {Position.KETUA, Position.WAKIL_KETUA, Position.SEKRETARIS, Position.BENDAHARA, Position.ANGGOTA}

# The positions each institution has; `other` accepts every position.
POSITIONS_BY_INSTITUTION: dict[str, set[str]] = {
    Institution.PEMERINTAH_DESA: {
        Position.KEPALA_DESA,
        Position.SEKRETARIS_DESA,
        Position.KEPALA_URUSAN,
        Position.KEPALA_SEKSI,
        Position.KEPALA_DUSUN,
        Position.STAF,
        Position.OTHER,
    },
    Institution.BPD: {Position.KETUA, Position.WAKIL_KETUA, Position.SEKRETARIS, Position.ANGGOTA},
    Institution.RT: {Position.KETUA, Position.SEKRETARIS, Position.BENDAHARA, Position.ANGGOTA},
    Institution.RW: {Position.KETUA, Position.SEKRETARIS, Position.BENDAHARA, Position.ANGGOTA},
    Institution.PKK: _BOARD | {Position.KADER},
    Institution.KARANG_TARUNA: _BOARD,
    Institution.POSYANDU: {Position.KETUA, Position.SEKRETARIS, Position.BENDAHARA, Position.KADER},
    Institution.LPM: _BOARD,
    Institution.LEMBAGA_ADAT: _BOARD,
    Institution.LINMAS: {Position.KETUA, Position.ANGGOTA},
    Institution.OTHER: set(Position.values),
}


class WageBasis(models.TextChoices):
    SILTAP = "siltap", _("Fixed income (siltap)")
    HONORARIUM = "honorarium", _("Honorarium")


class EnrollmentStatus(models.TextChoices):
    NOT_REGISTERED = "not_registered", _("Not registered")
    SUBMITTED = "submitted", _("Submitted")
    ACTIVE = "active", _("Active")
    LAPSED = "lapsed", _("Lapsed")
    ENDED = "ended", _("Ended")


class Scheme(models.TextChoices):
    PU = "pu", _("Wage earner (PU)")
    BPU = "bpu", _("Non-wage earner (BPU)")


class Program(models.TextChoices):
    JKK = "jkk", _("Work accident (JKK)")
    JKM = "jkm", _("Death (JKM)")
    JHT = "jht", _("Old-age savings (JHT)")
    JP = "jp", _("Pension (JP)")


class FundingSource(models.TextChoices):
    APBDES = "apbdes", _("Village budget (APBDes/ADD)")
    APBD_KABUPATEN = "apbd_kabupaten", _("Regency budget (APBD kabupaten)")
    APBD_PROVINSI = "apbd_provinsi", _("Province budget (APBD provinsi)")
    SELF_PAID = "self_paid", _("Self-paid")
    OTHER = "other", _("Other")


class EventKind(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    UPDATED = "updated", _("Data updated")
    SUBMITTED = "submitted", _("Submitted for enrollment")
    ACTIVATED = "activated", _("Membership activated")
    RENEWED = "renewed", _("Membership renewed")
    LAPSED = "lapsed", _("Membership lapsed")
    SERVICE_ENDED = "service_ended", _("Service ended")


class EventSource(models.TextChoices):
    API = "api", _("API")
    PORTAL = "portal", _("Portal")
    IMPORT = "import", _("Import")
    ADMIN = "admin", _("Admin")
    SYSTEM = "system", _("System")
    RECONCILIATION = "reconciliation", _("Reconciliation with BPJS Ketenagakerjaan")


class ReconciliationOutcome(models.TextChoices):
    """What a row of a BPJS extract says against the registry (see enrollment.reconciling)."""

    SAME = "same", _("Same")
    ACTIVATE = "activate", _("Activate")
    LAPSE = "lapse", _("Lapse")
    RENEW = "renew", _("Renew")
    NOT_IN_REGISTRY = "not_in_registry", _("Not in the registry")
    PROBABLE_MATCH = "probable_match", _("Probable match")
    BAD_ROW = "bad_row", _("Bad row")


class ReconciliationState(models.TextChoices):
    CHECKED = "checked", _("Checked")
    APPLIED = "applied", _("Applied")


class ReconciliationDecision(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
