"""Charts of the report as one PNG: residents reached per month by topic and by district,
appointments held vs missed per month, and the residents each poster's or flyer's link brought
in the report's period.

matplotlib draws on its Agg canvas through the object API (a Figure of its own, no pyplot), so
no display and no global state are involved and two charts can be drawn side by side (the bot
draws in a worker process, bot/reporting/service.py).

A group smaller than 3 is not drawn at its size: it shows as an empty hatched bar reaching to
just under 3 with "<3" above it, which says "fewer than 3" without telling 1 from 2. A cell
hidden beside it (bot/reporting/masking.py) gets no bar, only an "x" on the axis.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import date

from babel.dates import format_date, format_skeleton
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from bot.reporting.labels import SMALL_BAR, item_label, section_label, word
from bot.reporting.masking import FEWER, HIDDEN, Shown
from bot.reporting.monthly import Count, MonthlySeries
from bot.reporting.text import check_language

WIDTH_PX, HEIGHT_PX, DPI = 1200, 2000, 100
PALETTE = ("#00666f", "#e08a00", "#7a4fa3", "#3b8f3b", "#c0392b", "#6d6d6d", "#1f77b4", "#8c564b")
MAX_LINKS = 15  # the links with most residents; a chart with more bars is not read anyway


def chart_png(
    monthly: MonthlySeries,
    links: Mapping[str, Shown] | None = None,
    lang: str = "de",
    period: tuple[date, date] | None = None,
) -> bytes:
    """The four charts, one under the other, WIDTH_PX × HEIGHT_PX pixels. `links`: residents
    per deep link in the report's `period`, masked (Report.rows() of residents_by_link)."""
    check_language(lang)
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    top, middle, bottom, sources = figure.subplots(
        4, 1, gridspec_kw={"height_ratios": (1, 1, 1, 1.1)}
    )
    if monthly.months:
        first, last = (
            format_skeleton("yMMM", month, locale=lang)
            for month in (monthly.months[0], monthly.months[-1])
        )
        figure.suptitle(f"Th.INKA · {first} – {last}", fontsize=15, fontweight="bold")
    # "Jan. 26": twelve months side by side stay readable beside the legend.
    ticks = [format_date(month, "MMM yy", locale=lang) for month in monthly.months]
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
    _links(sources, links or {}, lang, period)
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
    axes.set_xticks(range(len(ticks)), ticks, fontsize=9)
    axes.spines[["top", "right"]].set_visible(False)
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    if not series:
        _nothing(axes)
        return
    group = 0.8
    width = group / len(series)
    highest = 0
    masked = False
    for n, (label, values) in enumerate(series.items()):
        colour = colours[n % len(colours)]
        offset = -group / 2 + width * (n + 0.5)
        xs = [i + offset for i in range(len(values))]
        counts = [v if isinstance(v, int) else 0 for v in values]
        axes.bar(xs, counts, width * 0.92, color=colour, label=label)
        masked |= _masked_marks(axes, xs, values, width * 0.92, colour, vertical=True)
        highest = max(highest, *counts)
    axes.set_ylim(0, max(highest * 1.15, SMALL_BAR + 1))
    handles, labels = axes.get_legend_handles_labels()
    if masked:
        handles.append(Patch(fill=False, hatch="///", edgecolor="#555555"))
        labels.append(f"{FEWER}: {word('masked_bar', lang)}, {HIDDEN}: {word('hidden_bar', lang)}")
    axes.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)


def _links(axes, links: Mapping[str, Shown], lang: str, period: tuple[date, date] | None) -> None:
    """Residents per link, most first; '–' (no link) last, in grey."""
    section = "residents_by_link"
    title = section_label(section, lang)
    if period is not None:
        pattern = "dd.MM.yyyy" if lang == "de" else "yyyy-MM-dd"
        title += " · " + " – ".join(format_date(day, pattern, locale=lang) for day in period)
    axes.set_title(title, loc="left", fontsize=13, fontweight="bold")
    axes.spines[["top", "right"]].set_visible(False)
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.grid(axis="x", alpha=0.3)
    axes.set_axisbelow(True)
    axes.set_xlabel(word("residents", lang))
    without = "–"
    ranked = sorted(
        (key for key in links if key != without),
        key=lambda key: (-_size(links[key]), key),
    )[:MAX_LINKS]
    keys = [*ranked, without] if without in links else ranked
    if not any(_size(links[key]) for key in keys):
        _nothing(axes)
        return
    keys.reverse()  # barh draws from the bottom: the largest at the top
    ys = list(range(len(keys)))
    values = [links[key] for key in keys]
    colours = ["#9e9e9e" if key == without else PALETTE[0] for key in keys]
    counts = [v if isinstance(v, int) else 0 for v in values]
    axes.barh(ys, counts, 0.7, color=colours)
    for y, key in zip(ys, keys, strict=True):
        _masked_marks(axes, [y], [links[key]], 0.7, colours[y], vertical=False)
    axes.set_yticks(ys, [item_label(section, key, lang) for key in keys])
    axes.set_xlim(0, max(max(counts) * 1.15, SMALL_BAR + 1))


def _masked_marks(axes, positions, values, width: float, colour: str, vertical: bool) -> bool:
    """Hatched "<3" bars and "x" marks; whether there were any."""
    small = [p for p, v in zip(positions, values, strict=True) if v == FEWER]
    hidden = [p for p, v in zip(positions, values, strict=True) if v == HIDDEN]
    draw = axes.bar if vertical else axes.barh
    if small:
        draw(
            small,
            [SMALL_BAR] * len(small),
            width,
            fill=False,
            edgecolor=colour,
            hatch="///",
            linewidth=0.8,
        )
    for p in small:
        xy = (p, SMALL_BAR) if vertical else (SMALL_BAR, p)
        axes.annotate(
            FEWER,
            xy,
            xytext=(0, 2) if vertical else (3, 0),
            textcoords="offset points",
            ha="center" if vertical else "left",
            va="bottom" if vertical else "center",
            fontsize=9,
            color=colour,
        )
    for p in hidden:
        axes.annotate(
            HIDDEN,
            (p, 0) if vertical else (0, p),
            xytext=(0, 2) if vertical else (3, 0),
            textcoords="offset points",
            ha="center" if vertical else "left",
            va="bottom" if vertical else "center",
            fontsize=10,
            fontweight="bold",
            color=colour,
        )
    return bool(small or hidden)


def _size(value: Shown) -> int:
    """For ordering: a masked cell between 0 and 3."""
    return value if isinstance(value, int) else 2 if value == FEWER else 3


def _nothing(axes) -> None:
    axes.text(0.5, 0.5, "–", transform=axes.transAxes, ha="center", va="center", fontsize=20)
    axes.set_yticks([])
    axes.set_ylim(0, SMALL_BAR + 1)
