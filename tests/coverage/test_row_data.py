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
