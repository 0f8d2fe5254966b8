"""Which representation a read answers in, JSON or CSV: `?format=` decides when given, else
the Accept header with its q-values, else JSON."""

from __future__ import annotations

import mimeparse
from starlette.requests import Request

from service.errors import NotAcceptable, field_error

JSON = "application/json"
CSV = "text/csv"

#: `?format=` names and their media types. Offered to the Accept header in this order: on a
#: tie (`*/*`, or both named with the same q) the later one, JSON, wins.
FORMATS = {"csv": CSV, "json": JSON}


def negotiate(request: Request) -> str:
    """The media type of the answer: CSV or JSON; a 406 naming `format` (or Accept) when the
    client asks for neither."""
    named = request.query_params.get("format")
    if named is not None:
        chosen = FORMATS.get(named.strip().lower())
        if chosen is None:
            detail = f"format {named!r} is not offered: use json or csv"
            raise NotAcceptable(detail, errors=[field_error("format", detail)])
        return chosen
    accept = request.headers.get("accept", "").strip()
    if not accept:
        return JSON
    try:
        best: str = mimeparse.best_match(list(FORMATS.values()), accept)
    except mimeparse.MimeTypeParseException:
        best = ""
    if not best:
        raise NotAcceptable(
            f"Accept {accept!r} names no type offered: application/json or text/csv",
            header="Accept",
        )
    return best
