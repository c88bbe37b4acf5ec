"""Public reads of a letter's versions: the list, one version with its body and SHA-256, a diff between any two.

A published version never changes, so its answers may be cached longer than counts."""

from django.http import Http404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from api.serializers.versions import VersionDetailSerializer, VersionDiffSerializer, VersionListItemSerializer
from api.views.reporter import ERRORS, THROTTLED, PublicView, _letter
from config import converters  # noqa: F401  registers <num:…>
from letters.models import LetterVersion
from letters.selectors import letter_version_diff, letter_version_public, letter_versions_public

# Versions of a public letter are immutable: longer than the 5 s of counts, still short enough for a fixed mistake.
VERSION_CACHE_CONTROL = "public, max-age=300, stale-while-revalidate=3600"


class LetterVersionsView(PublicView):
    pagination_class = None
    shared_response_cache = True

    @extend_schema(
        operation_id="letters_versions_list",
        summary="Every version of a letter's text, oldest first",
        responses={200: VersionListItemSerializer(many=True), **ERRORS},
        tags=["versions"],
    )
    def get(self, request: Request, slug: str) -> Response:
        letter = _letter(slug)
        versions = letter_versions_public(letter=letter)
        context = {"request": request, "letter": letter}
        return Response(VersionListItemSerializer(versions, many=True, context=context).data)


class LetterVersionView(PublicView):
    pagination_class = None
    shared_response_cache = True

    @extend_schema(
        operation_id="letters_versions_retrieve",
        summary="One version of a letter's text: its Markdown body and SHA-256",
        responses={200: VersionDetailSerializer, **ERRORS},
        tags=["versions"],
    )
    def get(self, request: Request, slug: str, number: int) -> Response:
        letter = _letter(slug)
        try:
            version = letter_version_public(letter=letter, number=number)
        except LetterVersion.DoesNotExist:
            raise Http404 from None
        response = Response(VersionDetailSerializer(version, context={"request": request, "letter": letter}).data)
        response["Cache-Control"] = VERSION_CACHE_CONTROL
        return response


class LetterVersionDiffView(PublicView):
    pagination_class = None
    shared_response_cache = True

    @extend_schema(
        operation_id="letters_versions_diff",
        summary="What changed between two versions (any two, either order): word pieces and a unified diff",
        responses={200: VersionDiffSerializer, **ERRORS, **THROTTLED},
        tags=["versions"],
    )
    def get(self, request: Request, slug: str, old: int, new: int) -> Response:
        letter = _letter(slug)
        try:
            diff = letter_version_diff(letter=letter, old=old, new=new)
        except LetterVersion.DoesNotExist:
            raise Http404 from None
        response = Response(VersionDiffSerializer(diff).data)
        response["Cache-Control"] = VERSION_CACHE_CONTROL
        return response


urlpatterns = [
    path("letters/<slug:slug>/versions/", LetterVersionsView.as_view(), name="api-letter-versions"),
    path("letters/<slug:slug>/versions/<num:number>/", LetterVersionView.as_view(), name="api-letter-version"),
    path(
        "letters/<slug:slug>/diff/<num:old>/<num:new>/", LetterVersionDiffView.as_view(), name="api-letter-version-diff"
    ),
]
