"""Letters pages."""

urlpatterns: list = []
