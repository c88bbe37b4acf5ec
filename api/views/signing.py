"""Signing API views."""

urlpatterns: list = []
