"""The portal's login form: Django's, with messages that say what happened."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from access.backends import login_locked


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("The username or password is wrong. Check both and try again."),
        "inactive": _("This account is switched off. Ask your administrator."),
    }

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        if username and login_locked(username):
            # Said before the password is checked: a locked account refuses even the right one.
            raise forms.ValidationError(
                _("Too many wrong passwords: this account is locked for %(minutes)d minutes. Try again later.")
                % {"minutes": max(1, settings.UCJ_LOGIN_LOCK_SECONDS // 60)},
                code="locked",
            )
        return super().clean()
