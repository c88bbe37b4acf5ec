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
