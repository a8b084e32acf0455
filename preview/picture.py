"""The network picture of a stack: VPC, AZ columns, tier rows, gateways, what sits in which subnet.

Drawn with matplotlib alone (no system binary such as graphviz's `dot`), so it renders on a fresh
machine. The axes are in inches with y growing downwards, so layout and font sizes (points) agree.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, fontManager, get_font
from matplotlib.ft2font import FT2Font, LoadFlags
from matplotlib.patches import FancyBboxPatch, Patch
from matplotlib.path import Path as MplPath
from matplotlib.textpath import TextPath, TextToPath

from preview.network import NetworkView, Placement, SubnetView

FONT = "DejaVu Sans"  # ships with matplotlib, so the picture looks the same on every machine
DPI = 160
INK = "#232F3E"
MUTED = "#5F6B7A"
VPC_COLOR = "#8C4FFF"
NETWORK_COLOR = "#8C4FFF"
COMPUTE_COLOR = "#ED7100"
DATABASE_COLOR = "#C925D1"
SECURITY_COLOR = "#DD344C"
CORPORATE_COLOR = "#545B64"

# tier -> (edge colour, fill colour, legend label)
TIER_STYLES = {
    "public": ("#5E8E0E", "#F1F7E6", "public subnet"),
    "private": ("#00868A", "#E3F5F5", "private subnet"),
    "data": ("#3B48CC", "#ECEEFB", "data subnet"),
}
_OTHER_TIER_COLORS = ("#7D8998", "#F2F3F5")
TIER_CAPTIONS = {"public": "internet-facing", "private": "Lambda, no public IPs", "data": "databases only"}
KIND_COLORS = {
    "nat": NETWORK_COLOR,
    "bastion": COMPUTE_COLOR,
    "instance": COMPUTE_COLOR,
    "workers": COMPUTE_COLOR,
    "lambda": COMPUTE_COLOR,
    "database": DATABASE_COLOR,
    "proxy": DATABASE_COLOR,
    "lambda-group": SECURITY_COLOR,
}
# Single-subnet things share a lane, side by side; the rest get a lane each, in this order.
_KIND_ORDER = ("nat", "bastion", "instance", "lambda-group", "lambda", "workers", "proxy", "database")

MARGIN = 0.3
TIER_LABEL_WIDTH = 1.45
COLUMN_WIDTH = 2.5
COLUMN_GAP = 0.16
SUBNET_HEADER = 0.64
CORPORATE_LINE = 0.16
LANE_HEIGHT = 0.42
ROW_GAP = 0.16
PANEL_WIDTH = 2.3
VPN_AREA = 3.4


def tier_style(tier: str) -> tuple[str, str, str]:
    return TIER_STYLES.get(tier, (*_OTHER_TIER_COLORS, f"{tier} subnet"))


# TextPath's own scale: glyph outlines are read at this size and scaled down, as TextPath does.
_GLYPH_SCALE = TextToPath.FONT_SCALE


@functools.cache
def _font(bold: bool) -> FT2Font:
    properties = FontProperties(family=FONT, weight="bold" if bold else "normal")
    return get_font(fontManager._find_fonts_by_props(properties))


@functools.cache
def _glyph_ink(font: FT2Font, glyph_index: int) -> tuple[float, float] | None:
    """A glyph's ink, left and right, at _GLYPH_SCALE points; None for a blank glyph."""
    font.load_glyph(glyph_index, flags=LoadFlags.NO_HINTING)
    vertices, codes = font.get_path()
    if not len(vertices):
        return None
    extents = MplPath(vertices, codes).get_extents()
    return extents.x0, extents.x1


