from django.db import models
from django.utils.translation import gettext_lazy as _


class DeliveryError(models.TextChoices):
    """Why an attempt to deliver failed (empty: the receiver answered, see its status)."""

    STATUS = "status", _("The receiver answered with a status other than 2xx")
    TIMEOUT = "timeout", _("No answer in time")
    REFUSED = "refused", _("Connection refused")
    DNS = "dns", _("The address's name did not resolve")
    ADDRESS = "address", _("The address resolves to a private or local network")
    TLS = "tls", _("TLS failed (certificate or handshake)")
    CONNECTION = "connection", _("The connection failed")
