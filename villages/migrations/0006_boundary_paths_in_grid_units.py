"""Outlines' SVG paths in whole units of their detail's grid, as relative steps (villages.geometry):
recomputed from the stored GeoJSON of each outline, which is unchanged."""

import json

from django.db import migrations


def recompute(apps, schema_editor):
    from villages.geometry import DECIMALS, svg_path

    Boundary = apps.get_model("villages", "Boundary")
    batch = []
    for boundary in Boundary.objects.only("pk", "detail", "geometry").iterator(chunk_size=2000):
        boundary.path = svg_path(json.loads(boundary.geometry)["coordinates"], DECIMALS[boundary.detail])
        batch.append(boundary)
        if len(batch) == 2000:
            Boundary.objects.bulk_update(batch, ["path"])
            batch = []
    Boundary.objects.bulk_update(batch, ["path"])


class Migration(migrations.Migration):
    dependencies = [("villages", "0005_regions_in_force_dates")]

    operations = [migrations.RunPython(recompute, migrations.RunPython.noop)]
