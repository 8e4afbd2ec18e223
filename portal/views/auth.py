"""Login, logout and the language switch."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ..forms import LoginForm
from ..language import CHOICES, in_portal_language, language_set


@method_decorator(in_portal_language, name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Sent here from a page while holding a session cookie that no longer logs in: the session ended.
        if request.GET.get("next") and settings.SESSION_COOKIE_NAME in request.COOKIES:
            messages.info(request, _("Your session has ended. Log in again to go on."))
        return super().get(request, *args, **kwargs)


@method_decorator(in_portal_language, name="dispatch")
class LogoutView(auth_views.LogoutView):
    template_name = "portal/logged_out.html"


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    """Switch the portal's language (remembered for the user), back to the page it was asked from."""
    language = request.POST.get("language", "")
    target = request.POST.get("next") or reverse("portal:home")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("portal:home")
    response = HttpResponseRedirect(target)
    if language in CHOICES:
        language_set(request, response, language)
    return response
