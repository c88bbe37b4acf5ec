"""Output serializers and query-parameter validators for the public read API."""

from datetime import datetime

from django.utils.http import urlencode
from rest_framework import serializers

from api.serializers.base import QueryParams, Serializer
from api.serializers.public import PublicSignatureSerializer
from letters.history import AS_OF_SETTLE, AS_OF_SKEW, as_of_problem, public_change_kind
from letters.models import VerificationLevel
from letters.presentation import iso_utc, shown_signature
from letters.selectors import ORDERINGS
from letters.transparency_log import UNLOGGED_COUNT_CAP


class OrganizationSignatureSerializer(PublicSignatureSerializer):
    """A public signature with the letter it is on (an organization's people sign several)."""

    letter = serializers.CharField(help_text="The letter's slug.")


class AsOfSignatureSerializer(PublicSignatureSerializer):
    """A row of the list as the public saw it at `as_of`: the level then, and whether it was removed later."""

    removed_later = serializers.BooleanField(
        required=False, help_text="Only with `as_of`: the row left the public list after that instant."
    )

    def to_representation(self, obj) -> dict:
        return shown_signature(obj, as_of=self.context["as_of"], reconsent_from=self.context.get("reconsent_from", 1))


class CountsSerializer(Serializer):
    public = serializers.IntegerField()
    verified = serializers.IntegerField(
        help_text="Public signatures verified independently of the organizers: level domain or manual (invited and "
        "vouched rest on the organizers' word; by_level counts them)."
    )
    by_level = serializers.DictField(child=serializers.IntegerField())
    withdrawn = serializers.IntegerField(help_text="Confirmed signatures later withdrawn by their signers.")
    rejected = serializers.IntegerField(help_text="Public signatures later rejected by an admin.")
    name_withheld = serializers.IntegerField()
    as_of = serializers.DateTimeField(allow_null=True, help_text="The instant asked for (`as_of`); null for now.")
    counted_at = serializers.DateTimeField(
        allow_null=True,
        help_text="Without `as_of`: the instant these counts are exactly true at (the fold's horizon; "
        "`stats/?as_of=<counted_at>` gives the same numbers). Null with `as_of`, whose counts are true at `as_of`.",
    )
    staleness_bound_seconds = serializers.IntegerField(
        required=False,
        help_text="Without `as_of`: how far `counted_at` can be behind the instant this server sends the answer, at "
        "most (refolding, the server's caches and the time to answer included; an HTTP cache's age is not).",
    )


class OrganizationCountSerializer(Serializer):
    name = serializers.CharField()
    slug = serializers.CharField(allow_null=True)
    count = serializers.IntegerField()


class VersionCountSerializer(Serializer):
    number = serializers.IntegerField()
    kind = serializers.CharField(help_text="initial, editorial or material.")
    count = serializers.IntegerField(help_text="Public signatures bound to this version now.")
    current = serializers.BooleanField()
    awaiting_reconsent = serializers.BooleanField(
        help_text="Older than the latest material version: its signers were asked to re-consent."
    )


class WithheldOrganizationSerializer(Serializer):
    name = serializers.CharField()
    slug = serializers.CharField(allow_null=True, help_text="Set for a reviewed organization; null for typed text.")


class WithheldGroupSerializer(Serializer):
    level = serializers.CharField()
    verified = serializers.BooleanField(
        help_text="The level is verified independently of the organizers (domain or manual), as counted in `verified`."
    )
    organization = WithheldOrganizationSerializer(allow_null=True)
    count = serializers.IntegerField()
    text = serializers.CharField(help_text='e.g. "12 verified Adobe signers, names withheld".')


class StatsSerializer(CountsSerializer):
    withheld = WithheldGroupSerializer(
        many=True,
        help_text="Public signatures whose names are withheld, by level and organization; never names. Without "
        "`as_of`, read from the signatures when the answer was computed (kept 2 s), not replayed at `counted_at`; "
        "with `as_of`, at `as_of`.",
    )
    log_tree_size = serializers.IntegerField(
        allow_null=True, help_text="Size of the latest transparency-log checkpoint (/log/checkpoint)."
    )
    log_root_hash = serializers.CharField(allow_null=True, help_text="Its root hash, base64.")
    log_unlogged_changes = serializers.IntegerField(
        help_text="Public changes not yet in the log when this was read (0: the counts are all in that tree), "
        f"counted up to {UNLOGGED_COUNT_CAP} (that number means at least that many)."
    )
    by_organization = OrganizationCountSerializer(many=True)
    other_organizations = serializers.IntegerField()
    by_version = VersionCountSerializer(
        many=True,
        allow_null=True,
        help_text="Public signatures per version of the text, as they are bound now; null with as_of.",
    )


