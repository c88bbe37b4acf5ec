"""Organizer accounts through django-allauth, as a person uses them without JavaScript: sign-up with mandatory email
verification, login by email, TOTP two-factor login (codes computed here), recovery codes, password reset, login
throttling. Account emails go through the outbox."""

import re
import time

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal import auth as totp_auth
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.contrib.auth import get_user_model
from django.core import mail

from letters.models import OutboxMessage
from organizing.permissions import can
from tests.factories import UserFactory
from tests.organizing.conftest import member

pytestmark = pytest.mark.django_db
PASSWORD = "a long passphrase nobody guesses 42"


def last_account_email(to):
    message = OutboxMessage.objects.filter(kind="account", to_email=to).order_by("-id").first()
    assert message is not None, f"no account email to {to}"
    return message


def link_in(text, prefix):
    match = re.search(rf"https?://[^/\s]+({re.escape(prefix)}[^\s]+)", text)
    assert match, f"no {prefix} link in {text!r}"
    return match.group(1)


def totp_now(secret, offset=0):
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + offset))


class _Later:
    """Stands in for the `time` module inside allauth's TOTP code: the clock `seconds` ahead."""

    def __init__(self, seconds):
        self.seconds = seconds

    def time(self):
        return time.time() + self.seconds


def signed_up(client, email="organizer@example.org"):
    response = client.post("/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302, response.content
    confirm = link_in(last_account_email(email).body_text, "/accounts/confirm-email/")
    assert client.get(confirm).status_code == 200
    assert client.post(confirm).status_code == 302
    return get_user_model().objects.get(email=email)


def test_the_account_pages_use_the_site_layout_and_need_no_javascript(client):
    for path in ("/accounts/signup/", "/accounts/login/", "/accounts/password/reset/"):
        page = client.get(path).content.decode()
        assert 'href="/static/web/site.css"' in page and 'class="site-header"' in page, path
        assert 'class="page-account"' in page
        assert "<form" in page and 'name="csrfmiddlewaretoken"' in page
        assert 'name="viewport"' in page


def test_sign_up_needs_a_verified_email_before_login(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/accounts/signup/", {"email": "organizer@example.org", "password1": PASSWORD, "password2": PASSWORD}
        )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    [sent] = mail.outbox  # delivered through the outbox
    assert sent.to == ["organizer@example.org"] and sent.subject.startswith("[Undersigned] ")
    user = get_user_model().objects.get(email="organizer@example.org")
    assert not EmailAddress.objects.get(user=user).verified
    client.logout()
    refused = client.post("/accounts/login/", {"login": "organizer@example.org", "password": PASSWORD})
    assert refused.status_code == 302 and refused["Location"] == "/accounts/confirm-email/"
    assert "_auth_user_id" not in client.session

    confirm = link_in(sent.body, "/accounts/confirm-email/")
    assert client.post(confirm).status_code == 302
    assert EmailAddress.objects.get(user=user).verified
    logged_in = client.post("/accounts/login/", {"login": "organizer@example.org", "password": PASSWORD})
    assert logged_in.status_code == 302 and logged_in["Location"] == "/manage/"
    assert client.session["_auth_user_id"] == str(user.pk)


def test_totp_set_up_without_javascript_then_login_asks_for_a_code(client, letter, monkeypatch):
    user = signed_up(client)
    member(letter, "owner", username="other-owner")
    from organizing.models import Membership

    Membership.objects.create(letter=letter, user=user, role="owner")
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert can(user, "organizing.run_letter", letter) is False

    asked = client.get("/accounts/2fa/totp/activate/")
    assert asked.status_code == 302 and asked["Location"].startswith("/accounts/reauthenticate/")  # password again
    assert client.post(asked["Location"], {"password": PASSWORD}).status_code == 302
    page = client.get("/accounts/2fa/totp/activate/").content.decode()
    secret = re.search(
        r'id="authenticator_secret"[^>]*value="([A-Z2-7]+)"|value="([A-Z2-7]+)"[^>]*id="authenticator_secret"', page
    )
    assert secret, page
    secret = secret.group(1) or secret.group(2)
    wrong = client.post(
        "/accounts/2fa/totp/activate/", {"code": "000000" if totp_now(secret) != "000000" else "111111"}
    )
    assert wrong.status_code == 200 and "Incorrect code" in wrong.content.decode()
    activated = client.post("/accounts/2fa/totp/activate/", {"code": totp_now(secret)})
    assert activated.status_code == 302
    assert Authenticator.objects.filter(user=user, type="totp").exists()
    assert Authenticator.objects.filter(user=user, type="recovery_codes").exists()
    assert can(user, "organizing.run_letter", letter) is True

    client.post("/accounts/logout/")
    first_step = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert first_step.status_code == 302 and first_step["Location"] == "/accounts/2fa/authenticate/"
    assert "_auth_user_id" not in client.session
    assert client.post("/accounts/2fa/authenticate/", {"code": "12345"}).status_code == 200
    assert "_auth_user_id" not in client.session
    # The activation spent this period's code (allauth refuses a replay): sign in as if 30 s later.
    monkeypatch.setattr(totp_auth, "time", _Later(30))
    assert client.post("/accounts/2fa/authenticate/", {"code": totp_now(secret)}).status_code == 200  # the spent one
    done = client.post("/accounts/2fa/authenticate/", {"code": totp_now(secret, offset=1)})
    assert done.status_code == 302 and client.session["_auth_user_id"] == str(user.pk)


def test_a_recovery_code_signs_in_once(client):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    user = signed_up(client)
    client.post("/accounts/logout/")
    TOTP.activate(user, generate_totp_secret())
    code = RecoveryCodes.activate(user).get_unused_codes()[0]
    for expected in ("/manage/", None):
        client.post("/accounts/logout/")
        client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
        response = client.post("/accounts/2fa/authenticate/", {"code": code})
        if expected:
            assert response.status_code == 302 and response["Location"] == expected
        else:
            assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_password_reset_sends_a_link_through_the_outbox(client):
    user = signed_up(client)
    client.post("/accounts/logout/")
    response = client.post("/accounts/password/reset/", {"email": user.email})
    assert response.status_code == 302
    reset = link_in(last_account_email(user.email).body_text, "/accounts/password/reset/key/")
    form = client.get(reset, follow=True)
    assert form.status_code == 200
    new = "another long passphrase 77"
    changed = client.post(form.redirect_chain[-1][0], {"password1": new, "password2": new})
    assert changed.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new)


