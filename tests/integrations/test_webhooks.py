"""Signed webhooks through real HTTP: subscriptions through the API, deliveries by the jobs the
workers' poll queues (run here by the test settings' immediate backend), to a real receiver on
loopback. Signatures verify with the `standardwebhooks` package and with the README's receiver
(docs/examples/webhook_receiver.py); a scripted day of work arrives in the feed's order, equal to
the feed; failures are retried with the same ids, back-off growing, and end in a disabled
subscription; re-send, replay, scope, masking, and addresses that are refused."""

from __future__ import annotations

import datetime
import json
import time

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from access.models import AccessLog
from integrations.models import Delivery, Subscription
from jobs.models import Job

from .receiver import Answer, deliver_due, readme_example, receiver_running
from .test_feed import BUNGO, KERINCI, _day_of_work, _payload, _post, _read_feed, _user

SUBSCRIPTIONS = reverse("subscription-list")
EXAMPLE = readme_example()


@pytest.fixture
def receiver():
    yield from (r for r, _server in receiver_running())


def _subscribe(client: APIClient, url: str, status: int = 201, **body) -> dict:
    response = client.post(SUBSCRIPTIONS, {"url": url, **body}, format="json")
    assert response.status_code == status, response.content[:500]
    return response.json()


def _deliver() -> list[int]:
    return deliver_due()


def _time_passes(subscription_id: int) -> None:
    """As if the back-off had passed: the next attempt is due now."""
    Subscription.objects.filter(pk=subscription_id).update(
        next_attempt_at=timezone.now() - datetime.timedelta(seconds=1)
    )


def _events(receiver) -> list[dict]:
    return [json.loads(got.body) for got in receiver.got]


def _verified_both_ways(secret: str, got) -> dict:
    """The event, verified by the standardwebhooks package and by the README's receiver."""
    by_package = Webhook(secret).verify(got.body, got.headers)
    by_example = EXAMPLE.verify(secret, got.headers, got.body)
    assert by_package == by_example
    return by_example


def _a_worker(client: APIClient, village: str, serial: int) -> dict:
    return _post(client, reverse("worker-list"), _payload(village, serial), 201)


def test_deliveries_are_signed_cloudevents_that_verify_and_a_tampered_body_does_not(regions, admin_client, receiver):
    subscription = _subscribe(admin_client, receiver.url)
    assert subscription["secret"].startswith("whsec_")
    worker = _a_worker(admin_client, "15.01.01.2001", 5001)

    assert _deliver() == [subscription["id"]]

    assert len(receiver.got) == 1
    got = receiver.got[0]
    assert got.headers["Content-Type"] == "application/cloudevents+json"
    event = _verified_both_ways(subscription["secret"], got)
    assert event["specversion"] == "1.0"
    assert event["id"] == got.headers["webhook-id"]
    assert event["type"] == "id.ucj-desa.worker.registered"
    assert event["subject"] == f"workers/{worker['id']}"
    assert event["source"] == "urn:ucj-desa"
    assert event["datacontenttype"] == "application/json"
    assert event["data"]["worker_id"] == worker["id"]
    assert event["time"] == event["data"]["recorded_at"]
    assert abs(int(got.headers["webhook-timestamp"]) - time.time()) < 60
    tampered = got.body.replace(b"Siti Aminah 5001", b"Siti Aminah 5002")
    assert tampered != got.body
    with pytest.raises(WebhookVerificationError):
        Webhook(subscription["secret"]).verify(tampered, got.headers)
    with pytest.raises(EXAMPLE.Refused):
        EXAMPLE.verify(subscription["secret"], got.headers, tampered)
    stale = {**got.headers, "webhook-timestamp": str(int(time.time()) - 600)}
    with pytest.raises(EXAMPLE.Refused):
        EXAMPLE.verify(subscription["secret"], stale, got.body)
    with pytest.raises(WebhookVerificationError):
        Webhook(subscription["secret"].replace("whsec_", "whsec_A")).verify(got.body, got.headers)