class TimelineBucketSerializer(Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    added = serializers.IntegerField()
    removed = serializers.IntegerField(
        help_text="Signatures that left the public list (withdrawn, rejected, merged, held)."
    )
    cumulative = serializers.IntegerField()


class RecipientSerializer(Serializer):
    name = serializers.CharField()
    role = serializers.CharField()


class OrganizationRefSerializer(Serializer):
    name = serializers.CharField()
    slug = serializers.CharField()


class VersionSerializer(Serializer):
    number = serializers.IntegerField()
    sha256 = serializers.CharField()
    published_at = serializers.DateTimeField()
    kind = serializers.CharField(help_text="initial, editorial (signers stay bound) or material (signers re-consent).")
    note = serializers.CharField(help_text="What changed, in the organizers' words.")


class LetterSerializer(Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    summary = serializers.CharField()
    status = serializers.CharField()
    recipients = serializers.SerializerMethodField()
    sponsors = serializers.SerializerMethodField()
    current_version = VersionSerializer()
    opened_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    counts = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    def get_recipients(self, letter) -> list[dict]:
        return [{"name": r.name, "role": r.role} for r in letter.recipients.all()]

    def get_sponsors(self, letter) -> list[dict]:
        return [{"name": s.organization.name, "slug": s.organization.slug} for s in letter.sponsorships.all()]

    def get_counts(self, letter) -> dict:
        return CountsSerializer(self.context["counts"][letter.pk]).data

    def get_links(self, letter) -> dict:
        base = self.context["request"].build_absolute_uri(f"/api/v1/letters/{letter.slug}/")
        return {
            "self": base,
            "signatures": f"{base}signatures/",
            "stats": f"{base}stats/",
            "timeline": f"{base}timeline/",
            "changes": f"{base}changes/",
            "export_csv": f"{base}export.csv",
            "export_json": f"{base}export.json",
            "sign": f"{base}signatures/",
            "versions": f"{base}versions/",
            "page": self.context["request"].build_absolute_uri(letter.get_absolute_url()),
            # A closed letter's final count, citable: the stats as of the instant it closed.
            "final_stats": f"{base}stats/?{urlencode({'as_of': iso_utc(letter.closed_at) or ''})}"
            if letter.closed_at
            else None,
        }


class ChangeSerializer(Serializer):
    at = serializers.DateTimeField()
    change = serializers.SerializerMethodField()
    level = serializers.CharField(source="level_after")
    public_reason = serializers.SerializerMethodField()
    signature = PublicSignatureSerializer()

    def get_change(self, event) -> str | None:
        return public_change_kind(event)

    def get_public_reason(self, event) -> str | None:
        return (event.data or {}).get("public_reason")


class AsOfParams(QueryParams):
    as_of = serializers.DateTimeField(
        required=False,
        help_text="ISO 8601 instant; the answer as the public saw it then. At most "
        f"{AS_OF_SKEW.total_seconds():g} s ahead of the server's clock (later is a 400). Answers for instants more "
        f"than {AS_OF_SETTLE.total_seconds():g} s old are cached long (`max-age=60`: the history up to them has "
        "settled); more recent ones, which can still change, as briefly as reads of now (`max-age=5`).",
    )

    def validate_as_of(self, value: datetime) -> datetime:
        problem = as_of_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value


class PageParams(QueryParams):
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=500)
    cursor = serializers.CharField(required=False, max_length=500)


class SignatureListParams(AsOfParams, PageParams):
    organization = serializers.SlugField(required=False, max_length=200)
    level = serializers.ChoiceField(choices=[c for c in VerificationLevel.values if c != "none"], required=False)
    q = serializers.CharField(required=False, max_length=200)
    signed_after = serializers.DateTimeField(required=False)
    signed_before = serializers.DateTimeField(required=False)
    ordering = serializers.ChoiceField(choices=list(ORDERINGS), required=False, default="signed_at")


class StatsParams(AsOfParams):
    top = serializers.IntegerField(required=False, min_value=1, max_value=100, default=10)


class TimelineParams(QueryParams):
    bucket = serializers.ChoiceField(choices=["hour", "day"], required=False, default="hour")


class ChangesParams(PageParams):
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)


class OrganizationSerializer(Serializer):
    name = serializers.CharField()
    slug = serializers.CharField()
    kind = serializers.CharField()
    website = serializers.CharField()
    aliases = serializers.SerializerMethodField()
    verified_domains = serializers.SerializerMethodField()

    def get_aliases(self, org) -> list[str]:
        return [a.name for a in org.aliases.all()]

    def get_verified_domains(self, org) -> list[str]:
        return [d.domain for d in org.domains.all() if d.verified]


class OrganizationSearchParams(QueryParams):
    q = serializers.CharField(required=False, max_length=200)
