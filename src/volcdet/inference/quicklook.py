"""Quick-look PNG of a scan: the wrapped map beside the probability map, on lon/lat ticks.

Both panels show the grid the map was scored on (local UTM at the model's pixel size) with
longitude / latitude ticks and a graticule, the catalogue's volcanoes marked and named, the
flagged windows outlined (by the box of valid pixels of each window, ``box_*`` columns) and
numbered by rank, and a colour bar each. No data is grey.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pyproj import Transformer

from volcdet.core.constants import FRINGE_MM
from volcdet.core.phase import wrapped_phase_from_displacement
from volcdet.core.plotting import pyplot
from volcdet.data.rasters import Grid

if TYPE_CHECKING:  # matplotlib loads when a figure is drawn
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Samples along each axis used to draw the lon/lat graticule.
GRATICULE_SAMPLES = 64
NO_DATA_GREY = "0.82"


def _degrees(value: float, positive: str, negative: str) -> str:
    """'68.50°W' style label of a longitude or latitude."""
    hemisphere = positive if value >= 0 else negative
    return f"{abs(value):.2f}°{hemisphere}"


def _nice_ticks(low: float, high: float) -> np.ndarray:
    """Up to 5 round values within [low, high]."""
    from matplotlib.ticker import MaxNLocator

    ticks = np.asarray(MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]).tick_values(low, high))
    return ticks[(ticks >= low) & (ticks <= high)]


def lonlat_of_pixels(
    grid: Grid, rows: np.ndarray, cols: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude (degrees) of image positions (pixel centres at integers)."""
    x, y = grid.transform @ (  # type: ignore[operator]  # Affine maps arrays element-wise
        np.asarray(cols, float) + 0.5,
        np.asarray(rows, float) + 0.5,
    )
    to_lonlat = Transformer.from_crs(grid.crs.to_wkt(), "EPSG:4326", always_xy=True)
    lon, lat = to_lonlat.transform(x, y)
    return np.asarray(lon), np.asarray(lat)


def add_lonlat_axes(ax: Axes, grid: Grid) -> None:
    """Longitude ticks along the bottom edge, latitude ticks along the left, and a graticule."""
    rows, cols = grid.shape
    along = np.linspace(-0.5, cols - 0.5, 256)
    lon_bottom, _ = lonlat_of_pixels(grid, np.full_like(along, rows - 0.5), along)
    down = np.linspace(-0.5, rows - 0.5, 256)
    _, lat_left = lonlat_of_pixels(grid, down, np.full_like(down, -0.5))
    lon_ticks = _nice_ticks(lon_bottom.min(), lon_bottom.max())
    lat_ticks = _nice_ticks(lat_left.min(), lat_left.max())
    order = np.argsort(lon_bottom)
    ax.set_xticks(np.interp(lon_ticks, lon_bottom[order], along[order]))
    ax.set_xticklabels([_degrees(v, "E", "W") for v in lon_ticks], fontsize=7)
    order = np.argsort(lat_left)
    ax.set_yticks(np.interp(lat_ticks, lat_left[order], down[order]))
    ax.set_yticklabels([_degrees(v, "N", "S") for v in lat_ticks], fontsize=7)
    ax.set_xlabel("longitude", fontsize=8)
    ax.set_ylabel("latitude", fontsize=8)
    r = np.linspace(-0.5, rows - 0.5, GRATICULE_SAMPLES)
    c = np.linspace(-0.5, cols - 0.5, GRATICULE_SAMPLES)
    cc, rr = np.meshgrid(c, r)
    lon, lat = lonlat_of_pixels(grid, rr.ravel(), cc.ravel())
    for values, ticks in ((lon, lon_ticks), (lat, lat_ticks)):
        if len(ticks):
            ax.contour(cc, rr, values.reshape(cc.shape), levels=np.sort(ticks), colors="0.35",
                       linewidths=0.4, linestyles=":")  # fmt: skip
    ax.set_xlim(-0.5, cols - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)


