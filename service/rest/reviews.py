"""REST for the quarterly review: GET /v1/reviews/{quarter}, a printable HTML document or the
same content as JSON."""

from __future__ import annotations

from starlette.responses import Response

from service.kpi.quarters import PATTERN
from service.models.enums import Scope
from service.models.reviews import QuarterlyReview
from service.rest import negotiation
from service.rest.endpoint import Call, Endpoint, on_connection, path_param
from service.usecases import reviews
from service.web.review_page import render_review

HTML_EXAMPLE = (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
    "<title>Quarterly review 2026-Q3</title>\n<style>@page { size: A4; } ...</style>\n</head>\n"
    '<body>\n<section class="first" id="board">\n<h1>Quarterly review 2026-Q3</h1> ...'
)


async def quarterly_review(call: Call) -> Response:
    """The review of one closed calendar quarter."""
    media = negotiation.choose(call.request, negotiation.DOCUMENT_FORMATS)
    review = await on_connection(
        call, reviews.quarterly_review, quarter=path_param(call, "quarter"), now=call.now(),
        min_periods=call.settings.initiative_min_periods,
    )  # fmt: skip
    headers = {"Vary": "Accept"}
    if media == negotiation.HTML:
        return Response(render_review(review), media_type="text/html; charset=utf-8",
                        headers=headers)  # fmt: skip
    return Response(review.model_dump_json(), media_type=negotiation.JSON, headers=headers)


ENDPOINTS = [
    Endpoint(
        "GET", "/v1/reviews/{quarter}", quarterly_review, Scope.READ,
        "The quarterly review of a closed calendar quarter", "reviews",
        response=QuarterlyReview, errors=(406, 422),
        other_media=(("text/html", HTML_EXAMPLE),), path_patterns=(("quarter", PATTERN),),
        description="The quarter (`2026-Q3`) must have ended: a malformed or unfinished one is "
        "a 422 naming `quarter`. The board KPIs (as the scorecard reads them an instant before "
        "the quarter's end) with their series over four quarters, every service's report over "
        "the quarter by tier, the fleet's incidents and DORA keys, the first three failure "
        "clusters by service and by vendor, spend with the budget and forecast KPIs, the "
        "ratio (unit cost) KPIs, the active and delivered initiatives' reviews, governance "
        "gaps and unresolved escalations. As a self-contained HTML document (inline CSS and "
        "SVG, printable to PDF) or as JSON.",
        replica_reads=True,
    ),
]  # fmt: skip