def test_a_scripted_day_arrives_in_feed_order_and_equals_the_feed(regions, admin_client, receiver, settings):
    settings.UCJ_WEBHOOK_BATCH = 4  # the run pages through the feed, four changes at a time
    subscription = _subscribe(admin_client, receiver.url)

    _day_of_work(admin_client)
    _deliver()

    feed, _last = _read_feed(admin_client)
    assert len(feed) == 14
    events = [_verified_both_ways(subscription["secret"], got) for got in receiver.got]
    assert [event["data"] for event in events] == feed  # every change once, in order, as the feed shows it
    assert receiver.ids == [f"change-{Delivery.objects.get(message_id=i).event_id}" for i in receiver.ids]
    assert len(set(receiver.ids)) == 14
    assert [event["type"].rsplit(".", 2)[1:] for event in events] == [
        ["worker", "registered"],
        ["worker", "registered"],
        ["worker", "registered"],
        ["worker", "updated"],
        ["worker", "moved"],
        ["enrollment", "submitted"],
        ["enrollment", "activated"],
        ["enrollment", "renewed"],
        ["enrollment", "lapsed"],
        ["enrollment", "submitted"],
        ["enrollment", "activated"],
        ["worker", "service_ended"],
        ["worker", "registered"],
        ["worker", "registered"],
    ]
    answer = admin_client.get(reverse("subscription-detail", args=[subscription["id"]])).json()
    assert answer["position"] == feed[-1]["cursor"]
    # Up to date: the next poll queues nothing, and a new change goes out alone.
    assert _deliver() == []
    _a_worker(admin_client, "15.71.01.1001", 5010)
    assert _deliver() == [subscription["id"]]
    assert len(receiver.got) == 15


def test_a_change_rolled_back_sends_nothing(regions, admin_client, receiver):
    subscription = _subscribe(admin_client, receiver.url)

    def failing_write() -> None:
        with transaction.atomic():
            _a_worker(admin_client, "15.01.01.2001", 5001)
            raise RuntimeError("the transaction fails after the change")

    with pytest.raises(RuntimeError):
        failing_write()
    _deliver()
    assert receiver.got == []
    kept = _a_worker(admin_client, "15.01.01.2002", 5002)
    _deliver()

    events = [_verified_both_ways(subscription["secret"], got) for got in receiver.got]
    assert [(e["type"], e["data"]["worker_id"]) for e in events] == [("id.ucj-desa.worker.registered", kept["id"])]


def test_a_500_is_retried_later_with_the_same_id_and_nothing_is_skipped(regions, admin_client, receiver):
    subscription = _subscribe(admin_client, receiver.url)
    workers = [_a_worker(admin_client, "15.01.01.2001", 5001 + n) for n in range(3)]
    receiver.script = [Answer(500, body=b"sorry, down"), Answer(503)]

    _deliver()
    assert len(receiver.got) == 1
    first = receiver.ids[0]
    log = admin_client.get(reverse("subscription-deliveries", args=[subscription["id"]])).json()["results"]
    assert [(d["event_id"], d["status_code"], d["error"], d["attempt"]) for d in log] == [(first, 500, "status", 1)]
    assert log[0]["response_body"] == "sorry, down"
    assert log[0]["next_attempt_at"] is not None
    _deliver()  # not due yet: nothing is sent
    assert len(receiver.got) == 1
    _time_passes(subscription["id"])
    _deliver()  # 503: the same change again
    _time_passes(subscription["id"])
    _deliver()  # accepted, and the rest after it

    assert receiver.ids == [first, first, first, *receiver.ids[3:]]
    assert [json.loads(got.body)["data"]["worker_id"] for got in receiver.got] == [
        workers[0]["id"],
        workers[0]["id"],
        workers[0]["id"],
        workers[1]["id"],
        workers[2]["id"],
    ]
    log = admin_client.get(reverse("subscription-deliveries", args=[subscription["id"]])).json()["results"]
    assert [(d["status_code"], d["attempt"]) for d in reversed(log)] == [
        (500, 1),
        (503, 2),
        (204, 3),
        (204, 1),
        (204, 1),
    ]
    state = Subscription.objects.get(pk=subscription["id"])
    assert (state.failures, state.next_attempt_at, state.active) == (0, None, True)


