from django.apps import AppConfig


class LettersConfig(AppConfig):
    name = "letters"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Signatures take part in registry writes through registry.hooks (registry never imports letters); public
        changes reach the transparency log through transparency.hooks."""
        from django.conf import settings

        from letters.services.merge import SignatureMerge
        from letters.services.organizations import (
            SignatureDomainProof,
            SignatureOrganizationLink,
            SignatureOrganizationReview,
        )
        from letters.services.verification import ProtectedNameHolds
        from letters.transparency_log import receipts_enqueue, transparency_log_batch
        from registry import hooks
        from transparency import hooks as log_hooks

        hooks.register(hooks.person_merge_participants, SignatureMerge())
        hooks.register(hooks.organization_link_participants, SignatureOrganizationLink())
        hooks.register(hooks.protected_name_participants, ProtectedNameHolds())
        hooks.register(hooks.organization_review_participants, SignatureOrganizationReview())
        hooks.register(hooks.organization_domain_participants, SignatureDomainProof())
        if settings.TRANSPARENCY_LOG:
            log_hooks.producer_register(transparency_log_batch)
            log_hooks.checkpoint_listener_register(receipts_enqueue)