def volcanoes_on_grid(catalogue: pd.DataFrame | None, grid: Grid) -> pd.DataFrame:
    """Catalogued volcanoes inside the grid: name and image row/col."""
    if catalogue is None or catalogue.empty:
        return pd.DataFrame(columns=["name", "row", "col"])
    to_grid = Transformer.from_crs("EPSG:4326", grid.crs.to_wkt(), always_xy=True)
    x, y = to_grid.transform(catalogue.lon.to_numpy(float), catalogue.lat.to_numpy(float))
    col, row = ~grid.transform @ (np.asarray(x), np.asarray(y))
    table = pd.DataFrame({"name": catalogue.name.astype(str), "row": row - 0.5, "col": col - 0.5})
    rows, cols = grid.shape
    inside = table.row.between(-0.5, rows - 0.5) & table.col.between(-0.5, cols - 0.5)
    return table[inside].reset_index(drop=True)


def quicklook_figure(
    displacement: np.ndarray,
    prob_map: np.ndarray,
    flagged: pd.DataFrame,
    threshold: float,
    title: str,
    grid: Grid | None = None,
    catalogue: pd.DataFrame | None = None,
) -> Figure:
    """The quick-look matplotlib Figure (Agg): wrapped phase and probability, see module doc."""
    from matplotlib.patches import Rectangle

    plt = pyplot()

    fig, (ax_phase, ax_prob) = plt.subplots(1, 2, figsize=(12, 5.6), layout="constrained")
    phase_cmap = plt.get_cmap("twilight_shifted").with_extremes(bad=NO_DATA_GREY)
    prob_cmap = plt.get_cmap("magma").with_extremes(bad=NO_DATA_GREY)
    phase = ax_phase.imshow(
        wrapped_phase_from_displacement(displacement), cmap=phase_cmap, vmin=-np.pi, vmax=np.pi
    )
    ax_phase.set_title("wrapped cumulative LOS displacement", fontsize=9)
    image = ax_prob.imshow(prob_map, cmap=prob_cmap, vmin=0, vmax=1)
    ax_prob.set_title(
        f"probability of deformation (max over windows); {len(flagged)} flagged at {threshold:.2f}",
        fontsize=9,
    )
    volcanoes = volcanoes_on_grid(catalogue, grid) if grid is not None else None
    for ax in (ax_phase, ax_prob):
        for rank, row in enumerate(flagged.itertuples(), start=1):
            ax.add_patch(
                Rectangle(
                    (row.box_col0 - 0.5, row.box_row0 - 0.5),
                    row.box_col1 - row.box_col0,
                    row.box_row1 - row.box_row0,
                    fill=False,
                    ec="cyan",
                    lw=0.8,
                )
            )
            ax.text(row.box_col0, row.box_row0, str(rank), color="cyan", fontsize=6, va="top")
        if volcanoes is not None and len(volcanoes):
            ax.plot(volcanoes.col, volcanoes.row, "^", ms=6, mfc="white", mec="black", mew=0.7)
            for v in volcanoes.itertuples():
                ax.annotate(v.name, (v.col, v.row), xytext=(4, 4), textcoords="offset points",
                            fontsize=7, color="black",
                            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "alpha": 0.7, "lw": 0})  # fmt: skip
        if grid is not None:
            add_lonlat_axes(ax, grid)
    bar = fig.colorbar(phase, ax=ax_phase, shrink=0.75, ticks=[-np.pi, 0, np.pi])
    bar.ax.set_yticklabels(["-π", "0", "π"])
    bar.set_label(f"wrapped phase (rad); one cycle = {FRINGE_MM:.2f} mm of LOS", fontsize=8)
    fig.colorbar(image, ax=ax_prob, shrink=0.75).set_label("probability", fontsize=8)
    fig.suptitle(title, fontsize=10)
    return fig


def quicklook(
    displacement: np.ndarray,
    prob_map: np.ndarray,
    flagged: pd.DataFrame,
    threshold: float,
    out_png: Path,
    title: str,
    grid: Grid | None = None,
    catalogue: pd.DataFrame | None = None,
) -> None:
    """Write the quick-look PNG (``quicklook_figure``) to ``out_png``."""
    plt = pyplot()
    fig = quicklook_figure(displacement, prob_map, flagged, threshold, title, grid, catalogue)
    fig.savefig(out_png, dpi=90)
    plt.close(fig)
