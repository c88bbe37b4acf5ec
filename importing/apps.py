from django.apps import AppConfig


class ImportingConfig(AppConfig):
    name = "importing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from importing.invitations import invitations_erase
        from letters.services.erasure import signature_erase_participants

        if invitations_erase not in signature_erase_participants:
            signature_erase_participants.append(invitations_erase)  # a withdrawn invitee leaves no invitation text
