"""Input serializers that hot endpoints build on every request."""

import copy

from rest_framework import serializers


class FlatInputSerializer(serializers.Serializer):
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
