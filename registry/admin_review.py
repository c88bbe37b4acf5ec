"""Admin review for the registry: duplicate queue (compare, merge, dismiss), organization candidates, scans."""

import re
from typing import TYPE_CHECKING

from django import forms
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from config import converters  # noqa: F401  registers <num:…>
from registry.duplicate_scans import dedup_scan_start
from registry.emails import domain_normalize
from registry.merge import MergeError, duplicate_dismiss, duplicate_merge, person_merge, person_unmerge
from registry.models import DuplicateCandidate, Organization
from registry.services import (
    organization_alias_add,
    organization_candidate_approve,
    organization_candidate_link,
    organization_domain_add,
)

_WEIGHT = re.compile(r"^(?P<text>.*) \((?P<weight>[+-]\d+\.\d)\)$")


def evidence_rows(reasons: list[str]) -> list[tuple[str, str]]:
    """Each stored reason as (evidence, weight in bits); reasons written before weights existed get "—"."""
    rows = []
    for reason in reasons:
        found = _WEIGHT.match(reason)
        rows.append((found["text"], found["weight"]) if found else (reason, "—"))
    return rows


def _person_rows(person):
    emails = ", ".join(e.email_key for e in person.emails.all()) or "—"
    affiliations = "; ".join(str(a) for a in person.affiliations.all()) or "—"
    letters = ", ".join(f"{s.letter.slug} ({s.status})" for s in person.signatures.select_related("letter")) or "—"
    return [person.display_name, person.public_id, emails, affiliations, letters]


# The mixins below extend a ModelAdmin; for the type checker they are one.
if TYPE_CHECKING:
    ReviewMixinBase = admin.ModelAdmin
else:
    ReviewMixinBase = object


class DuplicateReviewMixin(ReviewMixinBase):
    actions = ["merge_selected", "dismiss_selected"]

    def get_urls(self):
        return [
            path(
                "<num:pk>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="registry_duplicatecandidate_decide",
            ),
            *super().get_urls(),
        ]

    def decide_view(self, request, pk):
        """Side by side with merge and dismiss buttons; only a POST acts, through the services."""
        candidate = get_object_or_404(DuplicateCandidate.objects.select_related("person_a", "person_b"), pk=pk)
        decision = request.POST.get("decision")
        if request.method == "POST" and decision in ("merge", "dismiss"):
            try:
                if decision == "merge":
                    person_merge(
                        survivor=candidate.person_a,
                        duplicate=candidate.person_b,
                        actor=request.user,
                        reason=request.POST.get("reason", "")[:200] or f"duplicate candidate {candidate.pk}",
                    )
                elif candidate.status == DuplicateCandidate.Status.OPEN:
                    duplicate_dismiss(candidate=candidate, actor=request.user)
            except MergeError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, "Merged." if decision == "merge" else "Dismissed.")
                return redirect("admin:registry_duplicatecandidate_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": "Same person?",
            "candidate": candidate,
            "comparison": self.comparison(candidate),
        }
        return render(request, "admin/registry/duplicatecandidate/decide.html", context)

    @admin.display(description="Side by side")
    def comparison(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        labels = ["Name", "Public id", "Emails", "Affiliations", "Signatures"]
        rows = zip(labels, _person_rows(obj.person_a), _person_rows(obj.person_b), strict=True)
        table = format_html_join("", "<tr><th>{}</th><td>{}</td><td>{}</td></tr>", rows)
        evidence = format_html_join(
            "", '<tr><td>{}</td><td style="text-align:right">{}</td></tr>', evidence_rows(obj.reasons)
        )
        return format_html(
            "<table><tr><th></th><th>A (survives a merge)</th><th>B</th></tr>{}</table>"
            "<p>Why (each piece of evidence with its weight in bits; a pair is proposed when they add up to the "
            "threshold; match probability {}):</p>"
            "<table><tr><th>Evidence</th><th>Weight</th></tr>{}</table>"
            '<p><a class="button" href="{}">Merge or dismiss…</a></p>',
            table,
            f"{obj.score:.2f}",
            evidence,
            reverse("admin:registry_duplicatecandidate_decide", args=[obj.pk]),
        )

    @admin.display(description="Reasons")
    def reasons_text(self, obj):
        return "; ".join(obj.reasons)

    @admin.action(description="Merge selected pairs (A survives)")
    def merge_selected(self, request, queryset):
        merged = 0
        for candidate in queryset.filter(status=DuplicateCandidate.Status.OPEN).select_related("person_a", "person_b"):
            try:
                duplicate_merge(candidate=candidate, actor=request.user)
                merged += 1
            except MergeError as exc:
                messages.warning(request, f"Pair {candidate.pk}: {exc}")
        messages.success(request, f"{merged} pair(s) merged.")

    @admin.action(description="Dismiss selected pairs (different people)")
    def dismiss_selected(self, request, queryset):
        for candidate in queryset.filter(status=DuplicateCandidate.Status.OPEN):
            duplicate_dismiss(candidate=candidate, actor=request.user)
        messages.success(request, "Dismissed.")


class LinkCandidateForm(forms.Form):
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.filter(status=Organization.Status.REVIEWED), help_text="Fold the candidate into"
    )


