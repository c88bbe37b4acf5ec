"""The isolation and role tables of tests/organizing/test_isolation.py: one row per organizer URL pattern (the test
fails for a pattern without its row). Cases name objects of letter B by placeholders the test fills in."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone

FUTURE = (timezone.now() + timedelta(days=30)).replace(microsecond=0)


@dataclass(frozen=True)
class Case:
    method: str
    url: (
        str  # formatted with the world: {a}, {b}, {b_sig}, {b_held}, {b_member}, {b_invitation}, {b_import}, {b_signer}
        # and {b_inval}, {b_alert}
    )
    data: dict[str, Any] | None = None
    expect: int = 404  # 200: the answer is about A (or the user's own letters) and holds nothing of B
    json: bool = True
    upload: bool = False  # a multipart POST with a spreadsheet in `file`


def ask(method: str, url: str, data: dict[str, Any] | None = None, **kw: Any) -> Case:
    return Case(method, url, data, **kw)


VERIFY = {"method": "manual", "evidence": "Called them"}
REJECT = {"reason": "Impersonation"}
MODERATION_API = {
    "hold": None,
    "release": None,
    "verify": VERIFY,
    "reject": REJECT,
}


def _moderation_api(action: str) -> list[Case]:
    data = MODERATION_API[action]
    url = "/api/v1/manage/letters/{slug}/signatures/{sig}/" + action
    return [
        ask("post", url.format(slug="{b}", sig="{b_held}"), data),
        ask("post", url.format(slug="{a}", sig="{b_held}"), data),  # B's signature through A's URL
        ask("post", url.format(slug="{a}", sig="{b_sig}"), data),
    ]


def _moderation_page(action: str) -> list[Case]:
    data = {"hold": {}, "release": {}, "verify": VERIFY, "reject": REJECT}[action]
    url = "/manage/{slug}/signatures/{sig}/" + action + "/"
    return [
        ask("post", url.format(slug="{b}", sig="{b_held}"), data, json=False),
        ask("post", url.format(slug="{a}", sig="{b_held}"), data, json=False),
        ask("post", url.format(slug="{a}", sig="{b_sig}"), data, json=False),
    ]


IMPORT_API = "api/v1/manage/letters/<slug:slug>/imports/<public_id:import_id>/"
IMPORT_PAGE = "manage/<slug:slug>/imports/<str:import_id>/"
SIGNER_API = "api/v1/manage/letters/<slug:slug>/signer-invitations/"
SIGNER_PAGE = "manage/<slug:slug>/signer-invitations/"
INVAL_API = "api/v1/manage/letters/<slug:slug>/invalidations/"
INVAL_PAGE = "manage/<slug:slug>/invalidations/"
SWEEP = {"criteria": {"name": "*"}, "reason": "Mole", "confirm_large": True}
HELD_API = "api/v1/manage/letters/<slug:slug>/held/bulk"
ALERT_API = "api/v1/manage/letters/<slug:slug>/alerts/"
ALERT_PAGE = "manage/<slug:slug>/alerts/"
RELEASE_B = {"action": "release", "signatures": ["{b_held}"]}
RELEASE_ALL = {"action": "release", "all_matching": True}
INVITE = {"name": "Someone New", "email": "new@a.example"}
# The same words whether the letter or object exists elsewhere or nowhere.
NOT_FOUND = {"Not found.", "No such letter.", "No such import.", "No such member.", "No such invitation."}
CASES: dict[str, list[Case]] = {
    # API
    "api/v1/manage/letters/": [
        ask("get", "/api/v1/manage/letters/", expect=200),
        ask("get", "/api/v1/manage/letters/?slug={b}&letter={b}", expect=200),
    ],
    "api/v1/manage/preview": [ask("post", "/api/v1/manage/preview", {"body": "{b}"}, expect=200)],
    "api/v1/manage/letters/<slug:slug>/": [
        ask("get", "/api/v1/manage/letters/{b}/"),
        ask("patch", "/api/v1/manage/letters/{b}/", {"title": "Taken over"}),
        ask("get", "/api/v1/manage/letters/{a}/?slug={b}&letter={b}", expect=200),
        ask("patch", "/api/v1/manage/letters/{a}/", {"slug": "{b}", "letter": "{b}"}, expect=200),
    ],
    "api/v1/manage/letters/<slug:slug>/schedule": [
        ask("post", "/api/v1/manage/letters/{b}/schedule", {"publish_at": FUTURE.isoformat()})
    ],
    "api/v1/manage/letters/<slug:slug>/open": [ask("post", "/api/v1/manage/letters/{b}/open")],
    "api/v1/manage/letters/<slug:slug>/pause": [ask("post", "/api/v1/manage/letters/{b}/pause")],
    "api/v1/manage/letters/<slug:slug>/close": [ask("post", "/api/v1/manage/letters/{b}/close")],
    "api/v1/manage/letters/<slug:slug>/versions/": [
        ask("post", "/api/v1/manage/letters/{b}/versions/", {"body": "Other text", "kind": "material"})
    ],
    "api/v1/manage/letters/<slug:slug>/dashboard": [
        ask("get", "/api/v1/manage/letters/{b}/dashboard"),
        ask("get", "/api/v1/manage/letters/{a}/dashboard?letter={b}&slug={b}&signature={b_held}", expect=200),
    ],
    "api/v1/manage/letters/<slug:slug>/export.csv": [
        ask("get", "/api/v1/manage/letters/{b}/export.csv"),
        ask("get", "/api/v1/manage/letters/{a}/export.csv?letter={b}&slug={b}", expect=200, json=False),
    ],
    "api/v1/manage/letters/<slug:slug>/export.json": [
        ask("get", "/api/v1/manage/letters/{b}/export.json"),
        ask("get", "/api/v1/manage/letters/{a}/export.json?letter={b}", expect=200),
    ],
    "api/v1/manage/letters/<slug:slug>/held/": [
        ask("get", "/api/v1/manage/letters/{b}/held/"),
        ask("get", "/api/v1/manage/letters/{a}/held/?letter={b}&signature={b_held}", expect=200),
    ],
    "api/v1/manage/letters/<slug:slug>/signatures/<public_id:public_id>/hold": _moderation_api("hold"),
    "api/v1/manage/letters/<slug:slug>/signatures/<public_id:public_id>/release": _moderation_api("release"),
    "api/v1/manage/letters/<slug:slug>/signatures/<public_id:public_id>/verify": _moderation_api("verify"),
    "api/v1/manage/letters/<slug:slug>/signatures/<public_id:public_id>/reject": _moderation_api("reject"),
    # Members and invitations (H3a)
    "api/v1/manage/letters/<slug:slug>/members/": [
        ask("get", "/api/v1/manage/letters/{b}/members/"),
        ask("get", "/api/v1/manage/letters/{a}/members/?letter={b}&member={b_member}", expect=200),
    ],
    "api/v1/manage/letters/<slug:slug>/members/<num:member_id>/": [
        ask("patch", "/api/v1/manage/letters/{b}/members/{b_member}/", {"role": "viewer"}),
        ask("patch", "/api/v1/manage/letters/{a}/members/{b_member}/", {"role": "viewer"}),  # B's id through A
        ask("delete", "/api/v1/manage/letters/{b}/members/{b_member}/"),
        ask("delete", "/api/v1/manage/letters/{a}/members/{b_member}/"),
    ],
    "api/v1/manage/letters/<slug:slug>/invitations/": [
        ask("get", "/api/v1/manage/letters/{b}/invitations/"),
        ask("post", "/api/v1/manage/letters/{b}/invitations/", {"email": "mole@a.example", "role": "owner"}),
        ask("get", "/api/v1/manage/letters/{a}/invitations/?letter={b}&invitation={b_invitation}", expect=200),
    ],
    "api/v1/manage/letters/<slug:slug>/invitations/<public_id:invitation_id>/": [
        ask("delete", "/api/v1/manage/letters/{b}/invitations/{b_invitation}/"),
        ask("delete", "/api/v1/manage/letters/{a}/invitations/{b_invitation}/"),
    ],
    # B's invitation id is not its token: the answer is a refusal that names nothing of B.
    "api/v1/manage/invitations/accept": [
        ask("post", "/api/v1/manage/invitations/accept", {"token": "{b_invitation}"}, expect=400)
    ],
    "manage/<slug:slug>/members/": [
        ask("get", "/manage/{b}/members/", json=False),
        ask("get", "/manage/{a}/members/?letter={b}", expect=200, json=False),
    ],
    "manage/<slug:slug>/members/invite/": [
        ask("post", "/manage/{b}/members/invite/", {"email": "mole@a.example", "role": "owner"}, json=False),
    ],
    "manage/<slug:slug>/members/<num:member_id>/role/": [
        ask("post", "/manage/{b}/members/{b_member}/role/", {"role": "viewer"}, json=False),
        ask("post", "/manage/{a}/members/{b_member}/role/", {"role": "viewer"}, json=False),
    ],
    "manage/<slug:slug>/members/<num:member_id>/remove/": [
        ask("post", "/manage/{b}/members/{b_member}/remove/", json=False),
        ask("post", "/manage/{a}/members/{b_member}/remove/", json=False),
    ],
    "manage/<slug:slug>/invitations/<slug:invitation_id>/revoke/": [
        ask("post", "/manage/{b}/invitations/{b_invitation}/revoke/", json=False),
        ask("post", "/manage/{a}/invitations/{b_invitation}/revoke/", json=False),
    ],
    "manage/invitations/<invitation_token:token>/": [
        ask("get", "/manage/invitations/" + "{b_invitation}" * 4 + "/", expect=400, json=False),
    ],
    # Imports (issue 15): B's imports by B's slug, and B's import ids through A's URLs
    "api/v1/manage/letters/<slug:slug>/imports/": [
        ask("get", "/api/v1/manage/letters/{b}/imports/"),
        ask("post", "/api/v1/manage/letters/{b}/imports/", upload=True),
        ask("get", "/api/v1/manage/letters/{a}/imports/?letter={b}&import={b_import}", expect=200),
    ],
    IMPORT_API: [
        ask("get", "/api/v1/manage/letters/{b}/imports/{b_import}/"),
        ask("get", "/api/v1/manage/letters/{a}/imports/{b_import}/"),
    ],
    IMPORT_API + "mapping": [
        ask("put", "/api/v1/manage/letters/{b}/imports/{b_import}/mapping", {"mapping": {"name": 1, "email": 0}}),
        ask("put", "/api/v1/manage/letters/{a}/imports/{b_import}/mapping", {"mapping": {"name": 1, "email": 0}}),
    ],
    IMPORT_API + "start": [
        ask("post", "/api/v1/manage/letters/{b}/imports/{b_import}/start", {"mode": "vouched"}),
        ask("post", "/api/v1/manage/letters/{a}/imports/{b_import}/start", {"mode": "vouched"}),
    ],
    IMPORT_API + "discard": [
        ask("post", "/api/v1/manage/letters/{b}/imports/{b_import}/discard"),
        ask("post", "/api/v1/manage/letters/{a}/imports/{b_import}/discard"),
    ],
    IMPORT_API + "undo": [
        ask("post", "/api/v1/manage/letters/{b}/imports/{b_import}/undo"),
        ask("post", "/api/v1/manage/letters/{a}/imports/{b_import}/undo"),
    ],
    IMPORT_API + "stop": [
        ask("post", "/api/v1/manage/letters/{b}/imports/{b_import}/stop"),
        ask("post", "/api/v1/manage/letters/{a}/imports/{b_import}/stop"),
    ],
    IMPORT_API + "rejected.csv": [
        ask("get", "/api/v1/manage/letters/{b}/imports/{b_import}/rejected.csv"),
        ask("get", "/api/v1/manage/letters/{a}/imports/{b_import}/rejected.csv"),
    ],
    "manage/<slug:slug>/imports/": [
        ask("get", "/manage/{b}/imports/", json=False),
        ask("post", "/manage/{b}/imports/", upload=True, json=False),
        ask("get", "/manage/{a}/imports/?letter={b}&import={b_import}", expect=200, json=False),
    ],
    IMPORT_PAGE: [
        ask("get", "/manage/{b}/imports/{b_import}/", json=False),
        ask("get", "/manage/{a}/imports/{b_import}/", json=False),
    ],
    IMPORT_PAGE + "mapping/": [
        ask("post", "/manage/{b}/imports/{b_import}/mapping/", {"map_name": "1", "map_email": "0"}, json=False),
        ask("post", "/manage/{a}/imports/{b_import}/mapping/", {"map_name": "1", "map_email": "0"}, json=False),
    ],
    IMPORT_PAGE + "start/": [
        ask("post", "/manage/{b}/imports/{b_import}/start/", {"mode": "vouched"}, json=False),
        ask("post", "/manage/{a}/imports/{b_import}/start/", {"mode": "vouched"}, json=False),
    ],
    IMPORT_PAGE + "discard/": [
        ask("post", "/manage/{b}/imports/{b_import}/discard/", json=False),
        ask("post", "/manage/{a}/imports/{b_import}/discard/", json=False),
    ],
    IMPORT_PAGE + "undo/": [
        ask("post", "/manage/{b}/imports/{b_import}/undo/", json=False),
        ask("post", "/manage/{a}/imports/{b_import}/undo/", json=False),
    ],
    IMPORT_PAGE + "stop/": [
        ask("post", "/manage/{b}/imports/{b_import}/stop/", json=False),
        ask("post", "/manage/{a}/imports/{b_import}/stop/", json=False),
    ],
    IMPORT_PAGE + "rejected.csv": [
        ask("get", "/manage/{b}/imports/{b_import}/rejected.csv", json=False),
        ask("get", "/manage/{a}/imports/{b_import}/rejected.csv", json=False),
    ],
    # Signer invitations (issue 15)
    SIGNER_API: [
        ask("get", "/api/v1/manage/letters/{b}/signer-invitations/"),
        ask("post", "/api/v1/manage/letters/{b}/signer-invitations/", INVITE),
        ask("get", "/api/v1/manage/letters/{a}/signer-invitations/?letter={b}&invitation={b_signer}", expect=200),
    ],
    SIGNER_API + "<public_id:invitation_id>/revoke": [
        ask("post", "/api/v1/manage/letters/{b}/signer-invitations/{b_signer}/revoke"),
        ask("post", "/api/v1/manage/letters/{a}/signer-invitations/{b_signer}/revoke"),
    ],
    SIGNER_API + "<public_id:invitation_id>/remind": [
        ask("post", "/api/v1/manage/letters/{b}/signer-invitations/{b_signer}/remind"),
        ask("post", "/api/v1/manage/letters/{a}/signer-invitations/{b_signer}/remind"),
    ],
    SIGNER_PAGE: [
        ask("get", "/manage/{b}/signer-invitations/", json=False),
        ask("post", "/manage/{b}/signer-invitations/", INVITE, json=False),
        ask("get", "/manage/{a}/signer-invitations/?letter={b}&invitation={b_signer}", expect=200, json=False),
    ],
    SIGNER_PAGE + "<str:invitation_id>/revoke/": [
        ask("post", "/manage/{b}/signer-invitations/{b_signer}/revoke/", json=False),
        ask("post", "/manage/{a}/signer-invitations/{b_signer}/revoke/", json=False),
    ],
    SIGNER_PAGE + "<str:invitation_id>/remind/": [
        ask("post", "/manage/{b}/signer-invitations/{b_signer}/remind/", json=False),
        ask("post", "/manage/{a}/signer-invitations/{b_signer}/remind/", json=False),
    ],
    # Bulk invalidations (issue 16)
    INVAL_API: [
        ask("get", "/api/v1/manage/letters/{b}/invalidations/"),
        ask("post", "/api/v1/manage/letters/{b}/invalidations/", SWEEP),
        ask("get", "/api/v1/manage/letters/{a}/invalidations/?letter={b}&invalidation={b_inval}", expect=200),
    ],
    INVAL_API + "preview": [
        ask("post", "/api/v1/manage/letters/{b}/invalidations/preview", {"criteria": {"name": "*e*"}}),
        # B's import id as a criterion on A: unknown here, a field error that names nothing of B
        ask(
            "post",
            "/api/v1/manage/letters/{a}/invalidations/preview",
            {"criteria": {"import": "{b_import}"}},
            expect=400,
        ),
    ],
    INVAL_API + "<public_id:invalidation_id>/": [
        ask("get", "/api/v1/manage/letters/{b}/invalidations/{b_inval}/"),
        ask("get", "/api/v1/manage/letters/{a}/invalidations/{b_inval}/"),
    ],
    INVAL_API + "<public_id:invalidation_id>/cancel": [
        ask("post", "/api/v1/manage/letters/{b}/invalidations/{b_inval}/cancel"),
        ask("post", "/api/v1/manage/letters/{a}/invalidations/{b_inval}/cancel"),
    ],
    INVAL_API + "<public_id:invalidation_id>/undo": [
        ask("post", "/api/v1/manage/letters/{b}/invalidations/{b_inval}/undo"),
        ask("post", "/api/v1/manage/letters/{a}/invalidations/{b_inval}/undo"),
    ],
    INVAL_PAGE: [
        ask("get", "/manage/{b}/invalidations/", json=False),
        ask("post", "/manage/{b}/invalidations/", {"name": "*e*", "action": "preview"}, json=False),
        ask("post", "/manage/{a}/invalidations/", {"name": "Bernard*", "action": "preview"}, expect=200, json=False),
    ],
    INVAL_PAGE + "<str:invalidation_id>/cancel/": [
        ask("post", "/manage/{b}/invalidations/{b_inval}/cancel/", json=False),
        ask("post", "/manage/{a}/invalidations/{b_inval}/cancel/", json=False),
    ],
    INVAL_PAGE + "<str:invalidation_id>/undo/": [
        ask("post", "/manage/{b}/invalidations/{b_inval}/undo/", json=False),
        ask("post", "/manage/{a}/invalidations/{b_inval}/undo/", json=False),
    ],
    # The held queue in bulk and trending alerts (issue 16)
    HELD_API: [
        ask("post", "/api/v1/manage/letters/{b}/held/bulk", RELEASE_B),
        ask("post", "/api/v1/manage/letters/{b}/held/bulk", {**RELEASE_ALL, "confirmation": "0" * 64}),
        # B's held signature through A's URL: a field error that names nothing of B; with a confirmation, a 409
        ask("post", "/api/v1/manage/letters/{a}/held/bulk", RELEASE_B, expect=400),
        ask("post", "/api/v1/manage/letters/{a}/held/bulk", {**RELEASE_B, "confirmation": "0" * 64}, expect=409),
        ask("post", "/api/v1/manage/letters/{a}/held/bulk", {**RELEASE_ALL, "filters": {"name": "Bea"}}, expect=400),
    ],
    ALERT_API: [
        ask("get", "/api/v1/manage/letters/{b}/alerts/"),
        ask("get", "/api/v1/manage/letters/{a}/alerts/?status=all&letter={b}&alert={b_alert}", expect=200),
    ],
    ALERT_API + "thresholds": [
        ask("get", "/api/v1/manage/letters/{b}/alerts/thresholds"),
        ask("put", "/api/v1/manage/letters/{b}/alerts/thresholds", {"ip": 1}),
        ask("put", "/api/v1/manage/letters/{a}/alerts/thresholds", {"ip": 3, "letter": "{b}"}, expect=200),
    ],
    ALERT_API + "<public_id:alert_id>/acknowledge": [
        ask("post", "/api/v1/manage/letters/{b}/alerts/{b_alert}/acknowledge"),
        ask("post", "/api/v1/manage/letters/{a}/alerts/{b_alert}/acknowledge"),
    ],
    ALERT_API + "<public_id:alert_id>/dismiss": [
        ask("post", "/api/v1/manage/letters/{b}/alerts/{b_alert}/dismiss"),
        ask("post", "/api/v1/manage/letters/{a}/alerts/{b_alert}/dismiss"),
    ],
    "manage/<slug:slug>/held/": [
        ask("get", "/manage/{b}/held/", json=False),
        ask("get", "/manage/{a}/held/?name=Bea&letter={b}", expect=200, json=False),
    ],
    "manage/<slug:slug>/held/bulk/": [
        ask("post", "/manage/{b}/held/bulk/", {"action": "release", "signatures": "{b_held}"}, json=False),
        ask("post", "/manage/{a}/held/bulk/", {"action": "release", "signatures": "{b_held}"}, expect=400, json=False),
        ask(
            "post",
            "/manage/{a}/held/bulk/",
            {"action": "release", "signatures": "{b_held}", "confirmation": "0" * 64},
            expect=400,
            json=False,
        ),
    ],
    ALERT_PAGE: [
        ask("get", "/manage/{b}/alerts/", json=False),
        ask("get", "/manage/{a}/alerts/?status=all&alert={b_alert}", expect=200, json=False),
    ],
    ALERT_PAGE + "thresholds/": [
        ask("post", "/manage/{b}/alerts/thresholds/", {"ip": "1"}, json=False),
        ask("post", "/manage/{a}/alerts/thresholds/", {"ip": "0", "letter": "{b}"}, expect=400, json=False),
    ],
    ALERT_PAGE + "<slug:alert_id>/acknowledge/": [
        ask("post", "/manage/{b}/alerts/{b_alert}/acknowledge/", json=False),
        ask("post", "/manage/{a}/alerts/{b_alert}/acknowledge/", json=False),
    ],
    ALERT_PAGE + "<slug:alert_id>/dismiss/": [
        ask("post", "/manage/{b}/alerts/{b_alert}/dismiss/", json=False),
        ask("post", "/manage/{a}/alerts/{b_alert}/dismiss/", json=False),
    ],
    # Pages
    "manage/": [ask("get", "/manage/", expect=200, json=False)],
    "manage/new/": [ask("get", "/manage/new/", expect=200, json=False)],
    "manage/<slug:slug>/": [
        ask("get", "/manage/{b}/", json=False),
        ask("get", "/manage/{a}/?letter={b}&slug={b}", expect=200, json=False),
    ],
    "manage/<slug:slug>/edit/": [
        ask("get", "/manage/{b}/edit/", json=False),
        ask("post", "/manage/{b}/edit/", {"title": "Taken over", "body": "x", "action": "save"}, json=False),
    ],
    "manage/<slug:slug>/schedule/": [
        ask("get", "/manage/{b}/schedule/", json=False),
        ask("post", "/manage/{b}/schedule/", {"publish_at": FUTURE.strftime("%Y-%m-%dT%H:%M")}, json=False),
    ],
    "manage/<slug:slug>/open/": [
        ask("get", "/manage/{b}/open/", json=False),
        ask("post", "/manage/{b}/open/", json=False),
    ],
    "manage/<slug:slug>/pause/": [
        ask("get", "/manage/{b}/pause/", json=False),
        ask("post", "/manage/{b}/pause/", json=False),
    ],
    "manage/<slug:slug>/close/": [
        ask("get", "/manage/{b}/close/", json=False),
        ask("post", "/manage/{b}/close/", json=False),
    ],
    "manage/<slug:slug>/versions/new/": [
        ask("get", "/manage/{b}/versions/new/", json=False),
        ask("post", "/manage/{b}/versions/new/", {"body": "Other", "kind": "material"}, json=False),
    ],
    "manage/<slug:slug>/signatures/<slug:public_id>/hold/": _moderation_page("hold"),
    "manage/<slug:slug>/signatures/<slug:public_id>/release/": _moderation_page("release"),
    "manage/<slug:slug>/signatures/<slug:public_id>/verify/": _moderation_page("verify"),
    "manage/<slug:slug>/signatures/<slug:public_id>/reject/": _moderation_page("reject"),
    "manage/<slug:slug>/export/": [
        ask("post", "/manage/{b}/export/", {"format": "csv"}, json=False),
        ask("post", "/manage/{a}/export/", {"format": "csv", "letter": "{b}"}, expect=200, json=False),
    ],
}


# Roles: each letter endpoint with the roles its action allows and a request acting on letter A; every other role
# gets 403 and nothing changes (what allowed roles do is exercised by the feature tests). Keyed by route, so an
# endpoint added without its row fails `test_every_letter_endpoint_has_a_role_row`.
ALL = {"owner", "editor", "moderator", "viewer"}
EDIT = {"owner", "editor"}
RUN = {"owner"}
MODERATE = {"owner", "editor", "moderator"}
EXPORT = {"owner", "editor"}
NOT_OF_A_LETTER = {
    "api/v1/manage/letters/",
    "api/v1/manage/preview",
    "manage/",
    "manage/new/",
    "api/v1/manage/invitations/accept",  # the token names the letter (test_members_api, test_members_pages)
    "manage/invitations/<invitation_token:token>/",
}
OWNER = {"owner"}
SIG_API = "api/v1/manage/letters/<slug:slug>/signatures/<public_id:public_id>/"
SIG_PAGE = "manage/<slug:slug>/signatures/<slug:public_id>/"
ROLE_TABLE: dict[str, tuple[set[str], Case | None]] = {
    "api/v1/manage/letters/<slug:slug>/": (EDIT, ask("patch", "/api/v1/manage/letters/{a}/", {"title": "Changed"})),
    "api/v1/manage/letters/<slug:slug>/schedule": (
        RUN,
        ask("post", "/api/v1/manage/letters/{a}/schedule", {"publish_at": FUTURE.isoformat()}),
    ),
    "api/v1/manage/letters/<slug:slug>/open": (RUN, ask("post", "/api/v1/manage/letters/{a}/open")),
    "api/v1/manage/letters/<slug:slug>/pause": (RUN, ask("post", "/api/v1/manage/letters/{a}/pause")),
    "api/v1/manage/letters/<slug:slug>/close": (RUN, ask("post", "/api/v1/manage/letters/{a}/close")),
    "api/v1/manage/letters/<slug:slug>/versions/": (
        EDIT,
        ask("post", "/api/v1/manage/letters/{a}/versions/", {"body": "Other", "kind": "material"}),
    ),
    "api/v1/manage/letters/<slug:slug>/dashboard": (ALL, None),
    "api/v1/manage/letters/<slug:slug>/held/": (ALL, None),
    "api/v1/manage/letters/<slug:slug>/export.csv": (EXPORT, ask("get", "/api/v1/manage/letters/{a}/export.csv")),
    "api/v1/manage/letters/<slug:slug>/export.json": (EXPORT, ask("get", "/api/v1/manage/letters/{a}/export.json")),
    SIG_API + "hold": (MODERATE, ask("post", "/api/v1/manage/letters/{a}/signatures/{a_sig}/hold")),
    SIG_API + "release": (MODERATE, ask("post", "/api/v1/manage/letters/{a}/signatures/{a_sig}/release")),
    SIG_API + "verify": (MODERATE, ask("post", "/api/v1/manage/letters/{a}/signatures/{a_sig}/verify", VERIFY)),
    SIG_API + "reject": (MODERATE, ask("post", "/api/v1/manage/letters/{a}/signatures/{a_sig}/reject", REJECT)),
    # Members (H3a): any member reads them and may leave (DELETE of oneself); only owners change, invite, revoke.
    "api/v1/manage/letters/<slug:slug>/members/": (ALL, None),
    "api/v1/manage/letters/<slug:slug>/members/<num:member_id>/": (
        OWNER,
        ask("patch", "/api/v1/manage/letters/{a}/members/0/", {"role": "viewer"}),
    ),
    "api/v1/manage/letters/<slug:slug>/invitations/": (
        OWNER,
        ask("post", "/api/v1/manage/letters/{a}/invitations/", {"email": "new@a.example", "role": "viewer"}),
    ),
    "api/v1/manage/letters/<slug:slug>/invitations/<public_id:invitation_id>/": (
        OWNER,
        ask("delete", "/api/v1/manage/letters/{a}/invitations/none/"),
    ),
    "manage/<slug:slug>/members/": (ALL, None),
    "manage/<slug:slug>/members/invite/": (
        OWNER,
        ask("post", "/manage/{a}/members/invite/", {"email": "new@a.example", "role": "viewer"}, json=False),
    ),
    "manage/<slug:slug>/members/<num:member_id>/role/": (
        OWNER,
        ask("post", "/manage/{a}/members/0/role/", {"role": "viewer"}, json=False),
    ),
    "manage/<slug:slug>/members/<num:member_id>/remove/": (ALL, None),
    "manage/<slug:slug>/invitations/<slug:invitation_id>/revoke/": (
        OWNER,
        ask("post", "/manage/{a}/invitations/none/revoke/", json=False),
    ),
    # Imports (issue 15): owners and editors only.
    "api/v1/manage/letters/<slug:slug>/imports/": (
        EDIT,
        ask("post", "/api/v1/manage/letters/{a}/imports/", upload=True),
    ),
    IMPORT_API: (EDIT, ask("get", "/api/v1/manage/letters/{a}/imports/none/")),
    IMPORT_API + "mapping": (EDIT, ask("put", "/api/v1/manage/letters/{a}/imports/none/mapping", {"mapping": {}})),
    IMPORT_API + "start": (EDIT, ask("post", "/api/v1/manage/letters/{a}/imports/none/start", {"mode": "confirm"})),
    IMPORT_API + "discard": (EDIT, ask("post", "/api/v1/manage/letters/{a}/imports/none/discard")),
    IMPORT_API + "undo": (EDIT, ask("post", "/api/v1/manage/letters/{a}/imports/none/undo")),
    IMPORT_API + "stop": (EDIT, ask("post", "/api/v1/manage/letters/{a}/imports/none/stop")),
    IMPORT_API + "rejected.csv": (EDIT, ask("get", "/api/v1/manage/letters/{a}/imports/none/rejected.csv")),
    "manage/<slug:slug>/imports/": (EDIT, ask("post", "/manage/{a}/imports/", upload=True, json=False)),
    IMPORT_PAGE: (EDIT, ask("get", "/manage/{a}/imports/none/", json=False)),
    IMPORT_PAGE + "mapping/": (EDIT, ask("post", "/manage/{a}/imports/none/mapping/", json=False)),
    IMPORT_PAGE + "start/": (EDIT, ask("post", "/manage/{a}/imports/none/start/", {"mode": "confirm"}, json=False)),
    IMPORT_PAGE + "discard/": (EDIT, ask("post", "/manage/{a}/imports/none/discard/", json=False)),
    IMPORT_PAGE + "undo/": (EDIT, ask("post", "/manage/{a}/imports/none/undo/", json=False)),
    IMPORT_PAGE + "stop/": (EDIT, ask("post", "/manage/{a}/imports/none/stop/", json=False)),
    IMPORT_PAGE + "rejected.csv": (EDIT, ask("get", "/manage/{a}/imports/none/rejected.csv", json=False)),
    SIGNER_API: (EDIT, ask("post", "/api/v1/manage/letters/{a}/signer-invitations/", INVITE)),
    SIGNER_API + "<public_id:invitation_id>/revoke": (
        EDIT,
        ask("post", "/api/v1/manage/letters/{a}/signer-invitations/none/revoke"),
    ),
    SIGNER_API + "<public_id:invitation_id>/remind": (
        EDIT,
        ask("post", "/api/v1/manage/letters/{a}/signer-invitations/none/remind"),
    ),
    SIGNER_PAGE: (EDIT, ask("post", "/manage/{a}/signer-invitations/", INVITE, json=False)),
    SIGNER_PAGE + "<str:invitation_id>/revoke/": (
        EDIT,
        ask("post", "/manage/{a}/signer-invitations/none/revoke/", json=False),
    ),
    SIGNER_PAGE + "<str:invitation_id>/remind/": (
        EDIT,
        ask("post", "/manage/{a}/signer-invitations/none/remind/", json=False),
    ),
    INVAL_API: (MODERATE, ask("post", "/api/v1/manage/letters/{a}/invalidations/", SWEEP)),
    INVAL_API + "preview": (MODERATE, ask("post", "/api/v1/manage/letters/{a}/invalidations/preview", SWEEP)),
    INVAL_API + "<public_id:invalidation_id>/": (
        MODERATE,
        ask("get", "/api/v1/manage/letters/{a}/invalidations/none/"),
    ),
    INVAL_API + "<public_id:invalidation_id>/cancel": (
        MODERATE,
        ask("post", "/api/v1/manage/letters/{a}/invalidations/none/cancel"),
    ),
    INVAL_API + "<public_id:invalidation_id>/undo": (
        MODERATE,
        ask("post", "/api/v1/manage/letters/{a}/invalidations/none/undo"),
    ),
    INVAL_PAGE: (MODERATE, ask("post", "/manage/{a}/invalidations/", {"name": "*", "action": "preview"}, json=False)),
    INVAL_PAGE + "<str:invalidation_id>/cancel/": (
        MODERATE,
        ask("post", "/manage/{a}/invalidations/none/cancel/", json=False),
    ),
    INVAL_PAGE + "<str:invalidation_id>/undo/": (
        MODERATE,
        ask("post", "/manage/{a}/invalidations/none/undo/", json=False),
    ),
    HELD_API: (MODERATE, ask("post", "/api/v1/manage/letters/{a}/held/bulk", RELEASE_ALL)),
    ALERT_API: (MODERATE, ask("get", "/api/v1/manage/letters/{a}/alerts/")),
    ALERT_API + "thresholds": (MODERATE, ask("put", "/api/v1/manage/letters/{a}/alerts/thresholds", {"ip": 3})),
    ALERT_API + "<public_id:alert_id>/acknowledge": (
        MODERATE,
        ask("post", "/api/v1/manage/letters/{a}/alerts/none/acknowledge"),
    ),
    ALERT_API + "<public_id:alert_id>/dismiss": (
        MODERATE,
        ask("post", "/api/v1/manage/letters/{a}/alerts/none/dismiss"),
    ),
    "manage/<slug:slug>/held/": (MODERATE, ask("get", "/manage/{a}/held/", json=False)),
    "manage/<slug:slug>/held/bulk/": (
        MODERATE,
        ask("post", "/manage/{a}/held/bulk/", {"action": "release", "all_matching": "on"}, json=False),
    ),
    ALERT_PAGE: (MODERATE, ask("get", "/manage/{a}/alerts/", json=False)),
    ALERT_PAGE + "thresholds/": (MODERATE, ask("post", "/manage/{a}/alerts/thresholds/", {"ip": "3"}, json=False)),
    ALERT_PAGE + "<slug:alert_id>/acknowledge/": (
        MODERATE,
        ask("post", "/manage/{a}/alerts/none/acknowledge/", json=False),
    ),
    ALERT_PAGE + "<slug:alert_id>/dismiss/": (
        MODERATE,
        ask("post", "/manage/{a}/alerts/none/dismiss/", json=False),
    ),
    "manage/<slug:slug>/": (ALL, None),
    "manage/<slug:slug>/edit/": (
        EDIT,
        ask("post", "/manage/{a}/edit/", {"title": "Changed", "body": "x", "action": "save"}, json=False),
    ),
    "manage/<slug:slug>/schedule/": (
        RUN,
        ask("post", "/manage/{a}/schedule/", {"publish_at": FUTURE.strftime("%Y-%m-%dT%H:%M")}, json=False),
    ),
    "manage/<slug:slug>/open/": (RUN, ask("post", "/manage/{a}/open/", json=False)),
    "manage/<slug:slug>/pause/": (RUN, ask("post", "/manage/{a}/pause/", json=False)),
    "manage/<slug:slug>/close/": (RUN, ask("post", "/manage/{a}/close/", json=False)),
    "manage/<slug:slug>/versions/new/": (
        EDIT,
        ask("post", "/manage/{a}/versions/new/", {"body": "Other", "kind": "material"}, json=False),
    ),
    SIG_PAGE + "hold/": (MODERATE, ask("post", "/manage/{a}/signatures/{a_sig}/hold/", json=False)),
    SIG_PAGE + "release/": (MODERATE, ask("post", "/manage/{a}/signatures/{a_sig}/release/", json=False)),
    SIG_PAGE + "verify/": (MODERATE, ask("post", "/manage/{a}/signatures/{a_sig}/verify/", VERIFY, json=False)),
    SIG_PAGE + "reject/": (MODERATE, ask("post", "/manage/{a}/signatures/{a_sig}/reject/", REJECT, json=False)),
    "manage/<slug:slug>/export/": (EXPORT, ask("post", "/manage/{a}/export/", {"format": "csv"}, json=False)),
}