def test_back_off_grows_after_each_failure(regions, admin_client, receiver, settings):
    settings.UCJ_WEBHOOK_BACKOFF = 10
    subscription = _subscribe(admin_client, receiver.url)
    _a_worker(admin_client, "15.01.01.2001", 5001)
    receiver.default = Answer(500)

    waits = []
    for _attempt in range(5):
        _time_passes(subscription["id"])
        _deliver()
        delivery = Delivery.objects.filter(subscription_id=subscription["id"]).latest("id")
        waits.append((delivery.next_attempt_at - delivery.at).total_seconds())

    assert len(set(receiver.ids)) == 1
    for wait, base in zip(waits, [10, 20, 40, 80, 160], strict=True):
        assert base <= wait <= base * 1.1
    assert waits == sorted(waits)


def test_a_timeout_is_retried_with_the_same_id_and_order_holds(regions, admin_client, receiver, settings):
    settings.UCJ_WEBHOOK_TIMEOUT = 0.5
    subscription = _subscribe(admin_client, receiver.url)
    workers = [_a_worker(admin_client, "15.01.01.2001", 5001 + n) for n in range(2)]
    receiver.script = [Answer(204, sleep=1.5)]  # answers after the sender stopped waiting

    _deliver()
    assert len(receiver.got) == 1
    delivery = Delivery.objects.get(subscription_id=subscription["id"])
    assert (delivery.status_code, delivery.error) == (None, "timeout")
    assert 400 <= delivery.duration_ms < 1400
    _time_passes(subscription["id"])
    _deliver()

    ids = receiver.ids
    assert ids[0] == ids[1] != ids[2]
    assert [json.loads(got.body)["data"]["worker_id"] for got in receiver.got] == [
        workers[0]["id"],
        workers[0]["id"],
        workers[1]["id"],
    ]


def test_a_receiver_refusing_connections_is_logged_as_refused(regions, admin_client, receiver):
    subscription = _subscribe(admin_client, receiver.url)
    closed = receiver.url.replace(receiver.url.split(":")[2].split("/")[0], "1")  # port 1: nobody listens
    Subscription.objects.filter(pk=subscription["id"]).update(url=closed)
    _a_worker(admin_client, "15.01.01.2001", 5001)

    _deliver()

    assert Delivery.objects.get().error == "refused"


def test_repeated_failure_disables_with_a_reason_and_re_enabling_resumes(
    regions, admin_client, admin_user, receiver, settings
):
    settings.UCJ_WEBHOOK_DISABLE_AFTER_ATTEMPTS = 3
    settings.UCJ_WEBHOOK_DISABLE_AFTER_HOURS = 0
    subscription = _subscribe(admin_client, receiver.url)
    workers = [_a_worker(admin_client, "15.01.01.2001", 5001 + n) for n in range(2)]
    receiver.default = Answer(500)

    for _attempt in range(3):
        _time_passes(subscription["id"])
        _deliver()

    url = reverse("subscription-detail", args=[subscription["id"]])
    answer = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="en").json()
    assert answer["active"] is False
    assert answer["disabled_at"] is not None
    # Written when it was disabled, in the server's language (Bahasa Indonesia).
    assert "3 percobaan berturut-turut gagal" in answer["disabled_reason"]
    assert answer["disabled_reason"].endswith("yang terakhir: HTTP 500.")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [admin_user.email]
    assert str(subscription["id"]) in mail.outbox[0].subject
    _time_passes(subscription["id"])
    assert _deliver() == []  # disabled: nothing is queued
    assert len(receiver.got) == 3

    receiver.default = Answer(204)
    response = admin_client.patch(url, {"active": True}, format="json")
    assert response.status_code == 200
    assert (response.json()["active"], response.json()["disabled_reason"], response.json()["failures"]) == (True, "", 0)
    _deliver()

    got = [json.loads(g.body)["data"]["worker_id"] for g in receiver.got]
    assert got == [workers[0]["id"]] * 4 + [workers[1]["id"]]