class AliasDomainForm(forms.Form):
    alias = forms.CharField(required=False, max_length=200)
    domain = forms.CharField(required=False, max_length=253, help_text="A verified email domain, e.g. nvidia.com")

    def clean_domain(self):
        return domain_normalize(self.cleaned_data["domain"]) if self.cleaned_data["domain"] else ""


class OrganizationReviewMixin(ReviewMixinBase):
    actions = ["approve_candidates"]

    def get_urls(self):
        return [
            path("<num:pk>/link/", self.admin_site.admin_view(self.link_view), name="registry_organization_link"),
            path("<num:pk>/extend/", self.admin_site.admin_view(self.extend_view), name="registry_organization_extend"),
            *super().get_urls(),
        ]

    @admin.display(description="Review")
    def review_links(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        return format_html(
            '<a class="button" href="{}">Link candidate into an organization</a> '
            '<a class="button" href="{}">Add alias or domain</a>',
            reverse("admin:registry_organization_link", args=[obj.pk]),
            reverse("admin:registry_organization_extend", args=[obj.pk]),
        )

    @admin.action(description="Approve selected candidates as organizations")
    def approve_candidates(self, request, queryset):
        for organization in queryset.filter(status=Organization.Status.CANDIDATE):
            organization_candidate_approve(candidate=organization, actor=request.user)
        messages.success(request, "Approved.")

    def _form_view(self, request, pk, form_class, title, apply):
        organization = get_object_or_404(Organization, pk=pk)
        form = form_class(request.POST or None)
        if request.method == "POST" and form.is_valid():
            target = apply(organization, form.cleaned_data)
            messages.success(request, f"{title}: done.")
            return redirect("admin:registry_organization_change", target.pk)
        context = {**self.admin_site.each_context(request), "title": title, "form": form, "organization": organization}
        return render(request, "admin/registry/organization/review.html", context)

    def link_view(self, request, pk):
        def apply(candidate, data):
            organization_candidate_link(candidate=candidate, organization=data["organization"], actor=request.user)
            return data["organization"]

        return self._form_view(request, pk, LinkCandidateForm, "Link candidate", apply)

    def extend_view(self, request, pk):
        def apply(organization, data):
            if data["alias"]:
                organization_alias_add(organization=organization, name=data["alias"], actor=request.user)
            if data["domain"]:
                organization_domain_add(organization=organization, domain=data["domain"], actor=request.user)
            return organization

        return self._form_view(request, pk, AliasDomainForm, "Add alias or domain", apply)


class PersonScanMixin(ReviewMixinBase):
    actions = ["start_duplicate_scan", "unmerge_selected"]

    @admin.action(description="Undo the merge of selected people")
    def unmerge_selected(self, request, queryset):
        undone = 0
        for person in queryset.exclude(merged_into=None):
            try:
                person_unmerge(duplicate=person, actor=request.user, reason="undone in the admin")
                undone += 1
            except MergeError as exc:
                messages.warning(request, f"{person}: {exc}")
        messages.success(request, f"{undone} merge(s) undone.")

    @admin.action(description="Scan the whole registry for duplicates (selection ignored)")
    def start_duplicate_scan(self, request, queryset):
        scan = dedup_scan_start(actor=request.user)
        url = reverse("admin:registry_dedupscan_change", args=[scan.pk])
        messages.success(request, format_html('Scan started: <a href="{}">follow its progress</a>.', url))
