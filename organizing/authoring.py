"""Authoring a letter as its organizers: a new letter has its creator as owner, sponsors are picked from the
organization registry by slug. The letter's own rules (slug, Markdown, recipients) are letters' (letter_create,
letter_draft_update); who may call these is organizing.permissions'."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.safestring import SafeString

from letters.markdown import markdown_problems, markdown_to_safe_html
from letters.models import Letter
from letters.services.letters import letter_create, letter_draft_update
from organizing.models import Membership
from organizing.services import membership_add
from registry.audit import Actor
from registry.models import Organization

MAX_SPONSORS = 50


def sponsors_by_slug(*, slugs: Sequence[str]) -> list[Organization]:
    """Reviewed organizations of the registry, in the order given; an unknown or repeated slug is a field error."""
    if len(slugs) > MAX_SPONSORS:
        raise ValidationError({"sponsors": [f"At most {MAX_SPONSORS} sponsors."]})
    found = {org.slug: org for org in Organization.objects.filter(slug__in=slugs, status="reviewed")}
    unknown = [slug for slug in slugs if slug not in found]
    repeated = sorted({slug for slug in slugs if slugs.count(slug) > 1})
    problems = [f"No reviewed organization has the slug “{slug}”." for slug in unknown]
    problems += [f"“{slug}” is listed more than once." for slug in repeated]
    if problems:
        raise ValidationError({"sponsors": problems})
    return [found[slug] for slug in slugs]


@transaction.atomic
def letter_create_with_owner(
    *,
    user: Actor,
    slug: str,
    title: str,
    body: str,
    summary: str = "",
    recipients: Sequence[tuple[str, str]] = (),
    sponsor_slugs: Sequence[str] = (),
    at: datetime | None = None,
) -> Letter:
    """A draft letter (letters.services.letters.letter_create) whose creator becomes its owner, in one transaction:
    a letter is never left without an owner."""
    sponsors = sponsors_by_slug(slugs=sponsor_slugs)
    letter = letter_create(
        slug=slug,
        title=title,
        body=body,
        summary=summary,
        recipients=recipients,
        sponsors=sponsors,
        created_by=user,
        at=at,
    )
    membership_add(letter=letter, user=user, role=Membership.Role.OWNER, actor=user)
    return letter


@transaction.atomic
def letter_draft_edit(*, letter: Letter, changes: dict[str, Any], actor: Actor, at: datetime | None = None) -> Letter:
    """A draft's title, summary, body, recipients and sponsors (sponsors given as slugs of the registry)."""
    changes = dict(changes)
    if "sponsors" in changes:
        changes["sponsors"] = sponsors_by_slug(slugs=changes["sponsors"])
    return letter_draft_update(letter=letter, changes=changes, actor=actor, at=at)


def markdown_preview(*, text: str) -> tuple[SafeString, list[str]]:
    """The sanitized HTML a body renders to, and what letters would refuse in it (script, iframe, …)."""
    return markdown_to_safe_html(text), markdown_problems(text)
