"""Coverage representations and the query parameters of the coverage endpoints."""

from typing import Any, TypedDict

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from core.api.fields import ChoiceField, RegionCodeField
from coverage.choices import CoverageKind, Interval, PeriodType
from coverage.models import Target, WorkforceFigure
from enrollment.choices import Institution
from villages.choices import RegionLevel
from villages.services import level_for_code

# Examples: Kabupaten Bungo (15.08) and its village Pedukun in the Jambi demo, on the report date.
BUNGO = {
    "code": "15.08",
    "name": "Kabupaten Bungo",
    "serving": 8840,
    "protected": 2934,
    "unprotected": 5906,
    "coverage_pct": 33.19,
    "target_pct": 55.0,
    "gap_to_target": 1928,
}
JAMBI_FIGURE = {
    "id": 3,
    "region_code": "15",
    "date": "2024-12-02",
    "potential_workers": 1312370,
    "active_participants": 592806,
    "source": "BPJS Ketenagakerjaan Jambi (demo data from the published report)",
}
JAMBI_ROW = {
    **JAMBI_FIGURE,
    "coverage_pct": 45.17,
    "previous_date": "2024-10-01",
    "change_pct_points": 3.79,
    "target_pct": 53.0,
    "gap_to_target": 102750,
    "rank": 1,
    "ranked_regions": 1,
}
BUNGO_FIGURE = {
    "region_code": "15.08",
    "date": "2024-12-02",
    "potential_workers": 76480,
    "active_participants": 31912,
    "source": "BPJS Ketenagakerjaan Cabang Muara Bungo",
}


def _example(name: str, summary: str, value: Any, **kwargs: Any) -> OpenApiExample:
    return OpenApiExample(name, summary=summary, value=value, **kwargs)


ROW_ORDERING = ["code", "name", "serving", "protected", "unprotected", "coverage_pct", "gap_to_target"]


@extend_schema_serializer(examples=[_example("bungo", "Kabupaten Bungo among Jambi's regencies", BUNGO)])
class CoverageRowSerializer(serializers.Serializer):
    """A region's coverage on a date: workers serving, protected, and the gap to its target."""

    code = serializers.CharField(help_text="Region code.")
    name = serializers.CharField()
    serving = serializers.IntegerField(help_text="Workers in office on the date.")
    protected = serializers.IntegerField(help_text="Of those, members whose membership is active.")
    unprotected = serializers.IntegerField(help_text="serving - protected.")
    coverage_pct = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        allow_null=True,
        coerce_to_string=False,
        help_text="protected / serving in percent, rounded half up; null when no one serves.",
    )
    target_pct = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        allow_null=True,
        coerce_to_string=False,
        help_text="The year's target, the region's own or its nearest ancestor's; null if none.",
    )
    gap_to_target = serializers.IntegerField(
        allow_null=True, help_text="Workers still to protect to reach the target (0 when reached)."
    )


class CoverageRowsQuerySerializer(serializers.Serializer):
    level = ChoiceField(choices=RegionLevel.choices, help_text="The level of the regions listed.")
    # DRF's metaclass takes declared fields out of the class: no clash with Field.parent.
    parent = RegionCodeField(  # type: ignore[assignment]
        required=False, help_text="Only regions under this code (`15` or `15.08`; `1508` is read as `15.08`)."
    )
    as_of = serializers.DateField(
        required=False, help_text="The date (default today); a past date is computed from the workers' history."
    )
    institution = ChoiceField(
        choices=Institution.choices, required=False, help_text="Count only the workers of this institution."
    )
    ordering = ChoiceField(
        choices=[o for field in ROW_ORDERING for o in (field, f"-{field}")],
        required=False,
        default="code",
        help_text=f"Sort by {', '.join(ROW_ORDERING)}; `-` before it for descending (`-unprotected`); "
        "regions without a value last.",
    )
    coverage_pct_lt = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        required=False,
        coerce_to_string=False,
        help_text="Only regions with coverage below this percent.",
    )
    coverage_pct_gte = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        required=False,
        coerce_to_string=False,
        help_text="Only regions with coverage at or above this percent.",
    )
    has_unprotected = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="true: only regions with unprotected workers; false: only those without.",
    )


