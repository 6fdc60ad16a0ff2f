"""Charts of the monthly series as one PNG: residents reached per month by topic, by district,
and appointments held vs missed.

matplotlib draws on its Agg canvas through the object API (a Figure of its own, no pyplot), so
no display and no global state are involved and two charts can be drawn side by side.

A group smaller than 3 is not drawn at its size: it shows as an empty hatched bar reaching to
just under 3 with "<3" above it, which says "fewer than 3" without telling 1 from 2.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from babel.dates import format_skeleton
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from bot.reporting.export import check_language
from bot.reporting.labels import SMALL_BAR, item_label, section_label, word
from bot.reporting.monthly import Count, MonthlySeries

WIDTH_PX, HEIGHT_PX, DPI = 1200, 1500, 100
PALETTE = ("#00666f", "#e08a00", "#7a4fa3", "#3b8f3b", "#c0392b", "#6d6d6d", "#1f77b4", "#8c564b")


def chart_png(monthly: MonthlySeries, lang: str = "de") -> bytes:
    """The three charts, one under the other, WIDTH_PX × HEIGHT_PX pixels."""
    check_language(lang)
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    top, middle, bottom = figure.subplots(3, 1)
    ticks = [format_skeleton("yyMMM", month, locale=lang) for month in monthly.months]
    section = "monthly_residents_by_topic"
    _bars(
        top,
        ticks,
        {item_label(section, k, lang): v for k, v in monthly.residents_by_topic.items()},
        section_label(section, lang),
        word("residents", lang),
        lang,
    )
    section = "monthly_residents_by_district"
    _bars(
        middle,
        ticks,
        {item_label(section, k, lang): v for k, v in monthly.residents_by_district.items()},
        section_label(section, lang),
        word("residents", lang),
        lang,
    )
    _bars(
        bottom,
        ticks,
        {
            word("held", lang): monthly.appointments_held,
            word("missed", lang): monthly.appointments_missed,
        },
        section_label("monthly_appointments", lang),
        word("appointments", lang),
        lang,
        colours=("#3b8f3b", "#c0392b"),
    )
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def _bars(
    axes,
    ticks: list[str],
    series: dict[str, Sequence[Count]],
    title: str,
    ylabel: str,
    lang: str,
    colours: Sequence[str] = PALETTE,
) -> None:
    axes.set_title(title, loc="left", fontsize=13, fontweight="bold")
    axes.set_ylabel(ylabel)
    axes.set_xticks(range(len(ticks)), ticks)
    axes.spines[["top", "right"]].set_visible(False)
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    if not series:
        axes.text(0.5, 0.5, "–", transform=axes.transAxes, ha="center", va="center", fontsize=20)
        axes.set_ylim(0, SMALL_BAR + 1)
        return
    group = 0.8
    width = group / len(series)
    highest = 0
    for n, (label, values) in enumerate(series.items()):
        colour = colours[n % len(colours)]
        offset = -group / 2 + width * (n + 0.5)
        xs = [i + offset for i in range(len(values))]
        shown = [0 if v is None else v for v in values]
        axes.bar(xs, shown, width * 0.92, color=colour, label=label)
        small = [(x, SMALL_BAR) for x, v in zip(xs, values, strict=True) if v is None]
        if small:
            axes.bar(
                [x for x, _ in small],
                [h for _, h in small],
                width * 0.92,
                fill=False,
                edgecolor=colour,
                hatch="///",
                linewidth=0.8,
            )
            for x, h in small:
                axes.text(x, h, "<3", ha="center", va="bottom", fontsize=9, color=colour)
        highest = max(highest, *shown, SMALL_BAR if small else 0)
    axes.set_ylim(0, max(highest * 1.15, SMALL_BAR + 1))
    handles, labels = axes.get_legend_handles_labels()
    handles.append(Patch(fill=False, hatch="///", edgecolor="#555555"))
    labels.append(f"<3: {word('masked_bar', lang)}")
    axes.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