@functools.lru_cache(maxsize=8192)
def text_width(text: str, size: float, bold: bool = False) -> float:
    """Width in inches of the ink of `text` set in FONT at `size` points.

    The same number as `TextPath(...).get_extents().width`, which builds every glyph's outline on every
    call: here the layout (glyph positions, kerning) comes from the font as TextPath takes it
    (matplotlib `textpath.TextToPath.get_glyphs_with_font` over `_text_helpers.layout`), and each glyph's
    ink is measured once. A test holds the two equal for every label the pictures draw.
    """
    if not text.strip():
        return 0.0
    font = _font(bold)
    if not hasattr(font, "_layout"):  # matplotlib before 3.11 lays text out differently: measure the path
        properties = FontProperties(family=FONT, weight="bold" if bold else "normal")
        return TextPath((0, 0), text, size=size, prop=properties).get_extents().width / 72
    font.set_size(_GLYPH_SCALE, TextToPath.DPI)
    left = right = None
    for item in font._layout(text, LoadFlags.NO_HINTING):
        ink = _glyph_ink(item.ft_object, item.glyph_index)
        if ink is not None:
            left = item.x + ink[0] if left is None else min(left, item.x + ink[0])
            right = item.x + ink[1] if right is None else max(right, item.x + ink[1])
    if left is None:
        return 0.0
    return (right - left) * size / _GLYPH_SCALE / 72


def fit(text: str, width: float, size: float, bold: bool = False) -> str:
    """`text`, shortened with an ellipsis until it fits `width` inches."""
    if text_width(text, size, bold) <= width:
        return text
    while text and text_width(text + "…", size, bold) > width:
        text = text[:-1]
    return text.rstrip() + "…"


@dataclass(frozen=True)
class _Run:
    """A placement's stretch over neighbouring AZ columns of one grid row."""

    placement: Placement
    first: int
    last: int


@dataclass
class _GridRow:
    tier: str
    subnets: dict[int, SubnetView]  # column -> subnet
    cell_items: dict[int, list[Placement]]
    lanes: list[list[_Run]]
    top: float = 0.0

    @property
    def has_corporate_line(self) -> bool:
        return any(s.corporate_route for s in self.subnets.values())

    @property
    def lane_count(self) -> int:
        return len(self.lanes) + (1 if self.cell_items else 0)

    @property
    def height(self) -> float:
        header = SUBNET_HEADER + (CORPORATE_LINE if self.has_corporate_line else 0)
        return header + self.lane_count * LANE_HEIGHT + 0.1


def _grid_rows(view: NetworkView) -> list[_GridRow]:
    columns = {zone: index for index, zone in enumerate(view.availability_zones)}
    rows: list[_GridRow] = []
    for tier in view.tiers:
        depth = max(len(view.subnet(zone, tier)) for zone in view.availability_zones)
        for level in range(depth):
            subnets = {
                columns[zone]: view.subnet(zone, tier)[level]
                for zone in view.availability_zones
                if len(view.subnet(zone, tier)) > level
            }
            rows.append(_GridRow(tier, subnets, {}, []))
    ordered = sorted(view.placements, key=lambda p: _KIND_ORDER.index(p.kind))
    for row in rows:
        column_of = {subnet.urn: column for column, subnet in row.subnets.items()}
        for placement in ordered:
            columns_here = sorted({column_of[u] for u in placement.subnet_urns if u in column_of})
            if len(placement.subnet_urns) == 1 and columns_here:
                row.cell_items.setdefault(columns_here[0], []).append(placement)
            elif columns_here:
                _pack(row, placement, columns_here)
    return rows


def _pack(row: _GridRow, placement: Placement, columns: Sequence[int]) -> None:
    """Split `columns` into contiguous runs and give each the first lane it does not overlap."""
    runs: list[list[int]] = []
    for column in columns:
        if runs and runs[-1][-1] == column - 1:
            runs[-1].append(column)
        else:
            runs.append([column])
    for run_columns in runs:
        run = _Run(placement, run_columns[0], run_columns[-1])
        lane = next(
            (lane for lane in row.lanes if all(r.last < run.first or r.first > run.last for r in lane)), None
        )
        if lane is None:
            row.lanes.append([run])
        else:
            lane.append(run)