def test_resend_sends_the_same_change_again_with_the_same_ids(regions, admin_client, receiver):
    subscription = _subscribe(admin_client, receiver.url)
    for n in range(3):
        _a_worker(admin_client, "15.01.01.2001", 5001 + n)
    _deliver()
    second = Delivery.objects.filter(subscription_id=subscription["id"]).order_by("id")[1]

    response = admin_client.post(reverse("subscription-resend", args=[subscription["id"], second.pk]))

    assert response.status_code == 202
    assert response.json()["kind"] == "resend_webhook"
    assert Job.objects.get(pk=response.json()["id"]).state == "succeeded"
    assert len(receiver.got) == 4
    assert receiver.got[3].body.split(b'"cursor"')[0] == receiver.got[1].body.split(b'"cursor"')[0]
    assert receiver.ids[3] == receiver.ids[1] == second.message_id
    _verified_both_ways(subscription["secret"], receiver.got[3])
    log = admin_client.get(reverse("subscription-deliveries", args=[subscription["id"]])).json()["results"]
    assert (log[0]["event_id"], log[0]["resend"], log[0]["status_code"]) == (second.message_id, True, 204)
    missing = admin_client.post(reverse("subscription-resend", args=[subscription["id"], second.pk + 1000]))
    assert missing.status_code == 404


def test_replay_rewinds_to_a_feed_cursor_and_sends_the_rest_again(regions, admin_client, receiver):
    subscription = _subscribe(admin_client, receiver.url)
    for n in range(3):
        _a_worker(admin_client, "15.01.01.2001", 5001 + n)
    _deliver()
    first = json.loads(receiver.got[0].body)["data"]["cursor"]

    url = reverse("subscription-replay", args=[subscription["id"]])
    response = admin_client.post(url, {"after": first}, format="json")
    assert response.status_code == 200
    assert response.json()["position"] == first
    _deliver()

    assert receiver.ids == receiver.ids[:3] + receiver.ids[1:3]
    bad = admin_client.post(url, {"after": "not-a-cursor"}, format="json")
    assert bad.status_code == 400
    assert [(e["attr"], e["code"]) for e in bad.json()["errors"]] == [("after", "invalid_cursor")]
    from_start = admin_client.post(url, {}, format="json")
    assert from_start.status_code == 200
    _deliver()
    assert len(receiver.got) == 8


def test_the_readme_receiver_verifies_and_deduplicates(regions, admin_client):
    processed = []

    class Recording(EXAMPLE.Receiver):
        seen: set[str] = set()

        def process(self, event):
            processed.append(event)

    for _receiver, server in receiver_running(Recording):
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        subscription = _subscribe(admin_client, url)
        Recording.secret = subscription["secret"]
        _a_worker(admin_client, "15.01.01.2001", 5001)
        _deliver()
        delivery = Delivery.objects.get()
        assert delivery.status_code == 204
        response = admin_client.post(reverse("subscription-resend", args=[subscription["id"], delivery.pk]))
        assert response.status_code == 202
        Recording.secret = "whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"  # not ours: refused
        response = admin_client.post(reverse("subscription-resend", args=[subscription["id"], delivery.pk]))
        assert response.status_code == 202

    assert [event["id"] for event in processed] == [delivery.message_id]  # the re-send was skipped
    log = Delivery.objects.order_by("id")
    assert [(d.status_code, d.resend) for d in log] == [(204, False), (204, True), (401, True)]


def test_a_rotated_secret_signs_beside_the_previous_one(regions, admin_client, receiver, settings):
    subscription = _subscribe(admin_client, receiver.url)
    detail = reverse("subscription-detail", args=[subscription["id"]])
    assert "secret" not in admin_client.get(detail).json()
    assert "secret" not in admin_client.get(SUBSCRIPTIONS).json()["results"][0]

    response = admin_client.post(reverse("subscription-rotate-secret", args=[subscription["id"]]))
    assert response.status_code == 200
    rotated = response.json()["secret"]
    assert rotated.startswith("whsec_")
    assert rotated != subscription["secret"]
    _a_worker(admin_client, "15.01.01.2001", 5001)
    _deliver()

    got = receiver.got[0]
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    _verified_both_ways(rotated, got)
    _verified_both_ways(subscription["secret"], got)  # within the grace period
    settings.UCJ_WEBHOOK_SECRET_GRACE_HOURS = 0
    admin_client.post(reverse("subscription-rotate-secret", args=[subscription["id"]]))
    _a_worker(admin_client, "15.01.01.2001", 5002)
    _deliver()
    assert len(receiver.got[1].headers["webhook-signature"].split(" ")) == 1


# -- the API: fields, scope, addresses ---------------------------------------------------------