class CoverageDetailQuerySerializer(serializers.Serializer):
    as_of = serializers.DateField(required=False, help_text="The date (default today).")
    compare = serializers.DateField(required=False, help_text="Also the coverage on this date, and the change since.")


class TrendQuerySerializer(serializers.Serializer):
    start = serializers.DateField(help_text="The first day (`2024-01-01`).")
    end = serializers.DateField(
        help_text="The last day (`2024-12-31`), on or after the start; at most 240 months, 260 weeks or 366 days."
    )
    interval = ChoiceField(choices=Interval.choices, default=Interval.MONTH, help_text="One point per period.")


class UnprotectedVillagesQuerySerializer(serializers.Serializer):
    branch = serializers.CharField(
        required=False, help_text="Only the regencies this branch office serves (its code: `muara-bungo`)."
    )
    regency = RegionCodeField(
        required=False, depths=(2,), help_text="Only this regency/city (`15.08` or `1508`); not with `branch`."
    )

    def validate(self, attrs):
        if attrs.get("branch") and attrs.get("regency"):
            raise serializers.ValidationError({"branch": [_("Give branch or regency, not both.")]})
        return attrs


@extend_schema_serializer(
    examples=[
        _example(
            "pedukun",
            "Pedukun, Tanah Tumbuh",
            {
                "code": "15.08.01.2001",
                "name": "Pedukun",
                "district_code": "15.08.01",
                "district_name": "Tanah Tumbuh",
                "regency_code": "15.08",
                "regency_name": "Kabupaten Bungo",
                "serving": 62,
                "protected": 18,
                "unprotected": 44,
            },
        )
    ]
)
class UnprotectedVillageSerializer(serializers.Serializer):
    """A village with workers serving unprotected today, with its district and regency."""

    code = serializers.CharField(source="village__code")
    name = serializers.CharField(source="village__name")
    district_code = serializers.CharField(source="district__code")
    district_name = serializers.CharField(source="district__name")
    regency_code = serializers.CharField(source="regency__code")
    regency_name = serializers.CharField(source="regency__name")
    serving = serializers.IntegerField(source="serving_sum")
    protected = serializers.IntegerField(source="protected_sum")
    unprotected = serializers.IntegerField()


@extend_schema_serializer(
    examples=[
        _example(
            "bungo",
            "Bungo's own village apparatus target for 2027",
            {"kind": "village_apparatus", "year": 2027, "region_code": "15.08", "target_pct": "60.00"},
            request_only=True,
        ),
        _example(
            "jambi",
            "Jambi's target for 2025 (its regencies inherit it)",
            {"id": 4, "kind": "village_apparatus", "year": 2025, "region_code": "15", "target_pct": "55.00"},
            response_only=True,
        ),
    ]
)
class TargetSerializer(serializers.ModelSerializer):
    """A coverage target: the share to protect in a year, for a region and its descendants."""

    region_code = RegionCodeField(
        help_text="Province or regency/city code (`15.08` or `1508`, answered `15.08`); its regions without a "
        "target of their own inherit it.",
    )
    kind = ChoiceField(
        choices=CoverageKind.choices,
        help_text="village_apparatus (this API's workers) or workforce (UC Jamsostek figures).",
    )

    class Meta:
        model = Target
        fields = ["id", "kind", "year", "region_code", "target_pct"]
        extra_kwargs = {"target_pct": {"help_text": "Percent, 0 to 100, two decimals."}}

    def validate_target_pct(self, value):
        if not 0 <= value <= 100:
            raise serializers.ValidationError(_("A target is a percentage from 0 to 100."))
        return value

    def validate_year(self, value):
        if not 2000 <= value <= 2100:
            raise serializers.ValidationError(_("The year must be between 2000 and 2100."))
        return value