class _Canvas:
    """Drawing helpers over an axes measured in inches, y downwards."""

    def __init__(self, width: float, height: float) -> None:
        self.figure = Figure(figsize=(width, height), dpi=DPI, facecolor="white")
        FigureCanvasAgg(self.figure)
        self.axes = self.figure.add_axes((0, 0, 1, 1))
        self.axes.set_xlim(0, width)
        self.axes.set_ylim(height, 0)
        self.axes.set_axis_off()

    def box(
        self,
        x: float,
        y: float,
        width: float,
        height: float,
        *,
        edge: str,
        face: str = "white",
        line_width: float = 1.2,
        dashed: bool = False,
        radius: float = 0.06,
        layer: int = 1,
    ) -> None:
        self.axes.add_patch(
            FancyBboxPatch(
                (x, y),
                width,
                height,
                boxstyle=f"round,pad=0,rounding_size={radius}",
                edgecolor=edge,
                facecolor=face,
                linewidth=line_width,
                linestyle=(0, (4, 2.5)) if dashed else "solid",
                zorder=layer,
            )
        )

    def text(
        self,
        x: float,
        y: float,
        text: str,
        *,
        size: float = 8,
        color: str = INK,
        bold: bool = False,
        align: str = "left",
        width: float | None = None,
        layer: int = 5,
        family: str = FONT,
    ) -> None:
        shown = fit(text, width, size, bold) if width is not None else text
        self.axes.text(
            x,
            y,
            shown,
            fontsize=size,
            color=color,
            fontweight="bold" if bold else "normal",
            ha=align,
            va="center",
            zorder=layer,
            fontfamily=family,
        )

    def line(self, x0: float, y0: float, x1: float, y1: float, *, color: str = MUTED, layer: int = 0) -> None:
        self.axes.plot([x0, x1], [y0, y1], color=color, linewidth=1.4, zorder=layer, solid_capstyle="round")

    def chip(
        self,
        x: float,
        y: float,
        width: float,
        height: float,
        color: str,
        title: str,
        detail: str = "",
        *,
        outlined: bool = False,
    ) -> None:
        """A filled label, bold title over a detail line when there is room. `outlined`: a dashed boundary
        with coloured text instead, for a security group, which is a boundary rather than a thing."""
        face, ink = ("white", color) if outlined else (color, "white")
        self.box(x, y, width, height, edge=color, face=face, dashed=outlined, radius=0.05, layer=3)
        center, inner = x + width / 2, width - 0.14
        if detail and height >= 0.34 and not outlined:
            self.text(
                center, y + height * 0.33, title, size=7.5, color=ink, bold=True, align="center", width=inner
            )
            self.text(center, y + height * 0.7, detail, size=6.5, color=ink, align="center", width=inner)
            return
        label = f"{title} · {detail}" if detail else title
        self.text(center, y + height / 2, label, size=7.5, color=ink, bold=True, align="center", width=inner)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.figure.savefig(path, dpi=DPI, facecolor="white")


@dataclass(frozen=True)
class _Frame:
    """Where the VPC and its parts sit, in inches."""

    width: float
    height: float
    vpc_x: float
    vpc_y: float
    vpc_width: float
    vpc_height: float
    columns_x: float
    rows_y: float
    rows_height: float
    panel_x: float
    legend_y: float

    def column_x(self, column: int) -> float:
        return self.columns_x + column * (COLUMN_WIDTH + COLUMN_GAP)


def _endpoint_panel_height(view: NetworkView) -> float:
    return 0.5 + len(view.endpoints) * 0.5 if view.endpoints else 0.0


def _frame(view: NetworkView, rows: Sequence[_GridRow]) -> _Frame:
    columns = max(len(view.availability_zones), 1)
    grid_width = columns * COLUMN_WIDTH + (columns - 1) * COLUMN_GAP
    panel_width = PANEL_WIDTH + 0.25 if view.endpoints else 0.0
    # The VPN gateway straddles the right border: keep the endpoint panel clear of it.
    right_padding = 1.0 if view.vpn else 0.25
    vpc_x = MARGIN
    vpc_width = 0.2 + TIER_LABEL_WIDTH + grid_width + panel_width + right_padding
    vpc_y = MARGIN + 0.75 + (0.9 if view.internet_gateway else 0.0)
    rows_y = vpc_y + 1.0
    rows_height = max(sum(r.height + ROW_GAP for r in rows) - ROW_GAP, _endpoint_panel_height(view), 0.6)
    vpc_height = rows_y - vpc_y + rows_height + 0.25
    width = vpc_x + vpc_width + (VPN_AREA if view.vpn else 0.0) + MARGIN
    legend_y = vpc_y + vpc_height + 0.35
    legend_lines = {y for y, _, _, _ in _legend_layout(view, width, legend_y)}
    legend_height = 0.3 * max(len(legend_lines), 1)
    return _Frame(
        width=width,
        height=legend_y + legend_height + MARGIN,
        vpc_x=vpc_x,
        vpc_y=vpc_y,
        vpc_width=vpc_width,
        vpc_height=vpc_height,
        columns_x=vpc_x + 0.2 + TIER_LABEL_WIDTH,
        rows_y=rows_y,
        rows_height=rows_height,
        panel_x=vpc_x + 0.2 + TIER_LABEL_WIDTH + grid_width + 0.25,
        legend_y=legend_y,
    )


