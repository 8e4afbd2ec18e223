"""Data shipped with the project (sources and licenses: SOURCE.md and LICENSE beside this file):
the official Kemendagri region list, and boundaries simplified for maps (provinces, regencies
and districts nationally; the villages of the demo province, Jambi). Built from the sources by
`python -m villages.data.build SOURCE_DIR`."""

from pathlib import Path

HERE = Path(__file__).resolve().parent
REGIONS = HERE / "regions.csv.gz"
BOUNDARIES = HERE / "boundaries"
DEMO_PROVINCE = "15"
SHIPPED_BOUNDARIES = (
    BOUNDARIES / "provinces.geojson.gz",
    BOUNDARIES / "regencies.geojson.gz",
    BOUNDARIES / "districts.geojson.gz",
    BOUNDARIES / f"villages-{DEMO_PROVINCE}.geojson.gz",
)
