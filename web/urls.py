from web.views import letters, manage, manage_dashboard, signing, versions

urlpatterns = [
    *letters.urlpatterns,
    *signing.urlpatterns,
    *versions.urlpatterns,
    *manage.urlpatterns,  # before the dashboard's manage/<slug>/, so manage/new/ is the form
    *manage_dashboard.urlpatterns,
]
