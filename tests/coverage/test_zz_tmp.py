import pytest
from django.apps import apps

pytestmark = pytest.mark.django_db


def test_empty():
    nonempty = {
        m._meta.label: m.objects.count()
        for m in apps.get_models()
        if m._meta.app_label in ("villages", "enrollment", "coverage", "access", "auth", "knox") and m.objects.count()
    }
    assert nonempty == {"coverage.PremiumRate": 6, "auth.Permission": nonempty.get("auth.Permission")}