@extend_schema_serializer(
    examples=[
        _example("bungo", "Bungo's figure on the report date", BUNGO_FIGURE, request_only=True),
        _example("jambi", "Jambi's figure on the report date", JAMBI_FIGURE, response_only=True),
    ]
)
class WorkforceFigureSerializer(serializers.ModelSerializer):
    """A published UC Jamsostek figure: a province's or regency's potential workers and active
    participants on a date."""

    region_code = RegionCodeField(help_text="Province (`15`) or regency/city (`15.08` or `1508`) code.")

    class Meta:
        model = WorkforceFigure
        fields = ["id", "region_code", "date", "potential_workers", "active_participants", "source"]
        extra_kwargs = {
            "potential_workers": {"help_text": "Everyone working in the region (formal and informal)."},
            "active_participants": {"help_text": "Those with an active BPJS Ketenagakerjaan membership."},
        }

    def validate_region_code(self, value):
        if level_for_code(value) not in (RegionLevel.PROVINCE, RegionLevel.REGENCY):
            raise serializers.ValidationError(_("Workforce figures are for a province or a regency/city code."))
        return value

    def validate(self, attrs):
        # A partial update may send only one of the two counts: compare with the stored other.
        active = attrs.get("active_participants", getattr(self.instance, "active_participants", None))
        potential = attrs.get("potential_workers", getattr(self.instance, "potential_workers", None))
        if active is not None and potential is not None and active > potential:
            raise serializers.ValidationError(
                {"active_participants": [_("Active participants cannot exceed potential workers.")]}
            )
        return attrs


# Answers computed by the selectors, described for the schema (the views send the selectors' dicts).


class _DecimalOptions(TypedDict):
    max_digits: int
    decimal_places: int
    coerce_to_string: bool


PCT: _DecimalOptions = {"max_digits": 6, "decimal_places": 2, "coerce_to_string": False}


class InstitutionCoverageSerializer(serializers.Serializer):
    """The coverage of one institution's workers in the region."""

    institution = ChoiceField(choices=Institution.choices)
    serving = serializers.IntegerField()
    protected = serializers.IntegerField()
    unprotected = serializers.IntegerField()
    coverage_pct = serializers.DecimalField(allow_null=True, **PCT)


class FundingSourceCountSerializer(serializers.Serializer):
    """How many protected workers one funding source pays for."""

    funding_source = serializers.CharField(help_text="A funding source, or `unknown` when none was recorded.")
    protected = serializers.IntegerField()


class PremiumEstimateSerializer(serializers.Serializer):
    """The estimated monthly premium to protect the region's unprotected workers (JKK and JKM)."""

    unprotected_workers = serializers.IntegerField()
    pu_workers = serializers.IntegerField(help_text="Unprotected workers paid a siltap with a known wage (PU).")
    pu_monthly_wages = serializers.IntegerField(help_text="Their wages together, rupiah a month.")
    pu_rate_pct = serializers.DecimalField(
        max_digits=6, decimal_places=2, coerce_to_string=False, help_text="JKK + JKM, percent of the wage."
    )
    pu_monthly_premium = serializers.IntegerField()
    bpu_workers = serializers.IntegerField(help_text="The other unprotected workers (BPU: a fixed amount a month).")
    bpu_monthly_rate = serializers.IntegerField(help_text="JKK + JKM for one BPU worker, rupiah a month.")
    bpu_monthly_premium = serializers.IntegerField()
    monthly_premium = serializers.IntegerField(help_text="Rupiah a month to protect them all with JKK and JKM.")


