"""Which representation a read answers in (JSON or CSV; JSON or HTML for the quarterly
review): `?format=` decides when given, else the Accept header with its q-values, else JSON."""

from __future__ import annotations

from collections.abc import Mapping

import mimeparse
from starlette.requests import Request

from service.errors import NotAcceptable, field_error

JSON = "application/json"
CSV = "text/csv"
HTML = "text/html"

#: `?format=` names and their media types. Offered to the Accept header in this order: on a
#: tie (`*/*`, or both named with the same q) the later one, JSON, wins.
FORMATS = {"csv": CSV, "json": JSON}
#: The same for a document that also answers HTML.
DOCUMENT_FORMATS = {"html": HTML, "json": JSON}


def negotiate(request: Request) -> str:
    """The media type of the answer: CSV or JSON; a 406 naming `format` (or Accept) when the
    client asks for neither."""
    return choose(request, FORMATS)


def choose(request: Request, formats: Mapping[str, str]) -> str:
    """The media type of `formats` the request asks for (JSON without a preference); a 406
    naming `format` (or Accept) when it asks for none of them."""
    named = request.query_params.get("format")
    if named is not None:
        chosen = formats.get(named.strip().lower())
        if chosen is None:
            detail = f"format {named!r} is not offered: use {' or '.join(reversed(list(formats)))}"
            raise NotAcceptable(detail, errors=[field_error("format", detail)])
        return chosen
    accept = request.headers.get("accept", "").strip()
    if not accept:
        return JSON
    try:
        best: str = mimeparse.best_match(list(formats.values()), accept)
    except mimeparse.MimeTypeParseException:
        best = ""
    if not best:
        offered = " or ".join(reversed(list(formats.values())))
        raise NotAcceptable(f"Accept {accept!r} names no type offered: {offered}",
                            header="Accept")  # fmt: skip
    return best
