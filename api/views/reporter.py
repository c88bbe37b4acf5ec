"""Public read API for reporters: letters, their signers and counts (also as of any instant), history, exports."""

from typing import Any

from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from api.caching import PublicCacheMixin, set_last_modified
from api.pagination import SignatureCursorPagination
from api.serializers.public import PublicSignatureSerializer
from api.serializers.reporter import (
    AsOfSignatureSerializer,
    ChangeSerializer,
    ChangesParams,
    LetterSerializer,
    OrganizationSearchParams,
    OrganizationSerializer,
    OrganizationSignatureSerializer,
    PageParams,
    SignatureListParams,
    StatsParams,
    StatsSerializer,
    TimelineBucketSerializer,
    TimelineParams,
)
from api.serializers.signing import ErrorSerializer, SignInputSerializer
from api.views.signing import SignView
from config import converters  # noqa: F401  registers <public_id:…> and <num:…>
from letters.exports import export_metadata, export_stream
from letters.models import Letter
from letters.presentation import public_signature_row
from letters.selectors import (
    letter_changes,
    letter_counts,
    letter_for_listing,
    letter_public_get,
    letter_public_lookup,
    letter_signatures_public,
    letter_stats,
    letter_timeline,
    letters_public,
    organization_public_signatures,
    organizations_public,
    person_public_signatures,
)
from letters.transparency_log import transparency_log_position
from letters.withheld import letter_withheld
from registry.models import Person
from registry.services import person_resolve

THROTTLED = {429: OpenApiResponse(ErrorSerializer, description="Too many requests (API_ANON_RATE); see Retry-After.")}
ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid parameters, with field errors."),
    404: ErrorSerializer,
    **THROTTLED,
}


def _letter(slug: str, *, full: bool = False, listing: bool = False) -> Letter:
    """The published letter, with recipients and sponsors (`full`), or only for its id (`listing`); else 404."""
    try:
        if listing:
            return letter_for_listing(slug=slug)
        return letter_public_get(slug=slug) if full else letter_public_lookup(slug=slug)
    except Letter.DoesNotExist:
        raise Http404 from None


