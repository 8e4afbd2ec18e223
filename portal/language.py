"""The portal speaks Indonesian whatever the browser asks, or the language the user chose.

The API keeps following `Accept-Language` (a program asks for what it parses); the portal's
people asked for Bahasa Indonesia by default and a switch remembered per user (`Preference`).
Before login, the switch is remembered in a cookie."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils import translation

from access.throttling import TokenRateThrottle, counted_per_user

from .models import Preference

COOKIE = "ucj_bahasa"
SESSION_KEY = "ucj_bahasa"
DEFAULT = "id"
CHOICES = {code for code, _name in settings.LANGUAGES}


def language_of(request: HttpRequest) -> str:
    """The language of the portal's pages for this request."""
    user = request.user
    if user.is_authenticated:
        # The user's choice, read once per session (kept in it, as the switch keeps it).
        preference = request.session.get(SESSION_KEY)
        if preference is None:
            chosen_before = Preference.objects.filter(user_id=user.pk).values_list("language", flat=True).first()
            preference = request.session[SESSION_KEY] = chosen_before or ""
        if preference in CHOICES:
            return str(preference)
    chosen = request.COOKIES.get(COOKIE)
    return chosen if chosen in CHOICES else DEFAULT


def language_set(request: HttpRequest, response: HttpResponse, language: str) -> None:
    """Remember `language` for the user (and, before login, in a cookie)."""
    if request.user.is_authenticated:
        Preference.objects.update_or_create(user_id=request.user.pk, defaults={"language": language})
        request.session[SESSION_KEY] = language
    response.set_cookie(COOKIE, language, max_age=365 * 24 * 3600, samesite="Lax")


def in_portal_language(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A portal view rendered in the portal's language (not the browser's), its refusals as the
    portal's own pages; a signed-in user's request counted against the user's rate, as the API
    counts its session (access.throttling): beyond it, 429 with Retry-After."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        language = language_of(request)
        with translation.override(language):
            request.LANGUAGE_CODE = language
            throttle = TokenRateThrottle()
            try:
                if not throttle.allow_user(request):
                    refused = render(request, "portal/too_many.html", status=429)
                    refused["Retry-After"] = str(math.ceil(throttle.wait()))
                    refused["Content-Language"] = language
                    return refused
                response = view(request, *args, **kwargs)
            except Http404:  # the portal's own pages for these, in its language
                response = render(request, "portal/not_found.html", status=404)
            except PermissionDenied:
                response = render(request, "portal/forbidden.html", status=403)
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
        response["Content-Language"] = language
        return response

    return counted_per_user(wrapped)
