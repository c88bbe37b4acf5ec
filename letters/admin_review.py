"""Admin review screens for signatures: verify with evidence, reject with a reason. They call services only."""

from typing import TYPE_CHECKING

from django import forms
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html

from config import converters  # noqa: F401  registers <num:…>
from letters.models import Signature, VerificationRecord
from letters.selectors import verification_queue
from letters.services.verification import (
    VerificationError,
    signature_reject,
    signature_release,
    signature_verify_manual,
)


class VerifyForm(forms.Form):
    method = forms.ChoiceField(
        choices=[(VerificationRecord.Method.MANUAL, "Manual check"), (VerificationRecord.Method.INVITED, "Invited")]
    )
    evidence = forms.CharField(
        widget=forms.Textarea, help_text="e.g. confirmed by phone via the company's published number"
    )
    evidence_url = forms.URLField(required=False)


class RejectForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea, help_text="Private: only admins see it.")
    public_reason = forms.CharField(required=False, max_length=200, help_text="Shown in the public change feed.")


class ReviewQueueFilter(admin.SimpleListFilter):
    title = "review queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [
            ("review", "Needs review (held or email only)"),
            ("held", "Held for review"),
            ("manual", "Confirmed, email level only"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "review":
            return queryset.filter(pk__in=verification_queue().values("pk"))
        if self.value() == "held":
            return queryset.filter(status=Signature.Status.CONFIRMED).exclude(Signature.VISIBLE)
        if self.value() == "manual":
            return queryset.filter(status=Signature.Status.CONFIRMED, verification_level="email")
        return queryset


# The mixins below extend a ModelAdmin; for the type checker they are one.
if TYPE_CHECKING:
    ReviewMixinBase = admin.ModelAdmin
else:
    ReviewMixinBase = object


class SignatureReviewMixin(ReviewMixinBase):
    """Adds verify/reject screens, bulk release and reject actions to the signature admin."""

    actions = ["release_holds", "reject_as_spam"]

    def get_urls(self):
        return [
            path("<num:pk>/verify/", self.admin_site.admin_view(self.verify_view), name="letters_signature_verify"),
            path("<num:pk>/reject/", self.admin_site.admin_view(self.reject_view), name="letters_signature_reject"),
            *super().get_urls(),
        ]

    @admin.display(description="Review")
    def review_links(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        return format_html(
            '<a class="button" href="{}">Verify with evidence</a> <a class="button" href="{}">Reject</a>',
            reverse("admin:letters_signature_verify", args=[obj.pk]),
            reverse("admin:letters_signature_reject", args=[obj.pk]),
        )

    def _review(self, request, pk, form_class, title, apply):
        signature = get_object_or_404(Signature, pk=pk)
        form = form_class(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                apply(signature, form.cleaned_data)
            except VerificationError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, f"{title}: done.")
                return redirect("admin:letters_signature_change", signature.pk)
        context = {**self.admin_site.each_context(request), "title": title, "form": form, "signature": signature}
        return render(request, "admin/letters/signature/review.html", context)

    def verify_view(self, request, pk):
        return self._review(
            request,
            pk,
            VerifyForm,
            "Verify with evidence",
            lambda s, d: signature_verify_manual(
                signature=s,
                method=d["method"],
                evidence=d["evidence"],
                evidence_url=d["evidence_url"],
                verifier=request.user,
            ),
        )

    def reject_view(self, request, pk):
        return self._review(
            request,
            pk,
            RejectForm,
            "Reject signature",
            lambda s, d: signature_reject(
                signature=s, reason=d["reason"], public_reason=d["public_reason"], actor=request.user
            ),
        )

    @admin.action(description="Release the hold of selected signatures (keep their level)")
    def release_holds(self, request, queryset):
        refused = 0
        for signature in queryset.exclude(hold_reason=""):
            try:
                signature_release(signature=signature, actor=request.user)
            except VerificationError:
                refused += 1
        messages.success(request, "Holds released.")
        if refused:
            messages.warning(
                request, f"{refused} held as a possible impersonation: verify them with evidence, or reject them."
            )

    @admin.action(description="Reject selected signatures as spam")
    def reject_as_spam(self, request, queryset):
        rejected = 0
        for signature in queryset.filter(status__in=Signature.LIVE_STATUSES):
            signature_reject(signature=signature, reason="Rejected as spam in bulk", actor=request.user)
            rejected += 1
        messages.success(request, f"{rejected} signature(s) rejected.")
