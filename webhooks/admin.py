"""Admin: webhook endpoints and their delivery logs, read-only; the writes are the audited services (disable or
enable an endpoint, redeliver). Secrets are never shown (they are stored encrypted and shown once to the owner)."""

from django.contrib import admin

from registry.admin import ReadOnlyAdminMixin
from webhooks.models import Attempt, Delivery, Endpoint
from webhooks.services import RedeliveryRefused, delivery_redeliver, endpoint_update


class AttemptInline(admin.TabularInline):
    model = Attempt
    extra = 0
    can_delete = False
    fields = readonly_fields = ("at", "status_code", "latency_ms", "error")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Endpoint)
class EndpointAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["url", "letter", "active", "disabled_reason", "backoff_until", "created_at"]
    list_filter = ["active"]
    list_select_related = ["letter"]
    search_fields = ["url", "letter__slug"]
    actions = ["disable", "enable"]

    @admin.action(description="Turn off the selected endpoints (audited)")
    def disable(self, request, queryset):
        for endpoint in queryset:
            endpoint_update(endpoint=endpoint, active=False, actor=request.user)
        self.message_user(request, "Endpoints turned off.")

    @admin.action(description="Turn on the selected endpoints (audited)")
    def enable(self, request, queryset):
        for endpoint in queryset:
            endpoint_update(endpoint=endpoint, active=True, actor=request.user)
        self.message_user(request, "Endpoints turned on.")


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["webhook_id", "event_type", "endpoint", "attempts", "delivered_at", "failed_at", "last_status"]
    list_filter = ["event_type"]
    list_select_related = ["endpoint"]
    search_fields = ["webhook_id"]
    inlines = [AttemptInline]
    actions = ["redeliver"]

    @admin.action(description="Redeliver now, with the same webhook-id (audited)")
    def redeliver(self, request, queryset):
        done = 0
        for delivery in queryset:
            try:
                delivery_redeliver(delivery=delivery, actor=request.user)
                done += 1
            except RedeliveryRefused:
                pass
        self.message_user(request, f"{done} deliveries will be sent again.")