def _draw_title(canvas: _Canvas, view: NetworkView, frame: _Frame, command: str) -> None:
    pattern = f" · {view.pattern}" if view.pattern else ""
    canvas.text(MARGIN, MARGIN + 0.12, f"{view.stack}{pattern}", size=13, bold=True)
    canvas.text(
        MARGIN,
        MARGIN + 0.42,
        f"Generated by `{command}` from an offline preview: ids are unknown until deployment.",
        size=7.5,
        color=MUTED,
        width=frame.width - 2 * MARGIN,
    )


def _draw_internet(canvas: _Canvas, view: NetworkView, frame: _Frame) -> None:
    if not view.internet_gateway:
        return
    center = frame.columns_x + (frame.panel_x - 0.25 - frame.columns_x) / 2
    internet_y = frame.vpc_y - 0.9
    canvas.box(center - 0.7, internet_y, 1.4, 0.4, edge=MUTED, face="#F7F8F8", radius=0.18, line_width=1.0)
    canvas.text(center, internet_y + 0.2, "Internet", size=8.5, bold=True, align="center")
    canvas.line(center, internet_y + 0.4, center, frame.vpc_y)
    canvas.chip(center - 0.85, frame.vpc_y - 0.18, 1.7, 0.36, NETWORK_COLOR, "Internet gateway")


def _draw_vpc(canvas: _Canvas, view: NetworkView, frame: _Frame) -> None:
    canvas.box(
        frame.vpc_x,
        frame.vpc_y,
        frame.vpc_width,
        frame.vpc_height,
        edge=VPC_COLOR,
        face="white",
        line_width=2.0,
        radius=0.1,
        layer=0,
    )
    header_y = frame.vpc_y + 0.3
    title = f"VPC {view.vpc_name or '(none)'}"
    canvas.text(frame.vpc_x + 0.2, header_y, title, size=10, bold=True, color=VPC_COLOR)
    facts = [view.vpc_cidr, view.region, "flow logs on" if view.flow_logs else ""]
    canvas.text(frame.vpc_x + 0.2, header_y + 0.25, "   ".join(f for f in facts if f), size=8, color=MUTED)
    for column, zone in enumerate(view.availability_zones):
        x = frame.column_x(column)
        canvas.text(
            x + COLUMN_WIDTH / 2, frame.rows_y - 0.2, zone, size=8.5, bold=True, color=MUTED, align="center"
        )


