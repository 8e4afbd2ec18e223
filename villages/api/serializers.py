"""Region representations: parents are given by code, the key every government system shares."""

from rest_framework import serializers

from villages.models import BranchOffice, District, Province, Regency, Village


class ProvinceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Province
        fields = ["code", "name"]


class RegencySerializer(serializers.ModelSerializer):
    province = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Regency
        fields = ["code", "name", "kind", "province"]


class DistrictSerializer(serializers.ModelSerializer):
    province = serializers.SlugRelatedField(slug_field="code", read_only=True)
    regency = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = District
        fields = ["code", "name", "regency", "province"]


class VillageSerializer(serializers.ModelSerializer):
    province = serializers.SlugRelatedField(slug_field="code", read_only=True)
    regency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    district = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Village
        fields = ["code", "name", "kind", "district", "regency", "province"]


class RegencyBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Regency
        fields = ["code", "name"]


class BranchOfficeSerializer(serializers.ModelSerializer):
    regencies = RegencyBriefSerializer(many=True, read_only=True)

    class Meta:
        model = BranchOffice
        fields = ["code", "name", "regencies"]
