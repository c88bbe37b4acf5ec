"""Server-rendered SVG chart of the cumulative public count: no JavaScript, no external resources."""

from datetime import datetime

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP, PAD_RIGHT = 640, 220, 44, 28, 12, 12


def cumulative_chart_svg(points: list[tuple[datetime, int]], *, title: str) -> SafeString:
    """A step chart of (time, cumulative count) points; an empty chart says so."""
    label = escape(title)
    if not points:
        return mark_safe(  # noqa: S308 - only escaped text and numbers
            f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="chart-title">'
            f'<title id="chart-title">{label}: no signatures yet</title>'
            f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" class="chart-empty">'
            "No signatures yet</text></svg>"
        )
    start, end = points[0][0].timestamp(), points[-1][0].timestamp()
    span = max(end - start, 1.0)
    top = max(max(count for _, count in points), 1)
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM

    def x(moment: datetime) -> float:
        return PAD_LEFT + (moment.timestamp() - start) / span * plot_w

    def y(count: int) -> float:
        return PAD_TOP + plot_h - count / top * plot_h

    path, previous = [], None
    for moment, count in points:
        if previous is None:
            path.append(f"M{x(moment):.1f},{y(0):.1f} L{x(moment):.1f},{y(count):.1f}")
        else:
            path.append(f"L{x(moment):.1f},{y(previous):.1f} L{x(moment):.1f},{y(count):.1f}")
        previous = count
    line = " ".join(path)
    area = f"{line} L{x(points[-1][0]):.1f},{y(0):.1f} Z"
    gridlines = []
    for fraction in (0, 0.5, 1):
        value = round(top * fraction)
        gridlines.append(
            f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            'class="chart-grid"/>'
            f'<text x="{PAD_LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" class="chart-label">{value}</text>'
        )
    first, last = points[0][0], points[-1][0]
    summary = (
        f"{label}: from {points[0][1]} on {first:%d %b %Y %H:%M} UTC to {points[-1][1]} on {last:%d %b %Y %H:%M} UTC"
    )
    return mark_safe(  # noqa: S308 - only escaped text and numbers
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="chart-title chart-desc">'
        f'<title id="chart-title">{label}</title><desc id="chart-desc">{summary}</desc>'
        f"{''.join(gridlines)}"
        f'<path d="{area}" class="chart-area"/><path d="{line}" class="chart-line"/>'
        f'<text x="{PAD_LEFT}" y="{HEIGHT - 8}" class="chart-label">{first:%d %b %H:%M}</text>'
        f'<text x="{WIDTH - PAD_RIGHT}" y="{HEIGHT - 8}" text-anchor="end" class="chart-label">'
        f"{last:%d %b %H:%M} UTC</text>"
        "</svg>"
    )
