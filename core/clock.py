"""The one clock of the application: what day it is where the project runs (TIME_ZONE)."""

import datetime

from django.utils import timezone


def today() -> datetime.date:
    return timezone.localdate()
