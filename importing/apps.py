from django.apps import AppConfig


class ImportingConfig(AppConfig):
    name = "importing"
    default_auto_field = "django.db.models.BigAutoField"
