from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include("api.urls")),
    path("log/", include("transparency.urls")),
    path("", include("ops.urls")),
    path("", include("web.urls")),
]

if settings.BENCH:
    urlpatterns.append(path("bench/", include("bench.urls")))