@extend_schema_serializer(
    examples=[
        _example(
            "bungo",
            "Kabupaten Bungo, compared with 1 September",
            {
                **BUNGO,
                "level": "regency",
                "as_of": "2024-12-02",
                "rank": 4,
                "ranked_siblings": 11,
                "compare": "2024-09-01",
                "compare_coverage_pct": 29.7,
                "change_pct_points": 3.49,
                "by_institution": [
                    {
                        "institution": "pemerintah_desa",
                        "serving": 1992,
                        "protected": 1120,
                        "unprotected": 872,
                        "coverage_pct": 56.22,
                    },
                    {"institution": "rt", "serving": 1224, "protected": 388, "unprotected": 836, "coverage_pct": 31.7},
                ],
                "by_funding_source": [
                    {"funding_source": "apbdes", "protected": 1614},
                    {"funding_source": "apbd_kabupaten", "protected": 734},
                    {"funding_source": "apbd_provinsi", "protected": 293},
                    {"funding_source": "self_paid", "protected": 205},
                    {"funding_source": "other", "protected": 88},
                ],
                "premium_estimate": {
                    "unprotected_workers": 5906,
                    "pu_workers": 1460,
                    "pu_monthly_wages": 3089540800,
                    "pu_rate_pct": 0.54,
                    "pu_monthly_premium": 16683520,
                    "bpu_workers": 4446,
                    "bpu_monthly_rate": 16800,
                    "bpu_monthly_premium": 74692800,
                    "monthly_premium": 91376320,
                },
            },
        )
    ]
)
class CoverageDetailSerializer(CoverageRowSerializer):
    """One region's coverage in detail: rank, change since a date, breakdowns, premium estimate."""

    level = ChoiceField(choices=RegionLevel.choices)
    as_of = serializers.DateField()
    rank = serializers.IntegerField(allow_null=True, help_text="Rank by coverage among the siblings you cover.")
    ranked_siblings = serializers.IntegerField(help_text="How many siblings (this region included) have a rank.")
    compare = serializers.DateField(allow_null=True, help_text="The `compare` date asked for, if any.")
    compare_coverage_pct = serializers.DecimalField(allow_null=True, **PCT)
    change_pct_points = serializers.DecimalField(
        allow_null=True, help_text="Coverage now minus coverage on `compare`, in points.", **PCT
    )
    by_institution = InstitutionCoverageSerializer(many=True)
    by_funding_source = FundingSourceCountSerializer(many=True)
    premium_estimate = PremiumEstimateSerializer()


class TrendPointSerializer(serializers.Serializer):
    """A region's coverage at the end of one period."""

    period = serializers.DateField(help_text="The first day of the period.")
    date = serializers.DateField(help_text="The day of the snapshot: the period's last one stored.")
    serving = serializers.IntegerField()
    protected = serializers.IntegerField()
    unprotected = serializers.IntegerField()
    coverage_pct = serializers.DecimalField(allow_null=True, **PCT)


@extend_schema_serializer(
    examples=[
        _example(
            "bungo",
            "Bungo month by month",
            {
                "code": "15.08",
                "interval": "month",
                "points": [
                    {
                        "period": "2024-10-01",
                        "date": "2024-10-31",
                        "serving": 8790,
                        "protected": 2611,
                        "unprotected": 6179,
                        "coverage_pct": 29.7,
                    },
                    {
                        "period": "2024-11-01",
                        "date": "2024-11-30",
                        "serving": 8812,
                        "protected": 2790,
                        "unprotected": 6022,
                        "coverage_pct": 31.66,
                    },
                    {
                        "period": "2024-12-01",
                        "date": "2024-12-02",
                        "serving": 8840,
                        "protected": 2934,
                        "unprotected": 5906,
                        "coverage_pct": 33.19,
                    },
                ],
            },
        )
    ]
)
class TrendSerializer(serializers.Serializer):
    """A region's coverage over time, one point per period that has a snapshot."""

    code = serializers.CharField(help_text="Region code.")
    interval = ChoiceField(choices=Interval.choices)
    points = TrendPointSerializer(many=True)


@extend_schema_serializer(examples=[_example("jambi", "Jambi on the report date", JAMBI_ROW)])
class WorkforceRowSerializer(WorkforceFigureSerializer):
    """A workforce figure with its coverage, change since the region's previous figure, target and rank."""

    coverage_pct = serializers.DecimalField(allow_null=True, **PCT)
    previous_date = serializers.DateField(allow_null=True, help_text="The region's previous figure, if any.")
    change_pct_points = serializers.DecimalField(allow_null=True, **PCT)
    target_pct = serializers.DecimalField(allow_null=True, **PCT)
    gap_to_target = serializers.IntegerField(allow_null=True)
    rank = serializers.IntegerField(allow_null=True, help_text="Rank among the regions of its level that day.")
    ranked_regions = serializers.IntegerField()

    class Meta(WorkforceFigureSerializer.Meta):
        fields = [
            *WorkforceFigureSerializer.Meta.fields,
            "coverage_pct",
            "previous_date",
            "change_pct_points",
            "target_pct",
            "gap_to_target",
            "rank",
            "ranked_regions",
        ]


