"""The review's inline SVG charts: pure functions of their numbers."""

from __future__ import annotations

from service.web.charts import bar, sparkline


def test_a_sparkline_spans_its_values_lowest_at_the_bottom() -> None:
    # 120 x 28 with 3 of padding: x from 3 to 117 in steps of 114 / 2 = 57; y from 25 (the
    # lowest, 10) to 3 (the highest, 30); 20 is half way: 25 - 0.5 x 22 = 14.
    svg = sparkline([10, 20, 30], label="Orders")
    assert svg == (
        '<svg width="120" height="28" viewBox="0 0 120 28" role="img" aria-label="Orders">'
        '<polyline fill="none" stroke="#1f4e79" stroke-width="1.5" '
        'points="3.0,25.0 60.0,14.0 117.0,3.0"/>'
        '<circle cx="117.0" cy="3.0" r="2.5" fill="#c55a11"/></svg>'
    )


def test_a_missing_value_breaks_the_line_and_a_flat_series_sits_in_the_middle() -> None:
    svg = sparkline([5, 5, None, 5])
    # x steps of 114 / 3 = 38: 3, 41, (79 missing), 117; every y the middle, 14.
    assert 'points="3.0,14.0 41.0,14.0"' in svg
    assert '<circle cx="117.0" cy="14.0" r="1.5"' in svg  # a lone point is a dot
    assert sparkline([None, None]) == ""
    assert sparkline([]) == ""


def test_labels_are_escaped_and_nothing_points_elsewhere() -> None:
    svg = sparkline([1, 2], label='<a href="http://x">')
    escaped = "&lt;a href=&#34;http://x&#34;&gt;"
    assert f'aria-label="{escaped}"' in svg
    assert "http" not in svg.replace(escaped, "") and "xmlns" not in svg


def test_a_bar_is_filled_to_its_share_clipped_to_the_whole() -> None:
    assert 'width="25.0" height="10" fill="#1f4e79"' in bar(25)
    assert 'width="100.0" height="10" fill="#1f4e79"' in bar(130)
    assert 'width="0.0" height="10" fill="#1f4e79"' in bar(-5)
    assert bar(None) == ""