def test_a_subscription_is_created_listed_edited_and_deleted(regions, admin_client, receiver):
    created = _subscribe(admin_client, receiver.url, types=["enrollment"], region="1508")
    assert {k: created[k] for k in ("url", "types", "region", "active", "disabled_reason", "failures")} == {
        "url": receiver.url,
        "types": ["enrollment"],
        "region": BUNGO,
        "active": True,
        "disabled_reason": "",
        "failures": 0,
    }
    detail = reverse("subscription-detail", args=[created["id"]])
    listed = admin_client.get(SUBSCRIPTIONS).json()["results"]
    assert [s["id"] for s in listed] == [created["id"]]

    patched = admin_client.patch(detail, {"types": ["coverage", "worker"], "region": None}, format="json")
    assert patched.status_code == 200
    assert (patched.json()["types"], patched.json()["region"]) == (["worker", "coverage"], "")
    put = admin_client.put(detail, {"url": receiver.url + "/v2"}, format="json")
    assert put.status_code == 200
    assert put.json()["types"] == ["worker", "enrollment", "region", "coverage"]
    stopped = admin_client.patch(detail, {"active": False}, format="json").json()
    assert (stopped["active"], stopped["disabled_at"] is not None) == (False, True)
    assert admin_client.delete(detail).status_code == 204
    assert admin_client.get(detail).status_code == 404


def test_types_and_region_narrow_what_is_delivered(regions, admin_client, receiver):
    subscription = _subscribe(admin_client, receiver.url, types=["enrollment"], region=BUNGO)
    _day_of_work(admin_client)
    _deliver()

    feed, _ = _read_feed(admin_client, f"&types=enrollment&region={BUNGO}")
    assert [json.loads(got.body)["data"] for got in receiver.got] == feed
    assert subscription["types"] == ["enrollment"]


def test_bad_bodies_are_refused_naming_the_field(regions, admin_client, receiver):
    def refused(body: dict) -> list[tuple[str, str]]:
        response = admin_client.post(SUBSCRIPTIONS, body, format="json")
        assert response.status_code == 400, response.content
        return [(e["attr"], e["code"]) for e in response.json()["errors"]]

    assert refused({"url": receiver.url, "types": ["gossip"]})[0][0] == "types.0"
    assert refused({"url": receiver.url, "types": []})[0][0] == "types"
    assert refused({"url": receiver.url, "region": "15.8"})[0][0] == "region"
    assert refused({"url": receiver.url, "region": "99.99"}) == [("region", "does_not_exist")]
    assert refused({"url": receiver.url, "secret": "mine"})[0][0] == "secret"
    assert refused({"types": ["worker"]})[0][0] == "url"
    assert Subscription.objects.count() == 0


def test_a_region_outside_the_callers_is_refused_and_anothers_subscription_is_not_found(
    regions, admin_client, receiver
):
    officer = _user("regency_officer", regency=KERINCI)
    response = officer.post(SUBSCRIPTIONS, {"url": receiver.url, "region": BUNGO}, format="json")
    assert response.status_code == 400
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [("region", "out_of_scope")]
    theirs = _subscribe(admin_client, receiver.url)
    mine = _subscribe(officer, receiver.url, region="15.01.01")

    assert [s["id"] for s in officer.get(SUBSCRIPTIONS).json()["results"]] == [mine["id"]]
    for name, args in (("subscription-detail", []), ("subscription-deliveries", []), ("subscription-replay", [])):
        url = reverse(name, args=[theirs["id"], *args])
        assert officer.get(url).status_code == (404 if name != "subscription-replay" else 405)
    detail = reverse("subscription-detail", args=[theirs["id"]])
    assert officer.patch(detail, {"active": False}, format="json").status_code == 404
    assert officer.delete(detail).status_code == 404
    assert officer.post(reverse("subscription-rotate-secret", args=[theirs["id"]])).status_code == 404
    assert officer.post(reverse("subscription-replay", args=[theirs["id"]]), {}, format="json").status_code == 404
    assert officer.post(reverse("subscription-resend", args=[theirs["id"], 1])).status_code == 404
    assert Subscription.objects.get(pk=theirs["id"]).active is True


