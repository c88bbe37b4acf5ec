"""The held queue in bulk (moderation.held; /api/v1/manage/letters/{slug}/held/ and …/held/bulk, /manage/{slug}/held/):
filters, preview with a confirmation, the action through each signature's own service, refused when the selection
changed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from letters.models import Signature, SignatureEvent, VerificationRecord
from letters.services.verification import signature_hold, signature_release
from moderation import held as held_module
from organizing.models import Membership
from registry.models import AuditEvent
from tests.builders import public_count, signed
from tests.factories import LetterFactory
from tests.organizing.conftest import member

pytestmark = pytest.mark.django_db
LIST = "/api/v1/manage/letters/queue/held/"
BULK = "/api/v1/manage/letters/queue/held/bulk"
VALIDATION = "Invalid input."


@pytest.fixture
def letter(db):
    return LetterFactory(slug="queue", title="The queue letter")


@pytest.fixture
def sigs(letter):
    """Three held at senior_title (two @acme.example, one pending), two rate limited, one visible."""
    early = timezone.now() - timedelta(hours=2)
    made = {
        "ceo": signed(letter, name="Carla Chief", email="carla@acme.example", at=early),
        "cto": signed(letter, name="Tom Tech", email="tom@acme.example"),
        "pending": signed(letter, name="Penny Pending", email="penny@acme.example", confirm=False),
        "bot1": signed(letter, name="Bot One", email="one@bots.example"),
        "bot2": signed(letter, name="Bot Two", email="two@bots.example"),
        "real": signed(letter, name="Real Person", email="real@real.example"),
    }
    for key in ("ceo", "cto", "pending"):
        signature_hold(signature=made[key], reason=Signature.HoldReason.SENIOR_TITLE)
    for key in ("bot1", "bot2"):
        signature_hold(signature=made[key], reason=Signature.HoldReason.RATE_LIMITED)
    return {k: Signature.objects.get(pk=v.pk) for k, v in made.items()}


@pytest.fixture
def moderator(letter):
    return member(letter, Membership.Role.MODERATOR, username="mod")


@pytest.fixture
def api(client, moderator):
    client.force_login(moderator)
    return client


def post(client, data):
    return client.post(BULK, data, content_type="application/json")


def state(letter):
    return sorted(
        Signature.objects.filter(letter=letter).values_list("name", "status", "hold_reason", "verification_level")
    )


def test_the_held_list_filters_by_reason_domain_name_and_time(api, sigs):
    def names(query):
        response = api.get(LIST + query)
        assert response.status_code == 200
        return sorted(s["name"] for s in response.json()["results"])

    assert names("") == ["Bot One", "Bot Two", "Carla Chief", "Penny Pending", "Tom Tech"]
    assert names("?hold_reason=rate_limited") == ["Bot One", "Bot Two"]
    assert names("?email_domain=acme.example&name=t") == ["Tom Tech"]
    assert names("?email_domain=*.example&name=CHIEF") == ["Carla Chief"]
    assert names("?name=*chief") == ["Carla Chief"]  # a glob, as the invalidation criterion
    assert names("?name=Bot*") == ["Bot One", "Bot Two"]
    assert names("?name=*Musk*") == []
    since = (timezone.now() - timedelta(hours=1)).isoformat()
    assert "Carla Chief" not in names(f"?signed_after={since.replace('+', '%2B')}")
    assert names("?source=import") == []


def test_a_bad_filter_is_a_field_error(api, sigs):
    response = api.get(LIST + "?signed_after=yesterday&hold_reason=bored")
    assert response.status_code == 400
    assert response.json() == {
        "detail": VALIDATION,
        "errors": {
            "signed_after": ["An ISO 8601 instant with its offset, e.g. 2026-11-17T09:00:00Z."],
            "hold_reason": ["One of protected_name, senior_title, mixed_script, rate_limited, admin."],
        },
    }


@pytest.mark.parametrize("instant", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_an_instant_beyond_the_calendar_in_utc_is_a_field_error(api, sigs, instant):
    response = api.get(LIST, {"signed_after": instant})
    assert response.status_code == 400
    assert response.json() == {"detail": VALIDATION, "errors": {"signed_after": ["Datetime value out of range."]}}


def test_release_by_ids_previews_then_acts_with_the_confirmation(api, letter, sigs, moderator):
    before, visible = state(letter), public_count(letter)
    chosen = [sigs["bot1"].public_id, sigs["bot2"].public_id]
    preview = post(api, {"action": "release", "signatures": chosen})
    assert preview.status_code == 200
    body = preview.json()
    assert (body["action"], body["count"], len(body["confirmation"])) == ("release", 2, 64)
    assert [s["name"] for s in body["sample"]] == ["Bot One", "Bot Two"]
    assert "email" not in body["sample"][0]
    assert state(letter) == before
    done = post(api, {"action": "release", "signatures": chosen, "confirmation": body["confirmation"]})
    assert (done.status_code, done.json()) == (200, {"action": "release", "done": 2, "skipped": 0})
    assert Signature.objects.get(pk=sigs["bot1"].pk).hold_reason == ""
    assert Signature.objects.get(pk=sigs["ceo"].pk).hold_reason == "senior_title"
    assert public_count(letter) == visible + 2
    assert SignatureEvent.objects.filter(letter=letter, kind=SignatureEvent.Kind.RELEASED).count() == 2
    summary = AuditEvent.objects.get(action="moderation.held.bulk_release")
    assert (summary.actor_id, summary.data["selected"], summary.data["done"]) == (moderator.pk, 2, 2)


def test_verify_all_matching_takes_only_confirmed_signatures_with_the_evidence(api, letter, sigs, moderator):
    selection = {"action": "verify", "all_matching": True, "filters": {"email_domain": "acme.example"}}
    params = {"method": "manual", "evidence": "Called their office"}
    preview = post(api, {**selection, **params}).json()
    assert preview["count"] == 2  # Penny is pending: verification needs a confirmed signature
    done = post(api, {**selection, **params, "confirmation": preview["confirmation"]})
    assert done.json() == {"action": "verify", "done": 2, "skipped": 0}
    records = VerificationRecord.objects.filter(signature__letter=letter).order_by("signature_id")
    assert [(r.signature_id, r.method, r.evidence, r.verifier_id) for r in records] == [
        (sigs["ceo"].pk, "manual", "Called their office", moderator.pk),
        (sigs["cto"].pk, "manual", "Called their office", moderator.pk),
    ]
    assert Signature.objects.get(pk=sigs["ceo"].pk).verification_level == "manual"
    assert Signature.objects.get(pk=sigs["pending"].pk).hold_reason == "senior_title"


def test_reject_by_filter_in_batches_records_each_with_its_reason(api, letter, sigs, monkeypatch):
    monkeypatch.setattr(held_module, "BATCH", 1)
    selection = {"action": "reject", "all_matching": True, "filters": {"hold_reason": "rate_limited"}}
    params = {"reason": "Bot wave", "public_reason": "Automated"}
    preview = post(api, {**selection, **params}).json()
    done = post(api, {**selection, **params, "confirmation": preview["confirmation"]})
    assert done.json() == {"action": "reject", "done": 2, "skipped": 0}
    rejected = Signature.objects.filter(letter=letter, status="rejected").order_by("pk")
    assert [(s.name, s.rejection_reason, s.public_removal_reason) for s in rejected] == [
        ("Bot One", "Bot wave", "Automated"),
        ("Bot Two", "Bot wave", "Automated"),
    ]
    assert AuditEvent.objects.filter(action="letters.signature.rejected").count() == 2
    assert AuditEvent.objects.get(action="moderation.held.bulk_reject").data["filters"] == {
        "hold_reason": "rate_limited"
    }


def test_a_selection_that_grew_since_the_preview_is_refused_and_nothing_changes(api, letter, sigs):
    selection = {"action": "release", "all_matching": True, "filters": {"hold_reason": "rate_limited"}}
    preview = post(api, selection).json()
    newcomer = signed(letter, name="Bot Three", email="three@bots.example")
    signature_hold(signature=newcomer, reason=Signature.HoldReason.RATE_LIMITED)
    before, events = state(letter), SignatureEvent.objects.count()
    refused = post(api, {**selection, "confirmation": preview["confirmation"]})
    assert (refused.status_code, refused.json()) == (
        409,
        {
            "detail": "The selection changed since it was confirmed (it is now 3 signatures): preview it again.",
            "errors": {},
        },
    )
    assert (state(letter), SignatureEvent.objects.count()) == (before, events)
    assert not AuditEvent.objects.filter(action__startswith="moderation.held.").exists()


def test_a_chosen_signature_released_meanwhile_makes_the_confirmation_stale(api, letter, sigs):
    chosen = [sigs["bot1"].public_id, sigs["bot2"].public_id]
    preview = post(api, {"action": "release", "signatures": chosen}).json()
    signature_release(signature=sigs["bot1"])
    refused = post(api, {"action": "release", "signatures": chosen, "confirmation": preview["confirmation"]})
    assert (refused.status_code, refused.json()["detail"]) == (
        409,
        "The selection changed since it was confirmed (it is now 1 signature): preview it again.",
    )
    assert Signature.objects.get(pk=sigs["bot2"].pk).hold_reason == "rate_limited"


def test_a_confirmation_for_another_action_is_refused(api, sigs):
    chosen = [sigs["bot1"].public_id]
    preview = post(api, {"action": "release", "signatures": chosen}).json()
    refused = post(
        api, {"action": "reject", "signatures": chosen, "reason": "x", "confirmation": preview["confirmation"]}
    )
    assert refused.status_code == 409
    assert Signature.objects.get(pk=sigs["bot1"].pk).status == "confirmed"


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"action": "reject", "all_matching": True}, {"reason": ["Say why (private, kept in the audit trail)."]}),
        (
            {"action": "verify", "all_matching": True},
            {"evidence": ["Say how these signers were checked (kept with each verification)."]},
        ),
        (
            {"action": "release", "signatures": ["x"], "all_matching": True},
            {"signatures": ["Choose signatures (their ids), or every one matching the filters (all_matching)."]},
        ),
        (
            {"action": "release"},
            {"signatures": ["Choose signatures (their ids), or every one matching the filters (all_matching)."]},
        ),
        ({"action": "erase", "all_matching": True}, {"action": ['"erase" is not a valid choice.']}),
        (
            {"action": "release", "all_matching": True, "filters": {"signed_before": "soon"}},
            {"signed_before": ["An ISO 8601 instant with its offset, e.g. 2026-11-17T09:00:00Z."]},
        ),
        (
            {"action": "release", "signatures": ["nope"]},
            {"signatures": ["1 of the chosen signatures are not held signatures of this letter (or its filters)."]},
        ),
        (
            {"action": "release", "all_matching": True, "filters": {"name": "Nobody"}},
            {"signatures": ["No held signature matches."]},
        ),
    ],
)
def test_bad_requests_are_field_errors_and_change_nothing(api, letter, sigs, data, errors):
    before = state(letter)
    response = post(api, data)
    assert (response.status_code, response.json()) == (400, {"detail": VALIDATION, "errors": errors})
    assert state(letter) == before


def test_a_visible_signature_is_not_in_the_held_selection(api, sigs):
    response = post(api, {"action": "release", "signatures": [sigs["real"].public_id]})
    assert response.status_code == 400


def test_viewers_may_not_act_in_bulk(client, letter, sigs):
    client.force_login(member(letter, Membership.Role.VIEWER, username="viewer"))
    response = post(client, {"action": "release", "all_matching": True})
    assert response.status_code == 403


# Pages


@pytest.fixture
def page(client, moderator):
    client.force_login(moderator)
    return client


def test_the_held_page_filters_and_offers_checkboxes(page, sigs):
    response = page.get("/manage/queue/held/?hold_reason=rate_limited")
    assert response.status_code == 200
    body = response.content.decode()
    assert f'name="signatures" value="{sigs["bot1"].public_id}"' in body
    assert "Carla Chief" not in body
    assert '<input type="hidden" name="hold_reason" value="rate_limited">' in body


def test_a_bad_filter_on_the_page_is_a_400_with_the_error(page, sigs):
    response = page.get("/manage/queue/held/?signed_after=someday")
    assert response.status_code == 400
    assert "An ISO 8601 instant" in response.content.decode()


def test_the_page_confirms_before_acting_and_then_acts(page, letter, sigs):
    before = state(letter)
    chosen = {"action": "reject", "signatures": [sigs["bot1"].public_id, sigs["bot2"].public_id], "reason": "Bots"}
    confirm = page.post("/manage/queue/held/bulk/", chosen)
    assert confirm.status_code == 200
    assert state(letter) == before
    body = confirm.content.decode()
    assert "Reject 2 held signatures?" in body
    token = confirm.context["preview"].confirmation
    assert f'name="confirmation" value="{token}"' in body
    done = page.post("/manage/queue/held/bulk/", {**chosen, "confirmation": token}, follow=True)
    assert done.redirect_chain == [("/manage/queue/held/", 302)]
    assert "2 signatures rejected." in done.content.decode()
    assert Signature.objects.filter(letter=letter, status="rejected").count() == 2


def test_the_page_shows_a_changed_selection_to_confirm_again(page, letter, sigs):
    form = {"action": "release", "all_matching": "on", "hold_reason": "rate_limited"}
    token = page.post("/manage/queue/held/bulk/", form).context["preview"].confirmation
    signature_release(signature=sigs["bot1"])
    again = page.post("/manage/queue/held/bulk/", {**form, "confirmation": token})
    assert again.status_code == 409
    assert again.context["preview"].count == 1
    assert "The selection changed since it was confirmed (it is now 1 signature)" in again.content.decode()
    assert Signature.objects.get(pk=sigs["bot2"].pk).hold_reason == "rate_limited"


def test_the_page_shows_field_errors_with_a_400(page, letter, sigs):
    before = state(letter)
    response = page.post("/manage/queue/held/bulk/", {"action": "reject", "all_matching": "on"})
    assert response.status_code == 400
    assert "Say why (private, kept in the audit trail)." in response.content.decode()
    assert state(letter) == before


def test_every_one_matching_on_the_page_takes_the_ticked_ones_and_the_rest(page, letter, sigs):
    form = {
        "action": "release",
        "all_matching": "on",
        "hold_reason": "rate_limited",
        "signatures": sigs["bot1"].public_id,
    }
    confirm = page.post("/manage/queue/held/bulk/", form)
    assert (confirm.status_code, confirm.context["preview"].count) == (200, 2)
    assert 'name="signatures"' not in confirm.content.decode()
    page.post("/manage/queue/held/bulk/", {**form, "confirmation": confirm.context["preview"].confirmation})
    assert not Signature.objects.filter(letter=letter, hold_reason="rate_limited").exists()


def test_nul_characters_are_field_errors_not_database_errors(api, page, letter, sigs):
    before = state(letter)
    listed = api.get(LIST + "?name=a%00b")
    assert (listed.status_code, listed.json()["errors"]) == (
        400,
        {"name": ["Text of at most 200 characters (and no NUL)."]},
    )
    assert page.get("/manage/queue/held/?name=a%00b").status_code == 400
    chosen = post(api, {"action": "release", "signatures": [sigs["bot1"].public_id, "a\x00"]})
    assert chosen.status_code == 400
    assert page.post("/manage/queue/held/bulk/", {"action": "release", "signatures": "a\x00"}).status_code == 400
    stale = page.post(
        "/manage/queue/held/bulk/", {"action": "release", "signatures": "a\x00", "confirmation": "0" * 64}
    )
    assert stale.status_code == 400
    assert state(letter) == before


def test_a_selection_over_the_cap_is_refused_with_a_field_error(api, sigs, monkeypatch):
    monkeypatch.setattr(held_module, "MAX_SELECTION", 4)
    response = post(api, {"action": "release", "all_matching": True})
    assert (response.status_code, response.json()["errors"]) == (
        400,
        {"signatures": ["More than 4 signatures: narrow the filters."]},
    )
