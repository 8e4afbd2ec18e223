"""Coverage rows are represented without the serializer's field machinery (too slow for a
regency's hundreds of villages): the representation must stay exactly the serializer's, which
documents it in the schema."""

from __future__ import annotations

from decimal import Decimal

import pytest

from coverage.api.serializers import CoverageRowSerializer
from coverage.api.views import coverage_row_data
from coverage.selectors.rows import CoverageFigures


@pytest.mark.parametrize(
    ("serving", "protected", "target"),
    [(0, 0, None), (3, 1, Decimal("55.00")), (8840, 2934, Decimal("53.00")), (7, 7, Decimal("0.00")), (1, 0, None)],
)
def test_a_row_is_represented_as_the_serializer_represents_it(serving, protected, target):
    row = CoverageFigures(serving=serving, protected=protected, target_pct=target, code="15.08", name="Kabupaten Bungo")

    assert coverage_row_data(row) == dict(CoverageRowSerializer(row).data)
    assert list(coverage_row_data(row)) == list(CoverageRowSerializer(row).data)


def test_rows_are_written_as_json_exactly_as_drfs_renderer_writes_their_representation():
    """Every combination of counts up to 60 workers and a range of targets (the roundings of the
    percentage and of the gap half up included), and names JSON must escape."""
    from rest_framework.renderers import JSONRenderer

    from coverage.api.views import coverage_rows_json

    targets = [None, Decimal("0.00"), Decimal("12.50"), Decimal("33.33"), Decimal("53.00"), Decimal("99.99")]
    names = ['Desa "Baru"', "Sungai Ba\\ng", "Pulau\u2028Tujuh", "Kampung Élok", "Tanjung\tJabung"]
    rows = [
        CoverageFigures(serving, protected, targets[i % len(targets)], f"15.08.01.{i:04d}", names[i % len(names)])
        for i, (serving, protected) in enumerate((s, p) for s in range(61) for p in range(s + 1))
    ]
    rows.append(CoverageFigures(5_124_764, 2_017_331, Decimal("55.00"), "11", "Aceh"))

    expected = JSONRenderer().render([coverage_row_data(row) for row in rows])
    assert coverage_rows_json(rows).encode() == expected
    assert coverage_rows_json(list(reversed(rows))[::-1]).encode() == expected  # the rows' texts kept
    assert coverage_rows_json([]) == "[]"
    # A target written with other decimals is the same target, and the same text.
    same = [CoverageFigures(40, 21, Decimal(text), "15.08", "Kabupaten Bungo") for text in ("53", "53.0", "53.00")]
    assert {coverage_rows_json([row]) for row in same} == {JSONRenderer().render([coverage_row_data(same[2])]).decode()}