def test_subscriptions_need_the_right_to_read_workers(regions, receiver):
    viewer = _user("viewer", regency=KERINCI)
    assert viewer.get(SUBSCRIPTIONS).status_code == 403
    assert viewer.post(SUBSCRIPTIONS, {"url": receiver.url}, format="json").status_code == 403
    assert APIClient().get(SUBSCRIPTIONS).status_code == 401


def test_an_owner_gets_only_its_regions_changes_masked_without_the_right(regions, admin_client, receiver):
    officer = _user("regency_officer", regency=KERINCI)
    subscription = _subscribe(officer, receiver.url)
    ids = _day_of_work(admin_client)
    logged = AccessLog.objects.count()  # the admin's own reads of the day
    _deliver()

    feed, _ = _read_feed(officer)
    events = [_verified_both_ways(subscription["secret"], got) for got in receiver.got]
    assert [event["data"] for event in events] == feed
    assert {event["data"]["worker_id"] for event in events} == {change["worker_id"] for change in feed}
    assert ids["c"] not in {event["data"]["worker_id"] for event in events}  # Bungo's: never sent
    body = b"".join(got.body for got in receiver.got)
    assert _payload("", 5001)["nik"].encode() not in body
    assert _payload("", 5002)["nik"].encode() not in body
    assert b"081298765432" not in body
    assert AccessLog.objects.count() == logged


def test_personal_data_sent_in_full_is_written_to_the_access_log(regions, admin_client, receiver):
    officer = _user("regency_officer", regency=KERINCI, personal_data=True)
    subscription = _subscribe(officer, receiver.url)
    worker = _a_worker(admin_client, "15.01.01.2001", 5001)

    _deliver()

    assert _payload("", 5001)["nik"].encode() in receiver.got[0].body
    entry = AccessLog.objects.latest("id")
    assert (entry.user, entry.kind, entry.worker_ids) == (officer.user, "personal_data", [worker["id"]])
    assert entry.path == f"/api/v1/subscriptions/{subscription['id']}/"


def test_an_owner_that_lost_the_right_to_read_workers_is_disabled(regions, admin_client, receiver):
    officer = _user("regency_officer", regency=KERINCI)
    subscription = _subscribe(officer, receiver.url)
    officer.user.access_profile.role = "viewer"
    officer.user.access_profile.save()
    _a_worker(admin_client, "15.01.01.2001", 5001)

    _deliver()

    state = Subscription.objects.get(pk=subscription["id"])
    assert receiver.got == []
    assert state.active is False
    assert state.disabled_reason != ""


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://example.com/hook", "url_scheme"),
        ("javascript:alert(1)", "url_scheme"),
        ("https://user:secret@example.com/hook", "url_credentials"),
        ("http://127.0.0.1:9/hook", "url_private"),
        ("http://localhost:9/hook", "url_private"),
        ("http://10.1.2.3/hook", "url_private"),
        ("http://192.168.0.10/hook", "url_private"),
        ("http://169.254.169.254/latest/meta-data/", "url_private"),
        ("http://[::1]:9/hook", "url_private"),
        ("http://[::ffff:127.0.0.1]:9/hook", "url_private"),
        ("http://[2002:7f00:1::1]:9/hook", "url_private"),  # 6to4 of 127.0.0.1
        ("http://[fe80::1]:9/hook", "url_private"),
        ("http://100.64.0.1/hook", "url_private"),  # carrier-grade NAT
        ("http://0.0.0.0:9/hook", "url_private"),
        ("https://name.invalid/hook", "url_dns"),
    ],
)
def test_addresses_that_would_reach_our_own_network_are_refused(regions, admin_client, settings, url, code):
    settings.UCJ_WEBHOOK_ALLOW_PRIVATE = False

    response = admin_client.post(SUBSCRIPTIONS, {"url": url}, format="json")

    assert response.status_code == 400
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [("url", code)]
    assert Subscription.objects.count() == 0


def test_plain_http_is_refused_unless_allowed(regions, admin_client, receiver, settings):
    settings.UCJ_WEBHOOK_ALLOW_HTTP = False

    response = admin_client.post(SUBSCRIPTIONS, {"url": receiver.url}, format="json")

    assert response.status_code == 400
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [("url", "url_scheme")]


