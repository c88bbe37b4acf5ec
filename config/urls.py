from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path

# The admin signs in through allauth's login, so its two-factor step and rate limits apply (Django's own admin login
# form would accept a password alone).
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

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
