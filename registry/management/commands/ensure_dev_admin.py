from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

USERNAME = "admin"
PASSWORD = "undersigned-admin"


class Command(BaseCommand):
    help = "Create a local superuser for development and print its login (DEBUG only)."

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("ensure_dev_admin only runs with DEBUG on.")
        user, created = get_user_model().objects.get_or_create(
            username=USERNAME, defaults={"is_staff": True, "is_superuser": True, "email": "admin@localhost"}
        )
        if created or not user.check_password(PASSWORD):
            user.set_password(PASSWORD)
            user.is_staff = user.is_superuser = True
            user.save()
        self.stdout.write(f"Local admin login: {USERNAME} / {PASSWORD}  ->  {settings.SITE_URL}/admin/")
