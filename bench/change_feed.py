"""Benchmark of the change feed (issue 21, item 1): an integrator pages --changes changes of
/api/v1/changes/ from the beginning, --page-size at a time, over HTTP from the service under
gunicorn on loopback (as the national admin, who sees personal data: every page also writes the
access log). Target (../shared/DESIGN.md §6): at least 2,000 changes a second.

    DATABASE_URL=... python bench/change_feed.py --changes 10000 --page-size 1000 [--region 15.08]

Fill the database first, e.g. `python manage.py generate_synthetic --workers 30000 --replace`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import time
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ucj_project.settings.local")
os.environ.setdefault("DEBUG", "false")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from knox.models import AuthToken  # noqa: E402

from bench.server import Client, Gunicorn, Req  # noqa: E402
from enrollment.models import EnrollmentEvent  # noqa: E402

GUNICORN_ENV = {
    "UCJ_RATE_TOKEN": "100000000/min",
    "UCJ_RATE_ANON": "100000000/min",
    "DJANGO_SETTINGS_MODULE": "ucj_project.settings.local",
}


def bench_token() -> str:
    user, _created = get_user_model().objects.get_or_create(
        username="bench-feed", defaults={"is_staff": True, "is_superuser": True}
    )
    AuthToken.objects.filter(user=user).delete()
    _instance, token = AuthToken.objects.create(user=user, expiry=datetime.timedelta(hours=1))
    return token


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--changes", type=int, default=10_000, help="changes to page through (default 10,000)")
    parser.add_argument("--page-size", type=int, default=1000, help="changes a page (default 1000, the most)")
    parser.add_argument("--region", help="narrow the feed to this region")
    parser.add_argument("--rounds", type=int, default=3, help="times the whole read is repeated (default 3)")
    args = parser.parse_args()
    events = EnrollmentEvent.objects.count()
    if events < args.changes:
        raise SystemExit(f"only {events} changes in the database: generate more first")
    token = bench_token()
    connection.close()
    env = {**os.environ, **GUNICORN_ENV}
    server = Gunicorn(env)
    try:
        server.wait_ready()
        client = Client(server.port, token)
        query = f"?page_size={args.page_size}" + (f"&region={args.region}" if args.region else "")
        rates = []
        for _round in range(args.rounds):
            path = "/api/v1/changes/" + query
            seen, pages, page_seconds = 0, 0, []
            started = time.perf_counter()
            while seen < args.changes:
                resp = client.fetch(Req("GET", path))
                if resp.status != 200:
                    raise SystemExit(f"{resp.status}: {resp.body[:500]!r}")
                page = json.loads(resp.body)
                seen += len(page["results"])
                pages += 1
                page_seconds.append(resp.seconds)
                if page["up_to_date"]:
                    break
                next_url = urlsplit(page["next"])
                path = f"{next_url.path}?{next_url.query}"
            seconds = time.perf_counter() - started
            rates.append(seen / seconds)
            print(
                f"{seen} changes in {pages} pages of {args.page_size}: {seconds:.2f} s, "
                f"{seen / seconds:,.0f} changes/s (page p50 {statistics.median(page_seconds) * 1000:.0f} ms)",
                flush=True,
            )
        print(f"median of {args.rounds} rounds: {statistics.median(rates):,.0f} changes/s (target >= 2,000)")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
