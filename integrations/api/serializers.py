"""The change feed's query and answer, as the schema documents them (the answer itself is built
by integrations.selectors.feed_page)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from core.api.fields import ChoiceField, RegionCodeField, StrictCharField
from enrollment.choices import EnrollmentStatus, EventKind, EventSource

from ..selectors import TYPES

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100


class ChangesQuerySerializer(serializers.Serializer):
    after = StrictCharField(
        required=False,
        help_text=_(
            "The `cursor` of the last change you processed (the answer's `cursor`). Without it: from the beginning."
        ),
    )
    types = StrictCharField(
        required=False,
        help_text=_(
            "Only changes of these types, comma-separated (default all): worker, enrollment, region, coverage."
        ),
    )
    region = RegionCodeField(
        required=False, help_text=_("Only changes of workers in this region of yours (any level: `15.01`).")
    )

    def validate_types(self, value: str) -> list[str]:
        names = [name.strip() for name in value.split(",") if name.strip()]
        unknown = sorted(set(names) - set(TYPES))
        if unknown or not names:
            raise serializers.ValidationError(
                _("Unknown types: %(unknown)s. Choose among %(types)s.")
                % {"unknown": ", ".join(unknown) or "-", "types": ", ".join(TYPES)},
                code="invalid_choice",
            )
        return sorted(set(names), key=TYPES.index)

    page_size = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_PAGE_SIZE,
        help_text=_("Changes per page (default 100, at most 1000)."),
    )


@extend_schema_field(
    # A worker (the component the worker endpoints answer) or null. drf-spectacular's own form for
    # a nullable nested serializer (allOf + nullable) does not let null through an OpenAPI 3.0
    # validator; the nullable enums' form (oneOf with NullEnum) does.
    {"oneOf": [{"$ref": "#/components/schemas/Worker"}, {"$ref": "#/components/schemas/NullEnum"}], "nullable": True}
)
class WorkerOrNullField(serializers.JSONField):
    pass


class ChangeSerializer(serializers.Serializer):
    """One change: a history event of a worker, with the worker as it is now."""

    cursor = serializers.CharField(help_text=_("This change's position: send it as `after` to go on after it."))
    types = serializers.ListField(
        child=ChoiceField(choices=[(name, name) for name in TYPES]),
        help_text=_(
            "What kind of change it is: `worker` (registered, edited or moved, service ended), `enrollment` "
            "(status changed or membership renewed), `region` (moved by a decree's change of region codes), "
            "`coverage` (the coverage figures of `regions` may have changed)."
        ),
    )
    kind = ChoiceField(choices=EventKind.choices, help_text=_("The history event (as in a worker's history)."))
    worker_id = serializers.IntegerField()
    effective_date = serializers.DateField()
    recorded_at = serializers.DateTimeField()
    # A field named `source` shadows Field.source in the class body only: DRF collects it as a field.
    source = ChoiceField(choices=EventSource.choices)  # type: ignore[assignment]
    actor = serializers.CharField(help_text=_("Who recorded it: a username, a client, or `system`."))
    from_status = ChoiceField(choices=EnrollmentStatus.choices, allow_null=True)
    to_status = ChoiceField(choices=EnrollmentStatus.choices)
    changes = serializers.DictField(
        child=serializers.ListField(child=serializers.JSONField(), min_length=2, max_length=2),
        help_text=_(
            "Each changed field: `[old, new]` (a registration: `[null, value]` for each field given; dates as "
            "ISO text, a village as its code). NIK, birth date and phone are `***` without the personal-data right."
        ),
    )
    regions = serializers.ListField(
        child=serializers.CharField(),
        help_text=_(
            "The regions of yours whose coverage figures of today the change may have moved (the worker's "
            "village now and its parents; for a move both ends): read them again from `/api/v1/coverage/{code}/`."
        ),
    )
    worker = WorkerOrNullField(
        help_text=_(
            "The worker as `/api/v1/workers/` shows it now (not as it was at the change): replaying the feed "
            "keeps the last one of each worker. Null when the worker is no longer in your regions (it moved out: "
            "forget it)."
        ),
    )


EXAMPLE_CURSOR = "YzEuNzQxMjIuNTEyLjE3NjUwMDAwMDA"


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A page",
            value={
                "results": [
                    {
                        "cursor": EXAMPLE_CURSOR,
                        "types": ["enrollment", "coverage"],
                        "kind": "activated",
                        "worker_id": 17,
                        "effective_date": "2024-08-01",
                        "recorded_at": "2024-08-01T09:12:03+07:00",
                        "source": "api",
                        "actor": "bpjs-muara-bungo",
                        "from_status": "submitted",
                        "to_status": "active",
                        "changes": {"kpj_number": [None, "24012345678"], "paid_until": [None, "2024-12-31"]},
                        "regions": ["15.08.01.2001", "15.08.01", "15.08", "15"],
                        "worker": None,
                    }
                ],
                "cursor": EXAMPLE_CURSOR,
                "next": f"https://ucj.example/api/v1/changes/?after={EXAMPLE_CURSOR}",
                "up_to_date": False,
            },
            response_only=True,
        )
    ]
)
class ChangesPageSerializer(serializers.Serializer):
    """A page of the change feed."""

    results = ChangeSerializer(many=True, help_text=_("The changes, oldest first (commit order)."))
    cursor = serializers.CharField(
        help_text=_(
            "Where you are after this page: keep it and send it as `after` (it stays valid: the feed's order "
            "never changes, and no change is ever inserted before a cursor given out)."
        )
    )
    next = serializers.URLField(help_text=_("The address of the next page (this query, after `cursor`)."))
    up_to_date = serializers.BooleanField(
        help_text=_(
            "True when no change after this page is visible yet: ask `next` again later (a minute, say). False: "
            "ask `next` now (a page of a region or of some types may be short, even empty, and not up to date)."
        )
    )
