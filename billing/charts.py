"""A programme's use over time as an inline SVG, drawn on the server (no JavaScript)."""

from collections.abc import Sequence
from decimal import Decimal
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _

from billing.selectors import UsagePoint

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 640, 220, 70, 28, 12


def usage_chart_svg(*, points: Sequence[UsagePoint], budget: Decimal) -> str:
    """Committed + spent (the used part of the budget) and spent alone, as step lines under the budget."""
    if not points:
        return '<svg xmlns="http://www.w3.org/2000/svg" width="640" height="40" role="img"><text x="0" y="24">' + escape(_("暂无经费变动")) + '</text></svg>'
    top = max([budget, *(point.committed + point.spent for point in points)]) or Decimal(1)
    plot_width = WIDTH - PAD_LEFT - 10
    plot_height = HEIGHT - PAD_TOP - PAD_BOTTOM
    first, last = points[0].day, points[-1].day
    span = max((last - first).days, 1)

    def x(day) -> float:
        return PAD_LEFT + plot_width * (day - first).days / span

    def y(amount: Decimal) -> float:
        return PAD_TOP + plot_height * float(1 - amount / top)

    def steps(values: list[Decimal]) -> str:
        coordinates = [(x(points[0].day), y(Decimal(0)))]
        for point, value in zip(points, values):
            coordinates += [(x(point.day), coordinates[-1][1]), (x(point.day), y(value))]
        coordinates.append((PAD_LEFT + plot_width, coordinates[-1][1]))
        return " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coordinates)

    used = [point.committed + point.spent for point in points]
    spent = [point.spent for point in points]
    budget_y = y(budget)
    # labels outside the f-strings: xgettext (makemessages) does not look inside them
    title, budget_label, used_label, used_total_label, spent_label = (
        escape(_("经费使用趋势")), escape(_("预算")), escape(_("已承诺+已支出")), escape(_("已用（承诺+支出）")),
        escape(_("已支出")),
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" aria-label="{title}">',
        f'<line x1="{PAD_LEFT}" y1="{HEIGHT - PAD_BOTTOM}" x2="{WIDTH - 10}" y2="{HEIGHT - PAD_BOTTOM}" stroke="#999"/>',
        f'<line x1="{PAD_LEFT}" y1="{budget_y:.1f}" x2="{WIDTH - 10}" y2="{budget_y:.1f}" stroke="#b42318" stroke-dasharray="4 3"/>',
        f'<text x="4" y="{budget_y + 4:.1f}" font-size="11">{budget_label} ¥{budget:,.0f}</text>',
        f'<polyline fill="none" stroke="#b7791f" stroke-width="2" points="{steps(used)}"><title>{used_label}</title></polyline>',
        f'<polyline fill="none" stroke="#2f855a" stroke-width="2" points="{steps(spent)}"><title>{spent_label}</title></polyline>',
        f'<text x="{PAD_LEFT}" y="{HEIGHT - 8}" font-size="11">{escape(first.isoformat())}</text>',
        f'<text x="{WIDTH - 10}" y="{HEIGHT - 8}" font-size="11" text-anchor="end">{escape(last.isoformat())}</text>',
        f'<text x="{WIDTH - 10}" y="{PAD_TOP + 10}" font-size="11" text-anchor="end" fill="#b7791f">{used_total_label} ¥{used[-1]:,.2f}</text>',
        f'<text x="{WIDTH - 10}" y="{PAD_TOP + 24}" font-size="11" text-anchor="end" fill="#2f855a">{spent_label} ¥{spent[-1]:,.2f}</text>',
        "</svg>",
    ]
    return "".join(parts)