class WorkforceTargetSerializer(serializers.Serializer):
    """One year's workforce target and the gap to it."""

    year = serializers.IntegerField()
    target_pct = serializers.DecimalField(**PCT)
    gap_to_target = serializers.IntegerField(allow_null=True)


@extend_schema_serializer(
    examples=[
        _example(
            "jambi",
            "Jambi on the report date",
            {
                **JAMBI_ROW,
                "as_of": "2024-12-02",
                "targets": [
                    {"year": 2024, "target_pct": 53.0, "gap_to_target": 102750},
                    {"year": 2025, "target_pct": 55.0, "gap_to_target": 128998},
                ],
            },
        )
    ]
)
class WorkforceSummarySerializer(WorkforceRowSerializer):
    """A region's latest workforce figure on a date, with each year's target from then on."""

    as_of = serializers.DateField()
    targets = WorkforceTargetSerializer(many=True)

    class Meta(WorkforceRowSerializer.Meta):
        fields = [*WorkforceRowSerializer.Meta.fields, "as_of", "targets"]


class CoverageGeoQuerySerializer(serializers.Serializer):
    level = ChoiceField(choices=RegionLevel.choices, help_text="The level of the regions drawn.")
    parent = RegionCodeField(  # type: ignore[assignment]
        required=False,
        help_text="Only regions under this code (`15` or `15.08`; `1508` is read as `15.08`): a province or "
        "regency for districts, "
        "a regency or district for villages.",
    )
    as_of = serializers.DateField(required=False, help_text="The date (default today).")
    institution = ChoiceField(
        choices=Institution.choices, required=False, help_text="Count only the workers of this institution."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A map's size is bounded: districts under a province or regency, villages under a regency
        # or district (Kabupaten Aceh Utara's 852 villages, the most of any regency: 0.43 MB).
        parent_level = level_for_code(attrs["parent"]) if attrs.get("parent") else None
        if attrs["level"] == RegionLevel.DISTRICT and parent_level is None:
            raise serializers.ValidationError({"parent": [_("Districts are drawn under a province or a regency.")]})
        if attrs["level"] == RegionLevel.VILLAGE and parent_level not in (RegionLevel.REGENCY, RegionLevel.DISTRICT):
            raise serializers.ValidationError({"parent": [_("Villages are drawn under a regency or a district.")]})
        return attrs


@extend_schema_field(
    {
        "type": "object",
        "nullable": True,
        "description": 'A GeoJSON MultiPolygon (RFC 7946): `type` "MultiPolygon" and `coordinates`, polygons '
        "of rings of [longitude, latitude] points, simplified for a map of the regions drawn together; null: "
        "the region has no boundary.",
    }
)
class GeometryField(serializers.JSONField):
    """A region's outline (documentation only: the answer is composed from stored GeoJSON)."""


class CoverageFeatureSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["Feature"])
    id = serializers.CharField(help_text="The region's Kemendagri code.")
    properties = CoverageRowSerializer(help_text="The region's coverage row, as `GET /coverage/` gives it.")
    geometry = GeometryField(allow_null=True, required=True)


@extend_schema_serializer(
    examples=[
        _example(
            "jambi-regencies",
            "Jambi's regencies (one shown), each with its coverage row",
            {
                "type": "FeatureCollection",
                "bbox": [101.1317, -2.7685, 104.4988, -0.7315],
                "features": [
                    {
                        "type": "Feature",
                        "id": "15.08",
                        "properties": BUNGO,
                        "geometry": {
                            "type": "MultiPolygon",
                            "coordinates": [
                                [[[101.44, -1.5], [102.51, -1.9], [102.32, -1.12], [101.6, -1.2], [101.44, -1.5]]]
                            ],
                        },
                    }
                ],
            },
        )
    ]
)
class CoverageFeatureCollectionSerializer(serializers.Serializer):
    """GeoJSON (RFC 7946) of the regions of a level under a parent, each with its coverage row."""

    type = serializers.ChoiceField(choices=["FeatureCollection"])
    bbox = serializers.ListField(
        child=serializers.FloatField(),
        min_length=4,
        max_length=4,
        allow_null=True,
        help_text="West, south, east, north of the regions drawn; null if none has a boundary.",
    )
    features = CoverageFeatureSerializer(many=True)


