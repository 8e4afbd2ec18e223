"""The one clock of the application: what day it is where the project runs (TIME_ZONE).

Every module that needs today's date calls `today()` from here. A test freezes the day for all
of them at once by replacing `localdate` in this module (tests/conftest.py, `set_today`)."""

import datetime

from django.utils.timezone import localdate


def today() -> datetime.date:
    return localdate()