def _params(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class PublicView(PublicCacheMixin, GenericAPIView):
    pagination_class: type[BasePagination] | None = SignatureCursorPagination
    queryset = Letter.objects.none()  # for schema generation only: views read through selectors


class LetterListView(PublicView):
    pagination_class = None
    shared_response_cache = True

    @extend_schema(
        summary="Open, paused and closed letters with their counts",
        responses={200: LetterSerializer(many=True), **THROTTLED},
    )
    def get(self, request: Request) -> Response:
        letters = list(letters_public())
        counts = {letter.pk: letter_counts(letter=letter) for letter in letters}
        return Response(LetterSerializer(letters, many=True, context={"request": request, "counts": counts}).data)


class LetterDetailView(PublicView):
    pagination_class = None
    shared_response_cache = True

    @extend_schema(
        summary="A letter: text version, recipients, sponsors, counts and links",
        responses={200: LetterSerializer, **ERRORS},
    )
    def get(self, request: Request, slug: str) -> Response:
        letter = _letter(slug, full=True)
        counts = letter_counts(letter=letter)
        response = Response(LetterSerializer(letter, context={"request": request, "counts": {letter.pk: counts}}).data)
        set_last_modified(response, counts["counted_at"])
        return response


class LetterSignaturesView(PublicView, SignView):
    """GET: the public list. POST: sign (see letters_sign)."""

    serializer_class = SignInputSerializer  # describes POST for OPTIONS requests
    shared_response_cache = True  # identical page reads within PUBLIC_RESPONSE_CACHE_SECONDS share one rendering

    def get_throttles(self):
        if self.request.method == "POST":
            return []
        return [throttle() for throttle in api_settings.DEFAULT_THROTTLE_CLASSES]  # type: ignore[operator]  # classes, not names

    @extend_schema(
        operation_id="letters_signatures_list",
        summary="Public signers (now, or as of an instant)",
        description=(
            "Confirmed signatures that are not held, rejected or withdrawn. With `as_of`, the list exactly as the "
            "public saw it then, replayed from the signature history; rows removed since carry `removed_later: true`."
            ' Withheld names are listed as "Name withheld" and never matched by `q`.'
        ),
        parameters=[SignatureListParams],
        responses={200: AsOfSignatureSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, slug: str) -> Response:
        letter = _letter(slug, listing=True)
        params = _params(SignatureListParams, request)
        filters = {
            "letter": letter,
            "organization": params.get("organization"),
            "level": params.get("level"),
            "q": params.get("q"),
            "signed_after": params.get("signed_after"),
            "signed_before": params.get("signed_before"),
            "ordering": params["ordering"],
        }
        if params.get("as_of"):
            page = self.paginate_queryset(letter_signatures_public(as_of=params["as_of"], **filters))
            context = {"as_of": params["as_of"], "reconsent_from": letter.material_version_number}
            data: Any = AsOfSignatureSerializer(page, many=True, context=context).data
        else:
            rows = self.paginate_queryset(letter_signatures_public(as_rows=True, **filters))
            reconsent_from = letter.material_version_number
            data = [public_signature_row(row, reconsent_from=reconsent_from) for row in rows or []]
        return self.get_paginated_response(data)


class LetterStatsView(PublicView):
    pagination_class = None
    shared_response_cache = True

    @extend_schema(
        summary="Counts: total, by level, by organization (top N plus other), by version, withdrawn, rejected",
        description=(
            "A closed letter's final count is the stats as of its `closed_at` (the letter's `links.final_stats`): "
            "it does not change afterwards."
        ),
        parameters=[StatsParams],
        responses={200: StatsSerializer, **ERRORS},
    )
    def get(self, request: Request, slug: str) -> Response:
        letter = _letter(slug)
        params = _params(StatsParams, request)
        as_of = params.get("as_of")
        stats = {
            **letter_stats(letter=letter, as_of=as_of, top=params["top"]),
            "withheld": letter_withheld(letter=letter, as_of=as_of),
            **transparency_log_position(letter),
        }
        response = Response(StatsSerializer(stats).data)
        set_last_modified(response, stats.get("counted_at"))
        return response


class LetterTimelineView(PublicView):
    pagination_class = None
    shared_response_cache = True

    @extend_schema(
        summary="Per UTC hour or day: public additions, removals and the cumulative count",
        parameters=[TimelineParams],
        responses={200: TimelineBucketSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, slug: str) -> Response:
        letter = _letter(slug)
        params = _params(TimelineParams, request)
        return Response(
            TimelineBucketSerializer(letter_timeline(letter=letter, bucket=params["bucket"]), many=True).data
        )


class ChangesPagination(SignatureCursorPagination):
    ordering = ("at", "id")


class LetterChangesView(PublicView):
    pagination_class = ChangesPagination

    @extend_schema(
        summary="Public changes in order: added, withdrawn, removed, merged, verified",
        parameters=[ChangesParams],
        responses={200: ChangeSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, slug: str) -> Response:
        letter = _letter(slug)
        params = _params(ChangesParams, request)
        events = letter_changes(letter=letter, since=params.get("since"), until=params.get("until"))
        page = self.paginate_queryset(events)
        context = {"reconsent_from": letter.material_version_number}
        return self.get_paginated_response(ChangeSerializer(page, many=True, context=context).data)


class ExportView(APIView):
    fmt = "csv"

    @extend_schema(
        summary="Streamed export of the public list (also as of an instant)",
        parameters=[
            OpenApiParameter("as_of", OpenApiTypes.DATETIME, description="Export the list as the public saw it then.")
        ],
        responses={(200, "text/csv"): OpenApiTypes.STR, (200, "application/json"): OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request: Request, slug: str) -> StreamingHttpResponse:
        letter = _letter(slug)
        as_of = _params(StatsParams, request).get("as_of")
        exported_at = timezone.now().replace(microsecond=0)
        metadata = export_metadata(letter=letter, exported_at=exported_at, as_of=as_of)
        stream = export_stream(letter=letter, fmt=self.fmt, metadata=metadata, as_of=as_of)
        content_type = "text/csv; charset=utf-8" if self.fmt == "csv" else "application/json"
        response = StreamingHttpResponse(stream, content_type=content_type)
        stamp = (as_of or exported_at).strftime("%Y%m%dT%H%M%SZ")
        response["Content-Disposition"] = f'attachment; filename="{letter.slug}-{stamp}.{self.fmt}"'
        assert letter.current_version is not None  # _letter serves published letters only
        response["X-Letter-Version"] = str(letter.current_version.number)
        response["X-Letter-Version-SHA256"] = letter.current_version.sha256
        response["X-Exported-At"] = exported_at.isoformat()
        if as_of:
            response["X-As-Of"] = as_of.isoformat()
        response["Cache-Control"] = "public, max-age=5, stale-while-revalidate=30"
        return response


class PersonView(PublicView):
    pagination_class = None

    @extend_schema(
        summary="A person's public profile: name, current affiliation, letters signed",
        responses={200: OpenApiTypes.OBJECT, 404: ErrorSerializer, **THROTTLED},
    )
    def get(self, request: Request, public_id: str) -> Response:
        person = person_resolve(get_object_or_404(Person, public_id=public_id))
        merged_ids = [person.pk, *Person.objects.filter(merged_into=person).values_list("pk", flat=True)]
        signatures = list(person_public_signatures(person_ids=merged_ids))
        if not signatures:
            raise Http404
        latest = signatures[-1]
        return Response(
            {
                "id": person.public_id,
                "name": person.display_name,
                "affiliation": {
                    "title": latest.title,
                    "organization": PublicSignatureSerializer().get_organization(latest),
                },
                "letters": [
                    {
                        "letter": {"slug": s.letter.slug, "title": s.letter.title},
                        "signature": PublicSignatureSerializer(s).data,
                    }
                    for s in signatures
                ],
            }
        )


class OrganizationListView(PublicView):
    pagination_class = None

    @extend_schema(
        summary="Organizations (search by name or alias)",
        parameters=[OrganizationSearchParams],
        responses={200: OrganizationSerializer(many=True), 400: ErrorSerializer, **THROTTLED},
    )
    def get(self, request: Request) -> Response:
        params = _params(OrganizationSearchParams, request)
        return Response(OrganizationSerializer(organizations_public(q=params.get("q"))[:200], many=True).data)


class OrganizationDetailView(PublicView):
    pagination_class = None

    @extend_schema(
        summary="An organization: aliases, verified domains and public signers per letter",
        responses={200: OpenApiTypes.OBJECT, 404: ErrorSerializer, **THROTTLED},
    )
    def get(self, request: Request, slug: str) -> Response:
        organization = get_object_or_404(organizations_public(), slug=slug)
        per_letter: dict[str, dict] = {}
        for signature in organization_public_signatures(organization=organization):
            entry = per_letter.setdefault(
                signature.letter.slug,
                {"slug": signature.letter.slug, "title": signature.letter.title, "public_signers": 0},
            )
            entry["public_signers"] += 1
        return Response({**OrganizationSerializer(organization).data, "letters": list(per_letter.values())})


class OrganizationSignaturesView(PublicView):
    @extend_schema(
        summary="Public signatures of an organization's people across letters",
        parameters=[PageParams],
        responses={200: OrganizationSignatureSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, slug: str) -> Response:
        organization = get_object_or_404(organizations_public(), slug=slug)
        _params(PageParams, request)
        page = self.paginate_queryset(organization_public_signatures(organization=organization))
        data = [{**PublicSignatureSerializer(s).data, "letter": s.letter.slug} for s in page or []]
        return self.get_paginated_response(data)


urlpatterns = [
    path("letters/", LetterListView.as_view(), name="api-letter-list"),
    path("letters/<slug:slug>/", LetterDetailView.as_view(), name="api-letter-detail"),
    path("letters/<slug:slug>/signatures/", LetterSignaturesView.as_view(), name="api-letter-signatures"),
    path("letters/<slug:slug>/stats/", LetterStatsView.as_view(), name="api-letter-stats"),
    path("letters/<slug:slug>/timeline/", LetterTimelineView.as_view(), name="api-letter-timeline"),
    path("letters/<slug:slug>/changes/", LetterChangesView.as_view(), name="api-letter-changes"),
    path("letters/<slug:slug>/export.csv", ExportView.as_view(fmt="csv"), name="api-letter-export-csv"),
    path("letters/<slug:slug>/export.json", ExportView.as_view(fmt="json"), name="api-letter-export-json"),
    path("people/<public_id:public_id>/", PersonView.as_view(), name="api-person"),
    path("organizations/", OrganizationListView.as_view(), name="api-organization-list"),
    path("organizations/<slug:slug>/", OrganizationDetailView.as_view(), name="api-organization-detail"),
    path(
        "organizations/<slug:slug>/signatures/",
        OrganizationSignaturesView.as_view(),
        name="api-organization-signatures",
    ),
]
