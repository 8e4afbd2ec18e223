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


def _region_rows():
    from coverage.selectors.rows import RegionRows

    targets = [None, Decimal("53.00"), Decimal("12.50")]
    regions = [(100 + i, f"15.08.01.{2000 + i}", f"Desa {i}", 15, 1508, targets[i % 3]) for i in range(12)]
    figures = {100 + i: (3 * i, i) for i in range(12) if i % 4}  # every fourth has no workers: no figures
    return RegionRows(regions, figures)


def test_todays_rows_are_a_sequence_of_the_rows_they_stand_for():
    """coverage.selectors.rows.RegionRows: the regions and their figures, rows made when asked
    for; a page of them is still not made, and written as JSON as the rows would be."""
    from django.core.cache import caches
    from rest_framework.renderers import JSONRenderer

    from coverage.api.views import coverage_rows_json
    from coverage.selectors.rows import RegionRows

    rows = _region_rows()
    made = [
        CoverageFigures(3 * i if i % 4 else 0, i if i % 4 else 0, region[5], region[1], region[2])
        for i, region in enumerate(rows._regions)
    ]

    assert len(rows) == 12
    assert list(rows) == made
    assert rows == made
    assert rows[5] == made[5]
    assert rows[-1] == made[-1]
    page = rows[3:7]
    assert isinstance(page, RegionRows)
    assert page == made[3:7]
    assert rows[10:20] == made[10:]
    assert coverage_rows_json(page) == coverage_rows_json(made[3:7])
    assert coverage_rows_json(rows).encode() == JSONRenderer().render([coverage_row_data(row) for row in made])
    assert coverage_rows_json(rows[12:]) == "[]"
    # Kept in the answers' cache as any value is (pickled), and read back the same.
    caches["coverage"].set("region-rows", rows)
    assert caches["coverage"].get("region-rows") == made


def test_a_json_page_of_todays_rows_makes_no_row(monkeypatch):
    """The API writes a page of today's rows from their figures: no row object is made for it
    (making a regency's 852 cost 0.5–0.75 ms a request)."""
    from coverage.api.views import coverage_rows_json
    from coverage.selectors import rows as rows_module

    rows = _region_rows()
    expected = coverage_rows_json(list(rows[2:9]))
    made = []

    class Counted(CoverageFigures):
        __slots__ = ()

        def __init__(self, *args, **kwargs):
            made.append(args)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(rows_module, "CoverageFigures", Counted)

    assert coverage_rows_json(rows[2:9]) == expected
    assert made == []
    assert list(rows[2:4]) == [rows_module.CoverageFigures(*made[0]), rows_module.CoverageFigures(*made[1])]


def test_a_pages_text_is_kept_while_its_regions_slice_and_figures_stay():
    """RegionRows.kept (the API's JSON of a page of today's rows): the same text for the same
    regions, slice and figures, made again when any of them is another; always the text of
    the rows it stands for."""
    from coverage.api.views import coverage_rows_json
    from coverage.selectors.rows import RegionRows

    rows = _region_rows()
    first = coverage_rows_json(rows[3:7])
    moved = dict(rows._figures)
    moved[105] = (15, 15)
    other_figures = RegionRows(rows._regions, moved)
    same_regions_again = RegionRows(list(rows._regions), rows._figures)

    assert coverage_rows_json(rows[3:7]) is first
    assert coverage_rows_json(rows[3:8]) == coverage_rows_json(list(rows[3:8])) != first
    assert coverage_rows_json(other_figures[3:7]) == coverage_rows_json(list(other_figures[3:7])) != first
    assert '"code":"15.08.01.2005","name":"Desa 5","serving":15,"protected":15' in coverage_rows_json(
        other_figures[3:7]
    )
    assert coverage_rows_json(same_regions_again[3:7]) == first
    assert coverage_rows_json(same_regions_again[3:7]) is not first  # another list: made again


def test_figures_read_again_the_same_are_the_same_dict_and_others_a_new_one():
    """coverage.selectors.rows._figures_of: what was made of a statement's figures is used again
    only while the statement reads the same rows."""
    from coverage.selectors.rows import _figures_of

    statement = ("default", "SELECT village_id, serving, protected FROM t WHERE regency_id = %s", 8)
    first = _figures_of(statement, [(1, 3, 1), (2, 5, 0)])
    again = _figures_of(statement, [(1, 3, 1), (2, 5, 0)])
    changed = _figures_of(statement, [(1, 3, 2), (2, 5, 0)])
    elsewhere = _figures_of((*statement[:2], 9), [(1, 3, 2), (2, 5, 0)])

    assert again is first
    assert first == {1: (3, 1), 2: (5, 0)}
    assert changed == {1: (3, 2), 2: (5, 0)}
    assert changed is not first
    assert elsewhere == changed
    assert elsewhere is not changed
    assert _figures_of(statement, [(1, 3, 2), (2, 5, 0)]) is changed
