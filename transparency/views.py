"""The log over HTTP in the C2SP tlog-tiles layout (mounted at /log/ by config/urls.py).

Only what the latest checkpoint commits to is served. Tiles never change once served (a partial tile of width W is
the same bytes forever), so they are cacheable for a year; the checkpoint for a few seconds.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from transparency import selectors
from transparency.keys import signing_key
from transparency.tiles import tile_parse

IMMUTABLE = "public, max-age=31536000, immutable"
MAX_TILE_LEVEL = 7  # 2**(8*8) leaves; deeper levels cannot exist


def _size() -> int:
    checkpoint = selectors.checkpoint_latest()
    if checkpoint is None:
        raise Http404("no checkpoint yet")
    return checkpoint.size


def _tile_response(body: bytes | None) -> HttpResponse:
    if body is None:
        raise Http404("no such tile in the checkpointed tree")
    response = HttpResponse(body, content_type="application/octet-stream")
    response["Cache-Control"] = IMMUTABLE
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def checkpoint(request: HttpRequest) -> HttpResponse:
    latest = selectors.checkpoint_latest()
    if latest is None:
        raise Http404("no checkpoint yet")
    response = HttpResponse(latest.note, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "public, max-age=5"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def verifier_key(request: HttpRequest) -> HttpResponse:
    signer = signing_key()
    if signer is None:
        raise Http404("this log has no signing key")
    response = HttpResponse(signer.verifier_key + "\n", content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "public, max-age=3600"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def hash_tile(request: HttpRequest, level: int, rest: str) -> HttpResponse:
    try:
        n, width = tile_parse(rest)
    except ValueError:
        raise Http404("not a tile path") from None
    if level > MAX_TILE_LEVEL:
        raise Http404("no such tile level")
    return _tile_response(selectors.tile_hashes(level=level, n=n, width=width, size=_size()))


@require_GET
def entries_tile(request: HttpRequest, rest: str) -> HttpResponse:
    try:
        n, width = tile_parse(rest)
    except ValueError:
        raise Http404("not a tile path") from None
    return _tile_response(selectors.tile_entries(n=n, width=width, size=_size()))
