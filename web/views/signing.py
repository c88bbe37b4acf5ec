"""Signing pages."""

urlpatterns: list = []
