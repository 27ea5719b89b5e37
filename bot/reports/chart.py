"""The report chart: a PNG (matplotlib, headless Agg) readable at chat size.

Top: tickets created vs resolved per day (or week, for long periods). Bottom: first-response
median and p90 per day, in hours. Uses the object API (no pyplot), so it is safe in a thread.
"""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.reports.figures import Report

WIDTH, HEIGHT, DPI = 9.0, 6.0, 100  # 900 × 600 px: sharp in a chat preview, small file
CREATED, RESOLVED, P50_COLOR, P90_COLOR = "#4C72B0", "#55A868", "#C44E52", "#DD8452"


def render_chart(report: Report) -> bytes:
    """The chart as PNG bytes."""
    days = report.days
    labels = [d.label[5:] for d in days]  # MM-DD
    x = list(range(len(days)))
    fig = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI)
    FigureCanvasAgg(fig)
    # Fixed margins: a constrained layout costs about as much as drawing the chart itself.
    fig.subplots_adjust(left=0.08, right=0.98, top=0.92, bottom=0.13, hspace=0.08)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    width = 0.4
    top.bar([i - width / 2 for i in x], [d.created for d in days], width, label="created",
            color=CREATED)  # fmt: skip
    top.bar([i + width / 2 for i in x], [d.resolved for d in days], width, label="resolved",
            color=RESOLVED)  # fmt: skip
    top.set_ylabel("tickets", fontsize=12)
    top.yaxis.set_major_locator(MaxNLocator(integer=True))
    top.legend(loc="upper left", ncol=2, fontsize=11, frameon=False)
    top.grid(axis="y", alpha=0.3)
    title = f"{report.period.describe()} · {report.scope.describe()}"
    top.set_title(title, fontsize=13, loc="left")

    def hours(v: int | None) -> float:
        return float("nan") if v is None else v / 3600

    bottom.plot(x, [hours(d.frt.p50) for d in days], marker="o", label="median",
                color=P50_COLOR, linewidth=2)  # fmt: skip
    bottom.plot(x, [hours(d.frt.p90) for d in days], marker="s", label="p90",
                color=P90_COLOR, linewidth=2, linestyle="--")  # fmt: skip
    bottom.set_ylabel("first response (h)", fontsize=12)
    bottom.set_ylim(bottom=0)
    bottom.legend(loc="upper left", ncol=2, fontsize=11, frameon=False)
    bottom.grid(axis="y", alpha=0.3)
    step = max(1, len(x) // 12)  # at most ~12 date labels
    bottom.set_xticks(x[::step], labels[::step], fontsize=10, rotation=45, ha="right")
    for axis in (top, bottom):
        axis.tick_params(axis="y", labelsize=10)
        axis.spines[["top", "right"]].set_visible(False)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI)
    return out.getvalue()
