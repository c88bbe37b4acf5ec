from django.urls import URLPattern, URLResolver, get_resolver

from letters.services.letter_input import RESERVED_SLUGS


def _routes(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def test_no_letter_slug_can_shadow_a_fixed_path_where_slugs_live():
    """/manage/<slug>/ and /letters/<slug>/ sit beside fixed paths (/manage/new/, /manage/invitations/<token>/):
    each fixed first segment there is a reserved slug, so no letter can be named so."""
    fixed = set()
    for route in _routes(get_resolver().url_patterns):
        for base in ("manage/", "letters/", ""):
            if route.startswith(base):
                segment = route[len(base) :].split("/")[0]
                if segment and "<" not in segment and segment.replace("-", "").isalnum():
                    fixed.add(segment)
    assert sorted(fixed - RESERVED_SLUGS) == []
