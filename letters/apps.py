from django.apps import AppConfig


class LettersConfig(AppConfig):
    name = "letters"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Signatures take part in registry writes through registry.hooks (registry never imports letters)."""
        from letters.services.merge import SignatureMerge
        from letters.services.organizations import (
            SignatureDomainProof,
            SignatureOrganizationLink,
            SignatureOrganizationReview,
        )
        from letters.services.verification import ProtectedNameHolds
        from registry import hooks

        hooks.register(hooks.person_merge_participants, SignatureMerge())
        hooks.register(hooks.organization_link_participants, SignatureOrganizationLink())
        hooks.register(hooks.protected_name_participants, ProtectedNameHolds())
        hooks.register(hooks.organization_review_participants, SignatureOrganizationReview())
        hooks.register(hooks.organization_domain_participants, SignatureDomainProof())
