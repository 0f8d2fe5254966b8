"""Small inline SVG charts for printed documents: a sparkline of a series and a bar of a
share. Pure functions of their numbers; the markup has no script, font or outside reference
(inline SVG in HTML needs no namespace URL)."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup


def _scaled(values: Sequence[float | None], width: float, height: float, pad: float
            ) -> list[tuple[float, float] | None]:  # fmt: skip
    known = [v for v in values if v is not None]
    low, high = min(known), max(known)
    span = high - low
    step = (width - 2 * pad) / (len(values) - 1) if len(values) > 1 else 0.0
    out: list[tuple[float, float] | None] = []
    for i, v in enumerate(values):
        if v is None:
            out.append(None)
            continue
        # A flat series sits in the middle; otherwise the lowest value at the bottom.
        share = 0.5 if span == 0 else (v - low) / span
        x = pad + i * step if len(values) > 1 else width / 2
        out.append((round(x, 1), round(height - pad - share * (height - 2 * pad), 1)))
    return out


def _runs(points: list[tuple[float, float] | None]) -> list[list[tuple[float, float]]]:
    """The stretches of consecutive known points: a missing value breaks the line."""
    runs: list[list[tuple[float, float]]] = [[]]
    for p in points:
        if p is None:
            runs.append([])
        else:
            runs[-1].append(p)
    return [r for r in runs if r]


def sparkline(
    values: Sequence[float | None], *, width: int = 120, height: int = 28, label: str = ""
) -> Markup:
    """An SVG line through `values`, oldest first, scaled between their lowest and highest;
    the last known value is marked with a dot. Empty markup-safe text without any value."""
    if not any(v is not None for v in values):
        return Markup("")
    points = _scaled(values, width, height, pad=3)
    lines = Markup("").join(
        Markup('<polyline fill="none" stroke="#1f4e79" stroke-width="1.5" points="{}"/>').format(
            " ".join(f"{x},{y}" for x, y in run)
        )
        if len(run) > 1
        else Markup('<circle cx="{}" cy="{}" r="1.5" fill="#1f4e79"/>').format(*run[0])
        for run in _runs(points)
    )
    last = next(p for p in reversed(points) if p is not None)
    return Markup(
        '<svg width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
        'aria-label="{label}">{lines}<circle cx="{x}" cy="{y}" r="2.5" fill="#c55a11"/></svg>'
    ).format(w=width, h=height, label=label, lines=lines, x=last[0], y=last[1])


def bar(share: float | None, *, width: int = 100, height: int = 10) -> Markup:
    """A horizontal bar filled to `share` percent (0-100, clipped); empty without a value."""
    if share is None:
        return Markup("")
    filled = round(max(0.0, min(100.0, share)) / 100 * width, 1)
    return Markup(
        '<svg width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
        'aria-label="{share:.1f} %"><rect width="{w}" height="{h}" fill="#e7ecf2"/>'
        '<rect width="{f}" height="{h}" fill="#1f4e79"/></svg>'
    ).format(w=width, h=height, f=filled, share=share)
