"""Region files and database snapshots shared by the region import tests."""

from tests.conftest import FIXTURES
from villages.models import District, Province, Regency, Village

SMALL_CSV = FIXTURES / "regions_small.csv"
REGION_MODELS = (Province, Regency, District, Village)


def csv_bytes(*rows: str | bytes, header: str | bytes = "code,name") -> bytes:
    """A region file: the header on line 1, then one row per line (line 2, 3, ...)."""
    lines = [header, *rows]
    return b"\n".join(line if isinstance(line, bytes) else line.encode() for line in lines) + b"\n"


def small_rows() -> list[bytes]:
    """The data rows of tests/fixtures/regions_small.csv (file line = index + 2)."""
    return SMALL_CSV.read_bytes().splitlines()[1:]


def region_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in REGION_MODELS}


def region_snapshot() -> dict[str, list[tuple]]:
    """Every region's key, code, name and parents: what an import may (not) have changed."""
    return {
        "Province": list(Province.objects.order_by("code").values_list("pk", "code", "name")),
        "Regency": list(Regency.objects.order_by("code").values_list("pk", "code", "name", "kind", "province__code")),
        "District": list(
            District.objects.order_by("code").values_list("pk", "code", "name", "regency__code", "province__code")
        ),
        "Village": list(
            Village.objects.order_by("code").values_list(
                "pk", "code", "name", "kind", "district__code", "regency__code", "province__code"
            )
        ),
    }
