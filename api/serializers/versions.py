"""Output serializers for the public version reads: every version of a letter's text, readable forever."""

from rest_framework import serializers

from api.serializers.base import Serializer


class VersionListItemSerializer(Serializer):
    number = serializers.IntegerField()
    kind = serializers.CharField(help_text="initial, editorial (signers stay bound) or material (signers re-consent).")
    note = serializers.CharField(help_text="What changed, in the organizers' words.")
    sha256 = serializers.CharField(help_text="SHA-256 of the UTF-8 body.")
    published_at = serializers.DateTimeField()
    current = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    def get_current(self, version) -> bool:
        return version.pk == self.context["letter"].current_version_id

    def get_links(self, version) -> dict:
        request, slug = self.context["request"], self.context["letter"].slug
        return {
            "self": request.build_absolute_uri(f"/api/v1/letters/{slug}/versions/{version.number}/"),
            "page": request.build_absolute_uri(f"/letters/{slug}/v/{version.number}/"),
        }


class VersionDetailSerializer(VersionListItemSerializer):
    body = serializers.CharField(help_text="The text as published, in Markdown; its SHA-256 is `sha256`.")


class VersionRefSerializer(Serializer):
    number = serializers.IntegerField()
    kind = serializers.CharField()
    sha256 = serializers.CharField()
    published_at = serializers.DateTimeField()


class DiffPieceSerializer(Serializer):
    op = serializers.ChoiceField(choices=["equal", "insert", "delete"])
    text = serializers.CharField(trim_whitespace=False)


class VersionDiffSerializer(Serializer):
    from_version = VersionRefSerializer(source="from")
    to_version = VersionRefSerializer(source="to")
    words_added = serializers.IntegerField()
    words_removed = serializers.IntegerField()
    pieces = DiffPieceSerializer(
        many=True,
        help_text="The word diff: joining equal and delete pieces gives the old text, equal and insert the new.",
    )
    unified = serializers.CharField(trim_whitespace=False, help_text="A unified line diff (diff -u), empty if equal.")
