"""What the portal remembers of a user: the language its pages speak."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Preference(models.Model):
    """A user's choices in the portal. Without one, the portal speaks Indonesian."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="portal_preference"
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="id")

    class Meta:
        verbose_name = _("portal preference")
        verbose_name_plural = _("portal preferences")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.language}"
