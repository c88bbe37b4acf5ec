"""Serializers of the API: JSON bodies checked against the declared types, and the flat inputs that hot endpoints build
on every request."""

import copy
from collections.abc import Mapping
from typing import Any

from django.http import QueryDict
from rest_framework import serializers

NOT_A_STRING = "Not a valid string."
NOT_A_BOOLEAN = "Must be true or false."
NOT_AN_INTEGER = "A valid integer is required."


def json_type_error(field: serializers.Field, value: Any) -> str | None:
    """What is wrong with a JSON value's type for this field, or None. DRF casts on its own: a number is taken for a
    string, "yes" or 1 for true, "7" for an integer. That suits form data, whose values are all text, but a JSON body
    that sends `"comment": 0` breaks the published schema, and the client should hear so rather than have it
    silently stored as "0". null is left to the field's own allow_null rule."""
    if value is None:
        return None
    if isinstance(field, serializers.BooleanField) and not isinstance(value, bool):
        return NOT_A_BOOLEAN
    if isinstance(field, serializers.CharField) and not isinstance(value, str):
        return NOT_A_STRING
    if isinstance(field, serializers.IntegerField) and (isinstance(value, bool) or not isinstance(value, int)):
        return NOT_AN_INTEGER
    return None


def json_type_errors(fields: Mapping[str, serializers.Field], data: Any) -> dict[str, Any]:
    """Field errors for the values of a JSON object whose type is not the declared one, lists and nested objects
    included, in DRF's error shape. Form data (a QueryDict) and query parameters are text by nature: not checked."""
    if not isinstance(data, Mapping) or isinstance(data, QueryDict):
        return {}
    errors: dict[str, Any] = {}
    for name, field in fields.items():
        if field.read_only or name not in data:
            continue
        error = _value_errors(field, data[name])
        if error:
            errors[name] = error
    return errors


def _value_errors(field: serializers.Field, value: Any) -> Any:
    """As DRF shapes them: a list of objects as one error object an item ({} where fine), a list of values and a
    dictionary as their errors by index or key."""
    if isinstance(field, serializers.ListSerializer) and isinstance(value, list):
        assert field.child is not None  # a ListSerializer is always made around its child
        objects = [_value_errors(field.child, item) or {} for item in value]
        return objects if any(objects) else None
    if isinstance(field, serializers.ListField) and isinstance(value, list):
        items = {index: _value_errors(field.child, item) for index, item in enumerate(value)}
        return {index: error for index, error in items.items() if error} or None
    if isinstance(field, serializers.DictField) and isinstance(value, Mapping):
        entries = {key: _value_errors(field.child, item) for key, item in value.items()}
        return {key: error for key, error in entries.items() if error} or None
    if isinstance(field, serializers.Serializer):
        return json_type_errors(field.fields, value) or None
    message = json_type_error(field, value)
    return [message] if message else None


class Serializer(serializers.Serializer):
    """A serializer whose JSON input must have the declared types (json_type_error), before DRF's own checks."""

    def to_internal_value(self, data):
        errors = json_type_errors(self.fields, data)
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class FlatInputSerializer(Serializer):
    """For flat input (no nested serializers): each instance shallow-copies the declared fields.

    DRF deep-copies them per instance, which rebuilds every field and its validators; validation only binds a
    field (name, parent) and reads its settings, so a shallow copy is enough and costs a fraction.
    """

    def get_fields(self) -> dict[str, serializers.Field]:
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}


class QueryParams(FlatInputSerializer):
    """Query parameters. One given empty (`?as_of=`) is an error with its field, not an absent one: DRF would read
    it as absent, which the published schema (a date-time, a choice, …) does not allow."""

    BLANK = "This field may not be blank."

    def to_internal_value(self, data):
        blank = {name: [self.BLANK] for name in self.fields if name in data and data.get(name) == ""}
        if blank:
            raise serializers.ValidationError(blank)  # type: ignore[arg-type]  # the stubs iterate fields as Field, not str
        return super().to_internal_value(data)
