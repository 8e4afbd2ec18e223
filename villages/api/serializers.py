"""Region representations: parents are given by code, the key every government system shares."""

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from villages.models import BranchOffice, District, Province, Regency, Village


@extend_schema_serializer(examples=[OpenApiExample("jambi", summary="Jambi", value={"code": "15", "name": "Jambi"})])
class ProvinceSerializer(serializers.ModelSerializer):
    """A province, by its official code."""

    class Meta:
        model = Province
        fields = ["code", "name"]


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "bungo",
            summary="Kabupaten Bungo",
            value={"code": "15.08", "name": "Kabupaten Bungo", "kind": "kabupaten", "province": "15"},
        )
    ]
)
class RegencySerializer(serializers.ModelSerializer):
    """A regency (kabupaten) or city (kota), by its official code."""

    province: serializers.SlugRelatedField[Province] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text="Province code."
    )

    class Meta:
        model = Regency
        fields = ["code", "name", "kind", "province"]


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "tanah-tumbuh",
            summary="Tanah Tumbuh, Bungo",
            value={"code": "15.08.01", "name": "Tanah Tumbuh", "regency": "15.08", "province": "15"},
        )
    ]
)
class DistrictSerializer(serializers.ModelSerializer):
    """A district (kecamatan), by its official code."""

    province: serializers.SlugRelatedField[Province] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text="Province code."
    )
    regency: serializers.SlugRelatedField[Regency] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text="Regency/city code."
    )

    class Meta:
        model = District
        fields = ["code", "name", "regency", "province"]


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "pedukun",
            summary="Pedukun, Tanah Tumbuh",
            value={
                "code": "15.08.01.2001",
                "name": "Pedukun",
                "kind": "desa",
                "district": "15.08.01",
                "regency": "15.08",
                "province": "15",
            },
        )
    ]
)
class VillageSerializer(serializers.ModelSerializer):
    """A village (desa or kelurahan), by its official code."""

    province: serializers.SlugRelatedField[Province] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text="Province code."
    )
    regency: serializers.SlugRelatedField[Regency] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text="Regency/city code."
    )
    district: serializers.SlugRelatedField[District] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text="District code."
    )

    class Meta:
        model = Village
        fields = ["code", "name", "kind", "district", "regency", "province"]


class RegencyBriefSerializer(serializers.ModelSerializer):
    """A regency or city's code and name."""

    class Meta:
        model = Regency
        fields = ["code", "name"]


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "muara-bungo",
            summary="Cabang Muara Bungo",
            value={
                "code": "muara-bungo",
                "name": "BPJS Ketenagakerjaan Cabang Muara Bungo",
                "regencies": [
                    {"code": "15.02", "name": "Kabupaten Merangin"},
                    {"code": "15.08", "name": "Kabupaten Bungo"},
                ],
            },
        )
    ]
)
class BranchOfficeSerializer(serializers.ModelSerializer):
    """A BPJS Ketenagakerjaan branch office and the regencies/cities it serves."""

    regencies = RegencyBriefSerializer(many=True, read_only=True)

    class Meta:
        model = BranchOffice
        fields = ["code", "name", "regencies"]
