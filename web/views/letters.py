"""Public letter pages: the list of letters, a letter with its signers, and the embeddable count badge."""

from csp.decorators import csp_replace
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.http import urlencode
from django.views.decorators.cache import cache_control
from django.views.decorators.clickjacking import xframe_options_exempt

from config.response_cache import shared_public_view
from letters.markdown import markdown_to_safe_html
from letters.models import Letter
from letters.presentation import iso_utc, shown_signature
from letters.selectors import (
    letter_counts,
    letter_public_get,
    letter_signatures_public,
    letter_stats,
    letter_timeline,
    letters_public,
)
from letters.transparency_log import transparency_log_position
from letters.withheld import letter_withheld
from web.charts import cumulative_chart_svg
from web.forms import SignerFilterForm

PAGE_SIZE = 50


def _letter(slug: str) -> Letter:
    try:
        return letter_public_get(slug=slug)
    except Letter.DoesNotExist:
        raise Http404 from None


@cache_control(public=True, max_age=5, stale_while_revalidate=30)
@shared_public_view
def index(request: HttpRequest) -> HttpResponse:
    letters = [(letter, letter_counts(letter=letter)) for letter in letters_public()]
    return render(request, "web/index.html", {"letters": letters})


@cache_control(public=True, max_age=5, stale_while_revalidate=30)
@shared_public_view  # a launch-day burst of readers costs one rendering per PUBLIC_RESPONSE_CACHE_SECONDS
def letter_detail(request: HttpRequest, slug: str) -> HttpResponse:
    letter = _letter(slug)
    form = SignerFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    as_of = filters.get("as_of")
    stats = letter_stats(letter=letter, as_of=as_of, top=50)
    rows = letter_signatures_public(
        letter=letter,
        as_of=as_of,
        organization=filters.get("organization") or None,
        level=filters.get("level") or None,
        q=filters.get("q") or None,
    )
    offset = int(filters.get("after") or 0)
    page = list(rows[offset : offset + PAGE_SIZE + 1])
    has_next = len(page) > PAGE_SIZE
    timeline = letter_timeline(letter=letter, bucket="hour")
    points = [(timeline[0]["start"], 0)] + [(b["end"], b["cumulative"]) for b in timeline] if timeline else []
    next_query = request.GET.copy()
    next_query["after"] = str(offset + PAGE_SIZE)
    prev_query = request.GET.copy()
    prev_query["after"] = str(max(offset - PAGE_SIZE, 0))
    assert letter.current_version is not None  # _letter serves published letters only
    context = {
        "letter": letter,
        "body": markdown_to_safe_html(letter.current_version.body),
        "stats": stats,
        "withheld": letter_withheld(letter=letter, as_of=as_of),
        "log": transparency_log_position(letter),
        "as_of": as_of,
        "export_query": f"?{urlencode({'as_of': as_of.isoformat()})}" if as_of else "",
        "form": form,
        "signatures": [
            shown_signature(s, as_of=as_of, reconsent_from=letter.material_version_number) for s in page[:PAGE_SIZE]
        ],
        "final_stats": letter_stats(letter=letter, as_of=letter.closed_at) if letter.closed_at else None,
        "closed_at_iso": iso_utc(letter.closed_at),
        "offset": offset,
        "has_next": has_next,
        "next_query": next_query.urlencode(),
        "prev_query": prev_query.urlencode() if offset else "",
        "chart": cumulative_chart_svg(points, title="Public signatures over time"),
        "filtered": any(filters.get(k) for k in ("q", "organization", "level")),
        "site_url": settings.SITE_URL,
    }
    return render(request, "web/letter.html", context)


@xframe_options_exempt
@csp_replace({"frame-ancestors": ["*"]})
@cache_control(public=True, max_age=30, stale_while_revalidate=60)
@shared_public_view
def embed(request: HttpRequest, slug: str) -> HttpResponse:
    letter = _letter(slug)
    return render(request, "web/embed.html", {"letter": letter, "counts": letter_counts(letter=letter)})


urlpatterns = [
    path("", index, name="web-index"),
    path("letters/<slug:slug>/", letter_detail, name="web-letter"),
    path("letters/<slug:slug>/embed/", embed, name="web-embed"),
]
