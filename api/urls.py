from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from api.views import (
    manage,
    manage_alerts,
    manage_held,
    manage_imports,
    manage_members,
    manage_moderation,
    manage_webhooks,
    reporter,
    signing,
    staff,
    versions,
)

urlpatterns = [
    *signing.urlpatterns,
    *reporter.urlpatterns,
    *versions.urlpatterns,
    *staff.urlpatterns,
    *manage.urlpatterns,
    *manage_members.urlpatterns,
    *manage_imports.urlpatterns,
    *manage_moderation.urlpatterns,
    *manage_held.urlpatterns,
    *manage_alerts.urlpatterns,
    *manage_webhooks.urlpatterns,
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
