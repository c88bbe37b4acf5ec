"""django-allauth hooks: organizer account emails (verification, password reset, security notices) go out through
the outbox like every other email, so an SMTP outage delays them instead of failing the request."""

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.contrib.sites.shortcuts import get_current_site
from django.core.mail import EmailMultiAlternatives

from organizing.emails import KIND_ACCOUNT, organizer_email_enqueue


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        request = allauth_context.request
        message = self.render_mail(
            template_prefix,
            email,
            {"request": request, "email": email, "current_site": get_current_site(request), **context},
        )
        html = ""
        if isinstance(message, EmailMultiAlternatives):
            html = next((str(content) for content, mimetype in message.alternatives if mimetype == "text/html"), "")
        organizer_email_enqueue(
            kind=KIND_ACCOUNT, to_email=email, subject=str(message.subject), text=str(message.body), html=html
        )