def test_an_unknown_address_asking_for_a_reset_learns_nothing(client):
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.org"})
    assert response.status_code == 302 and response["Location"] == "/accounts/password/reset/done/"


def test_login_failures_are_throttled(client):
    UserFactory(email="target@example.org")
    EmailAddress.objects.create(
        user=get_user_model().objects.get(email="target@example.org"),
        email="target@example.org",
        verified=True,
        primary=True,
    )
    answers = [
        client.post("/accounts/login/", {"login": "target@example.org", "password": f"guess {n}"}).content.decode()
        for n in range(6)
    ]
    assert all("Too many failed login attempts" not in answer for answer in answers[:5])
    assert "Too many failed login attempts" in answers[5]


def test_the_admin_login_goes_through_the_two_factor_login(client):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from tests.factories import StaffFactory

    staff = StaffFactory(username="admin-2fa", email="admin@example.org")
    EmailAddress.objects.create(user=staff, email=staff.email, verified=True, primary=True)
    TOTP.activate(staff, generate_totp_secret())
    page = client.get("/admin/login/?next=/admin/")
    assert page.status_code == 302 and page["Location"] == "/accounts/login/?next=%2Fadmin%2F"
    posted = client.post("/admin/login/", {"username": "admin-2fa", "password": "correct horse battery staple"})
    assert posted.status_code == 302 and "_auth_user_id" not in client.session
    login = client.post("/accounts/login/", {"login": staff.email, "password": "correct horse battery staple"})
    assert login["Location"] == "/accounts/2fa/authenticate/" and "_auth_user_id" not in client.session
