"""Staff API views."""

urlpatterns: list = []
