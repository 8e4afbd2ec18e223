"""The served process's heap, settled before its first request.

A request of a regency's villages makes a few thousand short-lived objects (rows, tuples,
figures). With the interpreter's default thresholds (700, 10, 10), that is several young
collections a request, one of the middle generation every few requests, and a full collection
every few hundred, each of which walks every object the process holds: Django's, the URL
patterns', the modules', about 150,000 of them, some 60 ms a time on the benchmark's machine.
Measured in-process on 1,000 requests of that list: 0.5–0.7 ms of collecting a request, of which
full collections 0.3 ms; settled, 0.2 ms and no full collection.

So, once the application is loaded, what every request will use is loaded too (the URL patterns
import every view), the objects alive then are moved out of the collector's sight
(`gc.freeze`: they live as long as the process anyway), and the youngest generation may grow to
`YOUNG_THRESHOLD` before it is collected, so that most of a request's objects are freed by their
reference counts before the collector ever looks at them. Cycles are still collected, later.
"""

from __future__ import annotations

import gc

from django.urls import get_resolver

# Objects allocated (less those freed) before a young collection: tens of requests' worth.
YOUNG_THRESHOLD = 20_000


def heap_settle() -> None:
    """Load the URL patterns (and with them every view), collect once, freeze what is alive and
    raise the young generation's threshold. Called by the WSGI module, once per process."""
    get_resolver().url_patterns  # noqa: B018 - importing the views is the point
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