# -- aggregate exports (DHIS2 dataValueSets, ADX) ---------------------------------------------

# The data set an export names when the caller names none (`data_set`).
DEFAULT_DATA_SET = "UCJ_COVERAGE"


class CoverageExportQuerySerializer(serializers.Serializer):
    level = ChoiceField(choices=RegionLevel.choices, help_text="The level of the regions exported (org units).")
    parent = RegionCodeField(  # type: ignore[assignment]
        required=False, help_text="Only regions under this code (`15` or `15.08`, or `1508`)."
    )
    start = serializers.DateField(help_text="A day of the first period (`2024-01-01`).")
    end = serializers.DateField(
        required=False,
        help_text="A day of the last period (default today; not in the future). At most 120 months, 40 quarters "
        "or 10 years, and 20,000 regions × periods.",
    )
    period_type = ChoiceField(
        choices=PeriodType.choices,
        default=PeriodType.MONTHLY,
        required=False,
        help_text="One value of each figure per region and period; a period's figures are coverage as at its "
        "last day (today for the period still running).",
    )
    data_set = serializers.RegexField(
        r"^[A-Za-z0-9_.-]{1,50}$",
        required=False,
        default=DEFAULT_DATA_SET,
        help_text=f"The code of the receiving system's data set (default `{DEFAULT_DATA_SET}`): letters, digits, "
        "`_`, `.`, `-`.",
    )


class DataValueSerializer(serializers.Serializer):
    """One figure of one region in one period."""

    dataElement = serializers.ChoiceField(  # noqa: N815 (DHIS2's name)
        choices=["UCJ_SERVING", "UCJ_PROTECTED", "UCJ_UNPROTECTED", "UCJ_TARGET_PCT"],
        help_text="The figure (a data element code): `UCJ_SERVING` apparatus serving, `UCJ_PROTECTED` those "
        "protected, `UCJ_UNPROTECTED` those not, `UCJ_TARGET_PCT` the region's coverage target of the period's "
        "year, a percentage (absent for a region without one).",
    )
    period = serializers.RegexField(
        r"^[0-9]{4}([0-9]{2}|Q[1-4])?$",
        help_text="DHIS2's period identifier: `202412` (monthly), `2024Q4` (quarterly), `2024` (yearly).",
    )
    orgUnit = serializers.CharField(help_text="The region's Kemendagri code (`15.08`).")  # noqa: N815
    value = serializers.CharField(
        help_text="The figure as text, as DHIS2 takes it: a whole number, or a percentage (`55`, `52.5`)."
    )


@extend_schema_serializer(
    examples=[
        _example(
            "bungo",
            "Kabupaten Bungo in December 2024",
            {
                "dataSet": DEFAULT_DATA_SET,
                "dataValues": [
                    {"dataElement": "UCJ_SERVING", "period": "202412", "orgUnit": "15.08", "value": "8840"},
                    {"dataElement": "UCJ_PROTECTED", "period": "202412", "orgUnit": "15.08", "value": "2934"},
                    {"dataElement": "UCJ_UNPROTECTED", "period": "202412", "orgUnit": "15.08", "value": "5906"},
                    {"dataElement": "UCJ_TARGET_PCT", "period": "202412", "orgUnit": "15.08", "value": "55"},
                ],
            },
        )
    ]
)
class DataValueSetSerializer(serializers.Serializer):
    """A DHIS2 data value set: every figure of every region and period, keyed by codes."""

    dataSet = serializers.CharField(help_text="The data set's code (`data_set`).")  # noqa: N815
    dataValues = DataValueSerializer(many=True)  # noqa: N815
