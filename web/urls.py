from web.views import letters, signing

urlpatterns = [
    *letters.urlpatterns,
    *signing.urlpatterns,
]
