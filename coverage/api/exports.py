"""Coverage in the standard aggregate formats other systems import: DHIS2 `dataValueSets` JSON and
IHE ADX XML.

Both carry the same values: for every region (org unit, by its Kemendagri code) and period, the
figures of the coverage rows (`coverage.selectors.exports`) as four data elements:

- `UCJ_SERVING`: village apparatus serving, a whole number;
- `UCJ_PROTECTED`: those of them protected (enrolled, premium paid), a whole number;
- `UCJ_UNPROTECTED`: serving minus protected, a whole number;
- `UCJ_TARGET_PCT`: the region's coverage target for the period's year, a percentage (0-100),
  its own or its nearest ancestor's, as the rows' `target_pct`; no value for a region without one.

Shapes followed (checked in tests/coverage/test_exports.py):
- DHIS2 Web API, "Data values" / "Sending large bulks of data values": a data value set
  `{"dataSet", "dataValues": [{"dataElement", "period", "orgUnit", "value"}]}`, each value naming
  its own period and org unit, values as text; periods as DHIS2's "Date and period format" writes
  them (`yyyyMM`, `yyyyQn`, `yyyy`); identifiers by code (import with `idScheme=CODE`).
- IHE QRPH ADX (trial implementation), as DHIS2's "ADX data format" section shows it: a root
  `adx` in the namespace `urn:ihe:qrph:adx:2015` with an `exported` time, `group` elements with
  `orgUnit`, `period` (ISO 8601 start/duration: `2024-12-01/P1M`) and `dataSet`, holding
  `dataValue` elements with `dataElement` and a numeric `value`.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree

from core.api.renderers import ComposedRenderer
from coverage.selectors.exports import Period, PeriodRows
from coverage.selectors.rows import CoverageFigures

ADX_NAMESPACE = "urn:ihe:qrph:adx:2015"
ADX_MEDIA_TYPE = "application/adx+xml"
SERVING, PROTECTED, UNPROTECTED, TARGET_PCT = "UCJ_SERVING", "UCJ_PROTECTED", "UCJ_UNPROTECTED", "UCJ_TARGET_PCT"
DATA_ELEMENTS = (SERVING, PROTECTED, UNPROTECTED, TARGET_PCT)


def percent_text(value: Decimal) -> str:
    """A percentage as a plain decimal, without trailing zeros: `55`, `52.5`."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def figures_of(row: CoverageFigures) -> list[tuple[str, str]]:
    """(data element, value) of a region's row: the three counts, and its target when it has one."""
    values = [(SERVING, str(row.serving)), (PROTECTED, str(row.protected)), (UNPROTECTED, str(row.unprotected))]
    if row.target_pct is not None:
        values.append((TARGET_PCT, percent_text(row.target_pct)))
    return values


def groups(found: list[PeriodRows]) -> Iterator[tuple[Period, str, list[tuple[str, str]]]]:
    """(period, org unit code, its values) in period then code order."""
    for period_rows in found:
        for row in period_rows.rows:
            yield period_rows.period, row.code, figures_of(row)


def data_value_set(found: list[PeriodRows], *, data_set: str) -> dict[str, Any]:
    """The figures as a DHIS2 data value set."""
    return {
        "dataSet": data_set,
        "dataValues": [
            {"dataElement": element, "period": period.dhis2, "orgUnit": code, "value": value}
            for period, code, values in groups(found)
            for element, value in values
        ],
    }


def adx_document(found: list[PeriodRows], *, data_set: str, exported: datetime.datetime) -> bytes:
    """The figures as an ADX message (UTF-8 XML), one group per region and period."""
    # The namespace declared as the default one (`<adx xmlns="urn:ihe:qrph:adx:2015">`), the
    # elements unprefixed under it and their attributes unqualified, as ADX writes them
    # (ElementTree's `default_namespace` refuses unqualified attributes).
    exported_at = exported.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    root = ElementTree.Element("adx", {"xmlns": ADX_NAMESPACE, "exported": exported_at})
    for period, code, values in groups(found):
        group = ElementTree.SubElement(root, "group", {"orgUnit": code, "period": period.iso, "dataSet": data_set})
        for element, value in values:
            ElementTree.SubElement(group, "dataValue", {"dataElement": element, "value": value})
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


class ADXRenderer(ComposedRenderer):
    """ADX XML, composed by the view."""

    media_type = ADX_MEDIA_TYPE
    format = "adx"
