"""Every version of a letter's text, readable forever: a permalink page per version and a diff between any two."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.cache import cache_control

from config import converters  # noqa: F401  registers <num:…>
from letters.markdown import markdown_to_safe_html
from letters.models import Letter, LetterVersion
from letters.selectors import letter_public_lookup, letter_version_diff, letter_version_public, letter_versions_public


def _letter(slug: str) -> Letter:
    try:
        return letter_public_lookup(slug=slug)
    except Letter.DoesNotExist:
        raise Http404 from None


@cache_control(public=True, max_age=300, stale_while_revalidate=3600)
def version_detail(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    letter = _letter(slug)
    try:
        version = letter_version_public(letter=letter, number=number)
    except LetterVersion.DoesNotExist:
        raise Http404 from None
    versions = list(letter_versions_public(letter=letter))
    context = {
        "letter": letter,
        "version": version,
        "versions": versions,
        "latest": versions[-1],
        "body": markdown_to_safe_html(version.body),
    }
    return render(request, "web/version.html", context)


@cache_control(public=True, max_age=300, stale_while_revalidate=3600)
def version_diff(request: HttpRequest, slug: str, old: int, new: int) -> HttpResponse:
    letter = _letter(slug)
    try:
        diff = letter_version_diff(letter=letter, old=old, new=new)
    except LetterVersion.DoesNotExist:
        raise Http404 from None
    return render(request, "web/diff.html", {"letter": letter, "diff": diff})


urlpatterns = [
    path("letters/<slug:slug>/v/<num:number>/", version_detail, name="web-letter-version"),
    path("letters/<slug:slug>/diff/<num:old>/<num:new>/", version_diff, name="web-letter-diff"),
]
