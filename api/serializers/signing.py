"""Input serializers for signing; they apply letters.typed_text and registry.emails, the one home of those rules."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.base import FlatInputSerializer, Serializer
from letters.typed_text import MAX_COMMENT_LENGTH, MAX_LENGTH, clean_comment, clean_line, too_long
from registry.emails import email_normalize


def _django_rule(rule, value, **kwargs):
    try:
        return rule(value, **kwargs)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages) from exc


@extend_schema_field({"type": "string", "format": "email", "maxLength": 254, "minLength": 1})
class _Guarded(serializers.CharField):
    """A size guard of twice `rule_length` on the raw text whose message names the rule's limit."""

    rule_length = MAX_LENGTH

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", self.rule_length * 2)
        kwargs["error_messages"] = {"max_length": too_long(self.rule_length), **kwargs.get("error_messages", {})}
        super().__init__(**kwargs)


class EmailText(_Guarded):
    """An address checked by registry.emails (the one home of the rule); the schema says it is an email."""

    rule_length = 254


@extend_schema_field({"type": "string", "maxLength": MAX_LENGTH})
class LineText(_Guarded):
    """A one-line field checked by letters.typed_text after NFKC and trimming; the raw text may be up to twice as
    long (a decomposed "é" is two code points), and the schema states the rule's own limit."""


@extend_schema_field({"type": "string", "maxLength": MAX_COMMENT_LENGTH})
class CommentText(_Guarded):
    """A comment, likewise checked by letters.typed_text."""

    rule_length = MAX_COMMENT_LENGTH


class SignInputSerializer(FlatInputSerializer):
    """Fields like status, verified, letter or person are not declared, so they are ignored.

    The declared lengths are a size guard on the raw text (twice the rule, as the web form); the rules
    (letters.typed_text, registry.emails) decide after normalization, and the schema states their limits.
    """

    name = LineText(trim_whitespace=False)
    email = EmailText(trim_whitespace=False)
    title = LineText(required=False, allow_blank=True, trim_whitespace=False)
    organization = LineText(required=False, allow_blank=True, trim_whitespace=False)
    public = serializers.BooleanField(required=False, default=True)
    comment = CommentText(required=False, allow_blank=True, trim_whitespace=False)

    def validate_name(self, value: str) -> str:
        return _django_rule(clean_line, value, required=True)

    def validate_title(self, value: str) -> str:
        return _django_rule(clean_line, value)

    def validate_organization(self, value: str) -> str:
        return _django_rule(clean_line, value)

    def validate_comment(self, value: str) -> str:
        return _django_rule(clean_comment, value)

    def validate_email(self, value: str) -> str:
        return _django_rule(email_normalize, value)[0]


class TokenInputSerializer(Serializer):
    token = serializers.CharField(max_length=256)


class DetailSerializer(Serializer):
    detail = serializers.CharField()


class ErrorSerializer(Serializer):
    detail = serializers.CharField()
    # A declared field, taken off the class by the serializer metaclass: it does not shadow Serializer.errors.
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))  # type: ignore[assignment]
