"""The Jambi Province demo data set: real codes and names of the province and its
regencies/cities, and its two BPJS Ketenagakerjaan branch offices."""

from django.contrib.auth import get_user_model
from django.db import transaction

from .models import BranchOffice, Province, Regency, regency_kind_for_code

JAMBI = ("15", "Jambi")
JAMBI_REGENCIES = [
    ("15.01", "Kabupaten Kerinci"),
    ("15.02", "Kabupaten Merangin"),
    ("15.03", "Kabupaten Sarolangun"),
    ("15.04", "Kabupaten Batanghari"),
    ("15.05", "Kabupaten Muaro Jambi"),
    ("15.06", "Kabupaten Tanjung Jabung Barat"),
    ("15.07", "Kabupaten Tanjung Jabung Timur"),
    ("15.08", "Kabupaten Bungo"),
    ("15.09", "Kabupaten Tebo"),
    ("15.71", "Kota Jambi"),
    ("15.72", "Kota Sungai Penuh"),
]
MUARA_BUNGO_REGENCIES = {"15.02", "15.08"}
BRANCHES = [
    ("jambi", "BPJS Ketenagakerjaan Cabang Jambi"),
    ("muara-bungo", "BPJS Ketenagakerjaan Cabang Muara Bungo"),
]
DEMO_ADMIN = "admin"


@transaction.atomic
def demo_load(*, admin_password: str) -> list[str]:
    """Create or refresh the demo regions, branches and admin user; idempotent."""
    province, _ = Province.objects.update_or_create(code=JAMBI[0], defaults={"name": JAMBI[1]})
    regencies = {}
    for code, name in JAMBI_REGENCIES:
        regencies[code], _ = Regency.objects.update_or_create(
            code=code,
            defaults={"name": name, "province": province, "kind": regency_kind_for_code(code)},
        )
    for code, name in BRANCHES:
        branch, _ = BranchOffice.objects.update_or_create(code=code, defaults={"name": name})
        served = [r for c, r in regencies.items() if (c in MUARA_BUNGO_REGENCIES) == (code == "muara-bungo")]
        branch.regencies.set(served)

    user_model = get_user_model()
    admin, created = user_model.objects.get_or_create(
        username=DEMO_ADMIN, defaults={"is_staff": True, "is_superuser": True}
    )
    if created or not admin.check_password(admin_password):
        admin.set_password(admin_password)
        admin.save(update_fields=["password"])
    return [
        f"Province {province.code} {province.name}: {len(regencies)} regencies/cities.",
        f"Branch offices: {', '.join(name for _, name in BRANCHES)}.",
        f"Admin login: {DEMO_ADMIN} / {admin_password}",
    ]