def test_an_address_checked_again_at_delivery_reaches_nothing_private(regions, admin_client, receiver, settings):
    subscription = _subscribe(admin_client, receiver.url)
    _a_worker(admin_client, "15.01.01.2001", 5001)
    settings.UCJ_WEBHOOK_ALLOW_PRIVATE = False

    _deliver()

    assert receiver.got == []
    delivery = Delivery.objects.get(subscription_id=subscription["id"])
    assert (delivery.status_code, delivery.error) == (None, "address")


def test_one_delivery_job_at_a_time_per_subscription(regions, admin_client, receiver, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}  # queued, not run
    subscription = _subscribe(admin_client, receiver.url)
    _a_worker(admin_client, "15.01.01.2001", 5001)

    assert _deliver() == [subscription["id"]]
    assert _deliver() == []  # its job is still queued
    assert Job.objects.filter(kind="deliver_webhooks").count() == 1
    Job.objects.filter(kind="deliver_webhooks").update(state="succeeded")
    assert _deliver() == [subscription["id"]]  # finished without delivering: queued again


def test_the_delivery_log_keeps_what_matters_and_is_pruned(regions, admin_client, receiver, settings):
    from integrations.services import deliveries_prune

    subscription = _subscribe(admin_client, receiver.url)
    receiver.script = [Answer(500, body=b"x" * 5000)]
    _a_worker(admin_client, "15.01.01.2001", 5001)
    _deliver()

    delivery = Delivery.objects.get()
    assert len(delivery.response_body) == 1024
    assert delivery.type == "id.ucj-desa.worker.registered"
    Delivery.objects.update(at=timezone.now() - datetime.timedelta(days=31))
    assert deliveries_prune() == 1
    assert admin_client.get(reverse("subscription-deliveries", args=[subscription["id"]])).json()["results"] == []


def test_lists_read_a_fixed_number_of_statements(regions, admin_client, receiver, django_assert_max_num_queries):
    subscription = _subscribe(admin_client, receiver.url)
    _a_worker(admin_client, "15.01.01.2001", 5001)
    _deliver()
    deliveries = reverse("subscription-deliveries", args=[subscription["id"]])
    with django_assert_max_num_queries(12) as few:
        assert admin_client.get(deliveries).status_code == 200
        assert admin_client.get(SUBSCRIPTIONS).status_code == 200
    counted = len(few.captured_queries)
    for n in range(4):
        _subscribe(admin_client, receiver.url)
        _a_worker(admin_client, "15.01.01.2001", 5002 + n)
    _deliver()
    with django_assert_max_num_queries(counted):
        assert admin_client.get(deliveries).status_code == 200
        assert admin_client.get(SUBSCRIPTIONS).status_code == 200


def test_the_admin_shows_subscriptions_and_their_log_to_admins_only_never_the_secret(
    regions, admin_client, admin_user, receiver
):
    from django.test import Client

    subscription = _subscribe(admin_client, receiver.url)
    _a_worker(admin_client, "15.01.01.2001", 5001)
    _deliver()
    rotated = admin_client.post(reverse("subscription-rotate-secret", args=[subscription["id"]])).json()["secret"]
    browser = Client()
    browser.force_login(admin_user)

    pages = [
        browser.get(reverse("admin:integrations_subscription_changelist")),
        browser.get(reverse("admin:integrations_subscription_change", args=[subscription["id"]])),
        browser.get(reverse("admin:integrations_delivery_changelist")),
        browser.get(reverse("admin:integrations_delivery_change", args=[Delivery.objects.get().pk])),
    ]

    assert [page.status_code for page in pages] == [200, 200, 200, 200]
    assert receiver.url.encode() in pages[1].content
    assert b"change-" in pages[2].content
    for page in pages:
        for secret in (subscription["secret"], rotated):
            assert secret.removeprefix("whsec_").encode() not in page.content
    officer = _user("regency_officer", regency=KERINCI)
    officer.user.is_staff = True
    officer.user.save()
    staff = Client()
    staff.force_login(officer.user)
    assert staff.get(reverse("admin:integrations_subscription_changelist")).status_code == 403


def test_the_readme_shows_the_receiver_the_tests_run():
    from pathlib import Path

    from .receiver import EXAMPLE as EXAMPLE_FILE

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()

    assert f"```python\n{EXAMPLE_FILE.read_text()}```" in readme
