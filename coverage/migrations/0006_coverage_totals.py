"""Totals of all institutions per village and per regency, with the breakdowns a region's
detail shows (protected workers by funding source; unprotected wage earners and their wages),
filled from the worker rows as `counters_recount` fills them (the statements are copied here, as
they stood, so that this migration does not change with the code)."""

import django.db.models.deletion
from django.db import migrations, models

SOURCES = ("apbdes", "apbd_kabupaten", "apbd_provinsi", "self_paid")
COLUMNS = (
    "serving, protected, protected_apbdes, protected_apbd_kabupaten, protected_apbd_provinsi, protected_self_paid, "
    "protected_other, protected_unrecorded, unprotected_wage_earners, unprotected_wages"
)


def totals_filled(apps, schema_editor):
    quote = schema_editor.connection.ops.quote_name
    table = {
        name: quote(apps.get_model(*name.split(".", 1))._meta.db_table)
        for name in (
            "enrollment.ApparatusWorker",
            "enrollment.Enrollment",
            "coverage.VillageTotals",
            "coverage.RegencyTotals",
        )
    }
    active = "e.status = 'active'"
    earner = f"NOT ({active}) AND w.wage_basis = 'siltap' AND w.monthly_wage IS NOT NULL"
    known = ", ".join(f"'{s}'" for s in (*SOURCES, ""))
    funding = ", ".join(
        [f"SUM(CASE WHEN {active} AND e.funding_source = '{s}' THEN 1 ELSE 0 END)" for s in SOURCES]
        + [
            f"SUM(CASE WHEN {active} AND e.funding_source NOT IN ({known}) THEN 1 ELSE 0 END)",
            f"SUM(CASE WHEN {active} AND e.funding_source = '' THEN 1 ELSE 0 END)",
        ]
    )
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table['coverage.VillageTotals']} (village_id, district_id, regency_id, province_id, {COLUMNS}) "
            f"SELECT w.village_id, w.district_id, w.regency_id, w.province_id, COUNT(*), "
            f"SUM(CASE WHEN {active} THEN 1 ELSE 0 END), {funding}, "
            f"SUM(CASE WHEN {earner} THEN 1 ELSE 0 END), SUM(CASE WHEN {earner} THEN w.monthly_wage ELSE 0 END) "
            f"FROM {table['enrollment.ApparatusWorker']} w JOIN {table['enrollment.Enrollment']} e "
            "ON e.worker_id = w.id WHERE w.serving AND w.term_started "
            "GROUP BY w.village_id, w.district_id, w.regency_id, w.province_id ORDER BY w.regency_id, w.village_id"
        )
        sums = ", ".join(f"SUM({c.strip()})" for c in COLUMNS.split(","))
        cursor.execute(
            f"INSERT INTO {table['coverage.RegencyTotals']} (regency_id, province_id, {COLUMNS}) "
            f"SELECT regency_id, province_id, {sums} FROM {table['coverage.VillageTotals']} "
            "GROUP BY regency_id, province_id"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("coverage", "0005_data_version"),
        ("villages", "0006_boundary_paths_in_grid_units"),
        ("enrollment", "0011_reconciliation"),
    ]

    operations = [
        migrations.CreateModel(
            name="RegencyTotals",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("serving", models.IntegerField(default=0, verbose_name="serving")),
                ("protected", models.IntegerField(default=0, verbose_name="protected")),
                ("protected_apbdes", models.IntegerField(default=0)),
                ("protected_apbd_kabupaten", models.IntegerField(default=0)),
                ("protected_apbd_provinsi", models.IntegerField(default=0)),
                ("protected_self_paid", models.IntegerField(default=0)),
                ("protected_other", models.IntegerField(default=0)),
                ("protected_unrecorded", models.IntegerField(default=0)),
                ("unprotected_wage_earners", models.IntegerField(default=0)),
                ("unprotected_wages", models.BigIntegerField(default=0)),
                (
                    "province",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="villages.province",
                    ),
                ),
                (
                    "regency",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="coverage_totals",
                        to="villages.regency",
                    ),
                ),
            ],
            options={
                "verbose_name": "regency coverage totals",
                "verbose_name_plural": "regency coverage totals",
                "indexes": [models.Index(fields=["province", "regency"], name="regency_totals_province_idx")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("protected__gte", 0), ("protected__lte", models.F("serving"))),
                        name="regency_totals_in_range",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="VillageTotals",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("serving", models.IntegerField(default=0, verbose_name="serving")),
                ("protected", models.IntegerField(default=0, verbose_name="protected")),
                ("protected_apbdes", models.IntegerField(default=0)),
                ("protected_apbd_kabupaten", models.IntegerField(default=0)),
                ("protected_apbd_provinsi", models.IntegerField(default=0)),
                ("protected_self_paid", models.IntegerField(default=0)),
                ("protected_other", models.IntegerField(default=0)),
                ("protected_unrecorded", models.IntegerField(default=0)),
                ("unprotected_wage_earners", models.IntegerField(default=0)),
                ("unprotected_wages", models.BigIntegerField(default=0)),
                (
                    "district",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="villages.district",
                    ),
                ),
                (
                    "province",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="villages.province",
                    ),
                ),
                (
                    "regency",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="villages.regency",
                    ),
                ),
                (
                    "village",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="coverage_totals",
                        to="villages.village",
                    ),
                ),
            ],
            options={
                "verbose_name": "village coverage totals",
                "verbose_name_plural": "village coverage totals",
                "indexes": [
                    models.Index(fields=["regency", "village"], name="village_totals_regency_idx"),
                    models.Index(fields=["district", "village"], name="village_totals_district_idx"),
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("protected__gte", 0), ("protected__lte", models.F("serving"))),
                        name="village_totals_in_range",
                    )
                ],
            },
        ),
        migrations.RunPython(totals_filled, migrations.RunPython.noop),
    ]
