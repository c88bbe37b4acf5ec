from django.apps import AppConfig


class ModerationConfig(AppConfig):
    name = "moderation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Finished and undone invalidations reach the transparency log through transparency.hooks."""
        from django.conf import settings

        from moderation.log import invalidations_log_batch
        from transparency import hooks as log_hooks

        if settings.TRANSPARENCY_LOG:
            log_hooks.producer_register(invalidations_log_batch)
