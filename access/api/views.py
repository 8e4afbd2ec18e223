"""Token login and logout, the caller's own scope, and the admins' access log (the audit trail of
changes is enrollment.api.audit)."""

from django.conf import settings
from django.contrib.auth import authenticate
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from knox.models import AuthToken
from knox.settings import knox_settings
from rest_framework import viewsets
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from access.api.permissions import PUBLIC, CapabilityRequired
from access.backends import login_locked
from access.choices import Capability
from access.context import can_see_personal_data, scope_for
from access.filtersets import AccessLogFilterSet
from access.models import AccessLog
from access.throttling import LoginRateThrottle
from core.api.parameters import refuse_unknown_parameters
from villages.models import Province, Regency

from .serializers import (
    AccessLogSerializer,
    LoginSerializer,
    LogoutQuerySerializer,
    MeSerializer,
    TokenSerializer,
)


class LoginView(GenericAPIView):
    """Exchange a username and password for an API token (hashed at rest, expiring)."""

    permission_classes = [CapabilityRequired]
    required_capabilities = {"post": PUBLIC}
    authentication_classes: list = []
    throttle_classes = [LoginRateThrottle]
    serializer_class = LoginSerializer

    @extend_schema(request=LoginSerializer, responses={200: TokenSerializer})
    def post(self, request: Request) -> Response:
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        username = serializer.validated_data["username"]
        if login_locked(username):
            raise Throttled(
                wait=settings.UCJ_LOGIN_LOCK_SECONDS, detail=_("Too many failed logins for this user; try again later.")
            )
        user = authenticate(request, username=username, password=serializer.validated_data["password"])
        if user is None or not user.is_active:
            raise AuthenticationFailed(_("Wrong username or password."))
        AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()  # the user's expired tokens
        instance, token = AuthToken.objects.create(user=user)
        return Response({"token": token, "expiry": instance.expiry})

    def get_authenticate_header(self, request: Request) -> str:
        # This view authenticates no request itself, so DRF would turn a wrong password into a
        # 403; it is a 401 like every other failed authentication.
        return knox_settings.AUTH_HEADER_PREFIX


class LogoutView(GenericAPIView):
    """Revoke the token this request was made with (`all=true`: every token of the caller)."""

    permission_classes = [CapabilityRequired]
    required_capabilities = {"post": Capability.READ_COVERAGE}
    serializer_class = TokenSerializer
    query_parameters = {"post": (LogoutQuerySerializer,)}

    @extend_schema(request=None, responses={204: None}, parameters=[LogoutQuerySerializer])
    def post(self, request: Request) -> Response:
        query = LogoutQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        if query.validated_data["all"]:
            AuthToken.objects.filter(user=request.user).delete()
        elif isinstance(request.auth, AuthToken):
            request.auth.delete()
        return Response(status=204)

    def check_permissions(self, request):
        # Any signed-in caller may log out, whatever its role (so CapabilityRequired, which
        # checks the query parameters too, is not asked).
        if not request.user or not request.user.is_authenticated:
            self.permission_denied(request)
        refuse_unknown_parameters(request, self)


class MeView(GenericAPIView):
    """Who the caller is: role, capabilities and the regions it covers."""

    login_required = True  # any signed-in caller; an anonymous one gets 401
    permission_classes = [CapabilityRequired]
    required_capabilities = {"get": PUBLIC}
    serializer_class = MeSerializer

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        if not request.user.is_authenticated:
            self.permission_denied(request)
        scope = scope_for(request.user)
        return Response(
            {
                "username": request.user.get_username(),
                "role": scope.role,
                "capabilities": sorted(scope.capabilities),
                "provinces": sorted(Province.objects.filter(pk__in=scope.province_ids).values_list("code", flat=True))
                if not scope.everything
                else ["*"],
                "regencies": sorted(Regency.objects.filter(pk__in=scope.regency_ids).values_list("code", flat=True)),
                "view_personal_data": can_see_personal_data(request),
            }
        )


class AccessLogViewSet(viewsets.ReadOnlyModelViewSet):
    """Every response that showed full personal data, and every export (admins)."""

    queryset = AccessLog.objects.select_related("user")  # username shown per row
    serializer_class = AccessLogSerializer
    permission_classes = [CapabilityRequired]
    required_capabilities = {"list": Capability.ADMIN, "retrieve": Capability.ADMIN}
    filterset_class = AccessLogFilterSet
    ordering_fields = ["id", "at"]
    ordering = ["-id"]
