"""Reporter API views."""

urlpatterns: list = []
