"""The login `make run` prints works as printed: email and password, then the second factor's code, and the admin
can act (staff need a second factor before they change anything)."""

import re
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from registry.management.commands.ensure_dev_admin import EMAIL, PASSWORD, totp_code

pytestmark = pytest.mark.django_db


def ensure(*args: str) -> str:
    out = StringIO()
    with override_settings(DEBUG=True):
        call_command("ensure_dev_admin", *args, stdout=out)
    return out.getvalue()


def test_the_printed_dev_login_and_code_reach_the_admin(client):
    printed = ensure()
    assert f"Local admin login: {EMAIL} / {PASSWORD}" in printed
    secret = re.search(r"TOTP secret ([A-Z2-7]+)", printed).group(1)
    code = ensure("--code").strip()
    assert code in {totp_code(secret), totp_code(secret, at=time.time() - 30)}  # the period may turn in between
    login = client.post("/accounts/login/", {"login": EMAIL, "password": PASSWORD})
    assert (login.status_code, login["Location"]) == (302, "/accounts/2fa/authenticate/")
    second = client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert second.status_code == 302
    assert client.get("/admin/").status_code == 200
    assert client.get("/manage/").status_code == 200


def test_running_it_again_keeps_one_address_and_one_second_factor():
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator

    first = re.search(r"TOTP secret ([A-Z2-7]+)", ensure()).group(1)
    again = re.search(r"TOTP secret ([A-Z2-7]+)", ensure()).group(1)
    assert first == again
    assert list(EmailAddress.objects.values_list("email", "verified", "primary")) == [(EMAIL, True, True)]
    assert Authenticator.objects.filter(type=Authenticator.Type.TOTP).count() == 1


def test_it_refuses_to_run_without_debug():
    from django.core.management.base import CommandError

    with override_settings(DEBUG=False), pytest.raises(CommandError, match="only runs with DEBUG on"):
        call_command("ensure_dev_admin", stdout=StringIO())
