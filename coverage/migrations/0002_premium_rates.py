"""The contribution rates in force, as data: PU JKK (lowest risk class) 0.24%, JKM 0.30%,
JHT 5.7%, JP 3% of the monthly wage; BPU JKK Rp10,000 + JKM Rp6,800 a month."""

import datetime
from decimal import Decimal

from django.db import migrations

RATES = [
    ("pu", "jkk", "percent", Decimal("0.24")),
    ("pu", "jkm", "percent", Decimal("0.30")),
    ("pu", "jht", "percent", Decimal("5.70")),
    ("pu", "jp", "percent", Decimal("3.00")),
    ("bpu", "jkk", "fixed", Decimal("10000")),
    ("bpu", "jkm", "fixed", Decimal("6800")),
]
VALID_FROM = datetime.date(2015, 7, 1)


def add_rates(apps, schema_editor):
    PremiumRate = apps.get_model("coverage", "PremiumRate")
    for scheme, program, kind, value in RATES:
        PremiumRate.objects.get_or_create(
            scheme=scheme, program=program, valid_from=VALID_FROM, defaults={"kind": kind, "value": value}
        )


def remove_rates(apps, schema_editor):
    PremiumRate = apps.get_model("coverage", "PremiumRate")
    PremiumRate.objects.filter(valid_from=VALID_FROM).delete()


class Migration(migrations.Migration):
    dependencies = [("coverage", "0001_initial")]

    operations = [migrations.RunPython(add_rates, remove_rates)]