def _draw_row(canvas: _Canvas, row: _GridRow, frame: _Frame) -> None:
    edge, face, _ = tier_style(row.tier)
    label_x = frame.vpc_x + 0.2
    canvas.text(
        label_x, row.top + 0.2, row.tier, size=9.5, bold=True, color=edge, width=TIER_LABEL_WIDTH - 0.1
    )
    caption = TIER_CAPTIONS.get(row.tier, "")
    canvas.text(label_x, row.top + 0.42, caption, size=7, color=MUTED, width=TIER_LABEL_WIDTH - 0.1)
    inner = COLUMN_WIDTH - 0.2
    for column, subnet in row.subnets.items():
        x = frame.column_x(column)
        canvas.box(x, row.top, COLUMN_WIDTH, row.height, edge=edge, face=face, line_width=1.3)
        canvas.text(x + 0.1, row.top + 0.15, subnet.name, size=7.5, bold=True, color=edge, width=inner)
        canvas.text(x + 0.1, row.top + 0.33, subnet.cidr, size=7.5, width=inner)
        canvas.text(x + 0.1, row.top + 0.5, subnet.internet_route, size=6.5, color=MUTED, width=inner)
        if subnet.corporate_route:
            canvas.text(
                x + 0.1, row.top + 0.66, "corporate → VPN gateway", size=6.5, color=MUTED, width=inner
            )
    lane_y = row.top + SUBNET_HEADER + (CORPORATE_LINE if row.has_corporate_line else 0)
    if row.cell_items:
        for column, items in row.cell_items.items():
            width = (COLUMN_WIDTH - 0.2 - 0.08 * (len(items) - 1)) / len(items)
            for index, item in enumerate(items):
                x = frame.column_x(column) + 0.1 + index * (width + 0.08)
                canvas.chip(
                    x,
                    lane_y,
                    width,
                    LANE_HEIGHT - 0.06,
                    KIND_COLORS.get(item.kind, MUTED),
                    item.label,
                    item.detail,
                )
        lane_y += LANE_HEIGHT
    for lane in row.lanes:
        for run in lane:
            x = frame.column_x(run.first) + 0.1
            width = frame.column_x(run.last) + COLUMN_WIDTH - 0.1 - x
            color = KIND_COLORS.get(run.placement.kind, MUTED)
            placement = run.placement
            canvas.chip(
                x,
                lane_y,
                width,
                LANE_HEIGHT - 0.06,
                color,
                placement.label,
                placement.detail,
                outlined=placement.kind == "lambda-group",
            )
        lane_y += LANE_HEIGHT


def _draw_endpoints(canvas: _Canvas, view: NetworkView, frame: _Frame) -> None:
    if not view.endpoints:
        return
    x, y = frame.panel_x, frame.rows_y
    canvas.box(x, y, PANEL_WIDTH, frame.rows_height, edge=NETWORK_COLOR, face="#F6F2FF", line_width=1.0)
    canvas.text(x + 0.12, y + 0.22, "VPC endpoints", size=8.5, bold=True, color=NETWORK_COLOR)
    canvas.text(
        x + 0.12,
        y + 0.4,
        "AWS services without the internet",
        size=6.5,
        color=MUTED,
        width=PANEL_WIDTH - 0.24,
    )
    for index, endpoint in enumerate(view.endpoints):
        where = f"in {', '.join(endpoint.tiers)} subnets" if endpoint.tiers else "via route tables"
        where = endpoint.reached or where
        canvas.chip(
            x + 0.12,
            y + 0.55 + index * 0.5,
            PANEL_WIDTH - 0.24,
            0.42,
            NETWORK_COLOR,
            endpoint.service,
            f"{endpoint.endpoint_type} · {where}",
        )


def _draw_vpn(canvas: _Canvas, view: NetworkView, frame: _Frame) -> None:
    if view.vpn is None:
        return
    vpn = view.vpn
    border_x = frame.vpc_x + frame.vpc_width
    y = frame.rows_y + min(frame.rows_height / 2, 1.2)
    canvas.chip(border_x - 0.8, y - 0.21, 1.6, 0.42, NETWORK_COLOR, "VPN gateway", vpn.gateway_name)
    box_x = border_x + 1.15
    box_width = VPN_AREA - 1.15 - 0.05
    canvas.line(border_x + 0.8, y, box_x, y)
    canvas.text((border_x + 0.8 + box_x) / 2, y - 0.12, "IPsec", size=6.5, color=MUTED, align="center")
    canvas.box(box_x, y - 0.4, box_width, 0.8, edge=CORPORATE_COLOR, face="#F2F3F5")
    canvas.text(box_x + 0.12, y - 0.22, "Customer gateway", size=8, bold=True, width=box_width - 0.24)
    canvas.text(box_x + 0.12, y, vpn.customer_gateway, size=7, width=box_width - 0.24)
    canvas.text(box_x + 0.12, y + 0.2, vpn.tunnel, size=6.5, color=MUTED, width=box_width - 0.24)
    corporate_y = y + 0.8
    canvas.line(box_x + box_width / 2, y + 0.4, box_x + box_width / 2, corporate_y)
    cidrs = ", ".join(vpn.corporate_cidrs) or "routes learned over BGP"
    canvas.box(box_x, corporate_y, box_width, 0.6, edge=CORPORATE_COLOR, face=CORPORATE_COLOR)
    canvas.text(
        box_x + 0.12,
        corporate_y + 0.2,
        "Corporate network",
        size=8,
        bold=True,
        color="white",
        width=box_width - 0.24,
    )
    canvas.text(box_x + 0.12, corporate_y + 0.42, cidrs, size=7, color="white", width=box_width - 0.24)


