"""The quarterly review as one self-contained HTML document (inline CSS and SVG, no script,
no outside asset), rendered with Jinja2 from the review's content; printable to PDF."""

from __future__ import annotations

import datetime as dt
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined

from service.models.reviews import QuarterlyReview
from service.web.charts import bar, sparkline

TEMPLATE = "review.html"

#: How a status reads, beside its colour.
STATUS_LABELS = {"met": "Met", "at_risk": "At risk", "breached": "Breached", "no_data": "No data"}


def figure(value: float | None, digits: int = 2) -> str:
    """A number as the document prints it: thousands separated, `digits` decimals; n/a for
    none."""
    return "n/a" if value is None else f"{value:,.{digits}f}"


def day(value: dt.datetime | dt.date | None) -> str:
    return "n/a" if value is None else value.strftime("%Y-%m-%d")


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("service.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(figure=figure, day=day)
    env.globals.update(sparkline=sparkline, bar=bar, status_labels=STATUS_LABELS)
    return env


def render_review(review: QuarterlyReview) -> str:
    """The review's HTML document."""
    return environment().get_template(TEMPLATE).render(r=review)
