from web.views import (
    invitations,
    letters,
    manage,
    manage_alerts,
    manage_dashboard,
    manage_held,
    manage_imports,
    manage_members,
    manage_moderation,
    manage_webhooks,
    receipts,
    signing,
    versions,
)

urlpatterns = [
    *letters.urlpatterns,
    *signing.urlpatterns,
    *invitations.urlpatterns,
    *receipts.urlpatterns,
    *versions.urlpatterns,
    *manage.urlpatterns,  # before the dashboard's manage/<slug>/, so manage/new/ is the form
    *manage_members.urlpatterns,
    *manage_imports.urlpatterns,
    *manage_moderation.urlpatterns,
    *manage_held.urlpatterns,
    *manage_alerts.urlpatterns,
    *manage_webhooks.urlpatterns,
    *manage_dashboard.urlpatterns,
]
