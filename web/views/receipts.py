"""A signer's receipt: the tlog-proof that the transparency log counted their signature (docs/transparency.md)."""

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

from letters.models import Signature
from letters.transparency_log import signature_receipt


@require_GET
def receipt(request: HttpRequest, slug: str, public_id: str) -> HttpResponse:
    signature = Signature.objects.filter(letter__slug=slug, public_id=public_id).first()
    proof = signature_receipt(signature=signature) if signature is not None else None
    if proof is None:
        raise Http404("No receipt yet: the log records a signature within seconds of its confirmation.")
    response = HttpResponse(proof, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{public_id}.tlog-proof"'
    response["Cache-Control"] = "public, max-age=60"
    return response


urlpatterns = [
    path("letters/<slug:slug>/receipts/<str:public_id>.tlog-proof", receipt, name="web-receipt"),
]
