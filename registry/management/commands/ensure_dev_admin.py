"""The local superuser of `make run`, ready to act: its address verified (login is by email, and an unverified address
is sent to confirm first) and a second factor set (staff must have one before they change anything). DEBUG only."""

import time

from allauth.account.models import EmailAddress
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from allauth.mfa.utils import decrypt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

USERNAME = "admin"
EMAIL = "admin@localhost"
PASSWORD = "undersigned-admin"


def totp_code(secret: str, at: float | None = None) -> str:
    """The authenticator app's code for `secret` now (RFC 6238, as allauth checks it)."""
    return format_hotp_value(hotp_value(secret, int(time.time() if at is None else at) // mfa_settings.TOTP_PERIOD))


class Command(BaseCommand):
    help = "Create the local superuser for development and print its login and second factor (DEBUG only)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--code", action="store_true", help="Only print the second factor's current code.")

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("ensure_dev_admin only runs with DEBUG on.")
        user, created = get_user_model().objects.get_or_create(
            username=USERNAME, defaults={"is_staff": True, "is_superuser": True, "email": EMAIL}
        )
        if created or not user.check_password(PASSWORD) or user.email != EMAIL:
            user.set_password(PASSWORD)
            user.email = EMAIL
            user.is_staff = user.is_superuser = True
            user.save()
        EmailAddress.objects.filter(user=user).exclude(email=EMAIL).update(primary=False)
        EmailAddress.objects.update_or_create(user=user, email=EMAIL, defaults={"verified": True, "primary": True})
        totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
        if totp is None:
            totp = TOTP.activate(user, generate_totp_secret()).instance
        secret = decrypt(totp.data["secret"])
        if options["code"]:
            self.stdout.write(totp_code(secret))
            return
        self.stdout.write(
            f"Local admin login: {EMAIL} / {PASSWORD}  ->  {settings.SITE_URL}/accounts/login/ (then /manage/, /admin/)"
            "\n"
            f"  second factor: `DEBUG=1 .venv/bin/python manage.py ensure_dev_admin --code` prints the current code "
            f"(or add the TOTP secret {secret} to an authenticator app)"
        )
