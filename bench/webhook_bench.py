"""Benchmark of webhooks (issue 21, item 2): what one active subscription adds to a transition.
Target: at most 2 ms on the activation's p50.

The write path writes nothing for webhooks (the history is the outbox), so the cost, if any, is
the delivering worker's load on the same database. This times --requests activations over HTTP
(gunicorn on loopback, the bench's admin token), in alternating blocks of --block: without a
subscription (none active), and with one active subscription whose worker (`manage.py
run_worker`, started here) delivers each change to a receiver on loopback. It prints both p50s
and how long a change took to reach the receiver.

    DATABASE_URL=postgres://ucj:ucj@127.0.0.1:5432/ucj_hw python bench/webhook_bench.py --requests 200

Load the demo first (`python manage.py load_demo`): it needs serving workers that may be activated.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ucj_project.settings.local")
# The receiver listens on loopback over plain http.
os.environ.setdefault("UCJ_WEBHOOK_ALLOW_HTTP", "true")
os.environ.setdefault("UCJ_WEBHOOK_ALLOW_PRIVATE", "true")

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402

from bench.national_bench import (  # noqa: E402 (sets Django up)
    GUNICORN_ENV,
    bench_user_token,
    fresh_kpj_numbers,
    transition_candidates,
)
from bench.server import Client, Gunicorn, Req  # noqa: E402
from core.clock import today  # noqa: E402
from enrollment.models import ApparatusWorker  # noqa: E402
from integrations.models import Subscription  # noqa: E402
from integrations.services import subscription_create  # noqa: E402
from villages.models import Regency  # noqa: E402

ARRIVED: dict[int, float] = {}  # worker id -> when its activation reached the receiver


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        event = json.loads(body)
        if event["type"].endswith(".activated"):
            ARRIVED.setdefault(event["data"]["worker_id"], time.perf_counter())
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200, help="activations in all, half each way (default 200)")
    parser.add_argument("--block", type=int, default=10, help="activations in a row each way (default 10)")
    parser.add_argument("--warmup", type=int, default=10, help="activations first, not counted (default 10)")
    parser.add_argument(
        "--same",
        action="store_true",
        help="both ways without a subscription: the difference the machine's noise makes alone",
    )
    args = parser.parse_args()
    wanted = args.requests + args.warmup
    busiest = (
        ApparatusWorker.objects.filter(serving=True, enrollment__status__in=["not_registered", "submitted"])
        .values("regency")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    if busiest is None:
        raise SystemExit("No worker to activate: load the demo first (`manage.py load_demo`).")
    regency = Regency.objects.get(pk=busiest["regency"])
    candidates = transition_candidates(regency, wanted, today())
    if len(candidates) < wanted:
        raise SystemExit(f"only {len(candidates)} workers of {regency.code} can be activated (wanted {wanted})")
    kpj = fresh_kpj_numbers(wanted)
    owner, token = bench_user_token()

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    Subscription.objects.filter(owner=owner).delete()
    subscription = subscription_create(owner=owner, url=f"http://127.0.0.1:{receiver.server_address[1]}/")
    Subscription.objects.filter(pk=subscription.pk).update(active=False)
    connection.close()

    env = {**os.environ, **GUNICORN_ENV}
    server = Gunicorn(env)
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "run_worker", "--no-schedules"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    activate = {
        "scheme": "bpu",
        "programs": ["jkk", "jkm"],
        "funding_source": "apbdes",
        "coverage_start": today().isoformat(),
        "paid_until": (today() + datetime.timedelta(days=300)).isoformat(),
    }
    timings: dict[bool, list[float]] = {False: [], True: []}
    answered: dict[int, float] = {}
    try:
        server.wait_ready()
        time.sleep(2)  # the worker is up and polling
        client = Client(server.port, token)
        for i, (worker_id, version) in enumerate(candidates):
            counted = i >= args.warmup
            with_subscription = ((i - args.warmup) // args.block) % 2 == 1 if counted else False
            if counted and (i - args.warmup) % args.block == 0:
                Subscription.objects.filter(pk=subscription.pk).update(active=with_subscription and not args.same)
                connection.close()
                time.sleep(1.5)  # the worker has caught up (or gone quiet)
            body = json.dumps({"kpj_number": kpj[i], **activate}).encode()
            path = f"/api/v1/workers/{worker_id}/activate/"
            resp = client.fetch(Req("POST", path, body, {"If-Match": f'"{version}"'}))
            if resp.status != 200:
                raise SystemExit(f"{resp.status}: {resp.body[:500]!r}")
            answered[worker_id] = time.perf_counter()
            if counted:
                timings[with_subscription].append(resp.seconds)
        time.sleep(3)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        server.stop()
        receiver.shutdown()
        Subscription.objects.filter(pk=subscription.pk).delete()

    without, with_one = timings[False], timings[True]
    print(f"regency {regency.code}, {len(without)} + {len(with_one)} activations in blocks of {args.block}")
    second = "no subscription" if args.same else "one subscription"
    for name, values in (("no subscription", without), (second, with_one)):
        print(
            f"  {name:17} p50 {statistics.median(values) * 1000:7.2f} ms   p90 {percentile(values, 90) * 1000:7.2f} ms"
        )
    print(f"  difference of p50s: {(statistics.median(with_one) - statistics.median(without)) * 1000:+.2f} ms")
    delays = [ARRIVED[w] - answered[w] for w in ARRIVED if w in answered]
    if delays:
        print(
            f"  {len(delays)} activations delivered; from the API's answer to the receiver: "
            f"p50 {statistics.median(delays) * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
