from django.apps import AppConfig


class OrganizingConfig(AppConfig):
    name = "organizing"
    default_auto_field = "django.db.models.BigAutoField"
