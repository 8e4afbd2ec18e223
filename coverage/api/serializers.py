"""Coverage representations and the query parameters of the coverage endpoints."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from coverage.choices import CoverageKind, Interval
from coverage.models import Target, WorkforceFigure
from enrollment.choices import Institution
from ucj_project.api.fields import ChoiceField
from villages.choices import RegionLevel
from villages.services import level_for_code

ROW_ORDERING = ["code", "name", "serving", "protected", "unprotected", "coverage_pct", "gap_to_target"]


def validate_region_code(value: str) -> str:
    if level_for_code(value) is None:
        raise serializers.ValidationError(_("Not a region code (e.g. 15, 15.01, 15.01.01, 15.01.01.2001)."))
    return value


class CoverageRowSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    serving = serializers.IntegerField()
    protected = serializers.IntegerField()
    unprotected = serializers.IntegerField()
    coverage_pct = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True, coerce_to_string=False)
    target_pct = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True, coerce_to_string=False)
    gap_to_target = serializers.IntegerField(allow_null=True)


class CoverageRowsQuerySerializer(serializers.Serializer):
    level = ChoiceField(choices=RegionLevel.choices)
    parent = serializers.CharField(required=False, validators=[validate_region_code])
    as_of = serializers.DateField(required=False)
    institution = ChoiceField(choices=Institution.choices, required=False)
    ordering = ChoiceField(
        choices=[o for field in ROW_ORDERING for o in (field, f"-{field}")], required=False, default="code"
    )
    coverage_pct_lt = serializers.DecimalField(max_digits=5, decimal_places=2, required=False, coerce_to_string=False)
    coverage_pct_gte = serializers.DecimalField(max_digits=5, decimal_places=2, required=False, coerce_to_string=False)
    has_unprotected = serializers.BooleanField(required=False, allow_null=True, default=None)


class CoverageDetailQuerySerializer(serializers.Serializer):
    as_of = serializers.DateField(required=False)
    compare = serializers.DateField(required=False)


class TrendQuerySerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    interval = ChoiceField(choices=Interval.choices, default=Interval.MONTH)


class UnprotectedVillagesQuerySerializer(serializers.Serializer):
    branch = serializers.CharField(required=False)
    regency = serializers.CharField(required=False)

    def validate(self, attrs):
        if attrs.get("branch") and attrs.get("regency"):
            raise serializers.ValidationError({"branch": [_("Give branch or regency, not both.")]})
        return attrs


class UnprotectedVillageSerializer(serializers.Serializer):
    code = serializers.CharField(source="village__code")
    name = serializers.CharField(source="village__name")
    district_code = serializers.CharField(source="district__code")
    district_name = serializers.CharField(source="district__name")
    regency_code = serializers.CharField(source="regency__code")
    regency_name = serializers.CharField(source="regency__name")
    serving = serializers.IntegerField(source="serving_sum")
    protected = serializers.IntegerField(source="protected_sum")
    unprotected = serializers.IntegerField()


class TargetSerializer(serializers.ModelSerializer):
    region_code = serializers.CharField(max_length=13, validators=[validate_region_code])
    kind = ChoiceField(choices=CoverageKind.choices)

    class Meta:
        model = Target
        fields = ["id", "kind", "year", "region_code", "target_pct"]

    def validate_target_pct(self, value):
        if not 0 <= value <= 100:
            raise serializers.ValidationError(_("A target is a percentage from 0 to 100."))
        return value

    def validate_year(self, value):
        if not 2000 <= value <= 2100:
            raise serializers.ValidationError(_("The year must be between 2000 and 2100."))
        return value


class WorkforceFigureSerializer(serializers.ModelSerializer):
    class Meta:
        model = WorkforceFigure
        fields = ["id", "region_code", "date", "potential_workers", "active_participants", "source"]

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

PCT = {"max_digits": 6, "decimal_places": 2, "coerce_to_string": False}


class InstitutionCoverageSerializer(serializers.Serializer):
    institution = ChoiceField(choices=Institution.choices)
    serving = serializers.IntegerField()
    protected = serializers.IntegerField()
    unprotected = serializers.IntegerField()
    coverage_pct = serializers.DecimalField(allow_null=True, **PCT)


class FundingSourceCountSerializer(serializers.Serializer):
    funding_source = serializers.CharField(help_text="A funding source, or `unknown` when none was recorded.")
    protected = serializers.IntegerField()


class PremiumEstimateSerializer(serializers.Serializer):
    unprotected_workers = serializers.IntegerField()
    pu_workers = serializers.IntegerField(help_text="Unprotected workers paid a siltap with a known wage (PU).")
    pu_monthly_wages = serializers.IntegerField()
    pu_rate_pct = serializers.DecimalField(max_digits=6, decimal_places=2, coerce_to_string=False)
    pu_monthly_premium = serializers.IntegerField()
    bpu_workers = serializers.IntegerField(help_text="The other unprotected workers (BPU: a fixed amount a month).")
    bpu_monthly_rate = serializers.IntegerField()
    bpu_monthly_premium = serializers.IntegerField()
    monthly_premium = serializers.IntegerField(help_text="Rupiah a month to protect them all with JKK and JKM.")


class CoverageDetailSerializer(CoverageRowSerializer):
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
    period = serializers.DateField(help_text="The first day of the period.")
    date = serializers.DateField(help_text="The day of the snapshot: the period's last one stored.")
    serving = serializers.IntegerField()
    protected = serializers.IntegerField()
    unprotected = serializers.IntegerField()
    coverage_pct = serializers.DecimalField(allow_null=True, **PCT)


class TrendSerializer(serializers.Serializer):
    code = serializers.CharField()
    interval = ChoiceField(choices=Interval.choices)
    points = TrendPointSerializer(many=True)


class WorkforceRowSerializer(WorkforceFigureSerializer):
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
    year = serializers.IntegerField()
    target_pct = serializers.DecimalField(**PCT)
    gap_to_target = serializers.IntegerField(allow_null=True)


class WorkforceSummarySerializer(WorkforceRowSerializer):
    as_of = serializers.DateField()
    targets = WorkforceTargetSerializer(many=True)

    class Meta(WorkforceRowSerializer.Meta):
        fields = [*WorkforceRowSerializer.Meta.fields, "as_of", "targets"]