def _legend_entries(view: NetworkView) -> list[tuple[Patch, str]]:
    entries = []
    for tier in view.tiers:
        edge, face, label = tier_style(tier)
        entries.append((Patch(facecolor=face, edgecolor=edge), label))
    kinds = {p.kind for p in view.placements}
    networking = bool(view.internet_gateway or view.endpoints or view.vpn or "nat" in kinds)
    candidates = [
        (networking, Patch(facecolor=NETWORK_COLOR, edgecolor=NETWORK_COLOR), "gateway / endpoint"),
        (
            bool(kinds & {"bastion", "instance", "workers", "lambda"}),
            Patch(facecolor=COMPUTE_COLOR),
            "compute",
        ),
        (bool(kinds & {"database", "proxy"}), Patch(facecolor=DATABASE_COLOR), "database"),
        (
            "lambda-group" in kinds,
            Patch(facecolor="white", edgecolor=SECURITY_COLOR, linestyle="--"),
            "security group",
        ),
        (view.vpn is not None, Patch(facecolor=CORPORATE_COLOR), "on-premises"),
    ]
    return entries + [(patch, label) for shown, patch, label in candidates if shown]


_LEGEND_INDENT = MARGIN + 0.65


def _legend_layout(view: NetworkView, width: float, top: float) -> list[tuple[float, float, Patch, str]]:
    """(y, x, swatch, label) of each legend entry, wrapping onto a new line at the picture's edge."""
    x, y = _LEGEND_INDENT, top
    placed = []
    for patch, label in _legend_entries(view):
        needed = 0.3 + text_width(label, 7.5) + 0.3
        if x + needed > width - MARGIN and x > _LEGEND_INDENT:
            x, y = _LEGEND_INDENT, y + 0.3
        placed.append((y, x, patch, label))
        x += needed
    return placed


def _draw_legend(canvas: _Canvas, view: NetworkView, frame: _Frame) -> None:
    canvas.text(MARGIN, frame.legend_y + 0.1, "Legend", size=8, bold=True, color=MUTED)
    for y, x, patch, label in _legend_layout(view, frame.width, frame.legend_y):
        canvas.box(
            x,
            y + 0.02,
            0.22,
            0.16,
            edge=patch.get_edgecolor(),
            face=patch.get_facecolor(),
            line_width=1.0,
            dashed=patch.get_linestyle() == "--",
            radius=0.02,
        )
        canvas.text(x + 0.3, y + 0.1, label, size=7.5)


def draw_network(view: NetworkView, path: Path, command: str) -> Path:
    """Draw `view` to `path` (PNG or SVG by its suffix) and return the path."""
    rows = _grid_rows(view)
    frame = _frame(view, rows)
    top = frame.rows_y
    for row in rows:
        row.top = top
        top += row.height + ROW_GAP
    canvas = _Canvas(frame.width, frame.height)
    _draw_title(canvas, view, frame, command)
    _draw_vpc(canvas, view, frame)
    _draw_internet(canvas, view, frame)
    for row in rows:
        _draw_row(canvas, row, frame)
    if not rows:
        canvas.text(frame.columns_x, frame.rows_y + 0.3, "no subnets in this stack", size=9, color=MUTED)
    _draw_endpoints(canvas, view, frame)
    _draw_vpn(canvas, view, frame)
    _draw_legend(canvas, view, frame)
    canvas.save(path)
    return path
