"""Semivariograms of interferograms and their model fits (paper section 2.2: ~10,000 variograms).

The empirical semivariogram gamma(h) = 1/(2 N(h)) sum (z_i - z_j)^2 (Matheron 1962; Cressie
1993, eq. 2.4.2) uses every pair of valid pixels, computed with FFT correlations of the masked
image (Marcotte 1996, Computers & Geosciences 22:1175) after removing a least-squares plane,
then averaged in radial lag bins. Exponential and spherical models with a nugget are fitted by
weighted least squares with Cressie's (1985) weights N(h) / gamma_model(h)^2; the model with the
smaller weighted residual sum of squares is kept.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from volcdet.errors import RegionError
from volcdet.random_fields import covariance
from volcdet.rasters import read_grid

log = logging.getLogger(__name__)

MODELS = ("exponential", "spherical")


@dataclass(frozen=True)
class VariogramFit:
    """A fitted model: partial sill and nugget in mm^2, range parameter in m."""

    model: str
    sill_mm2: float
    range_m: float
    nugget_mm2: float
    misfit: float

    def semivariance(self, lag_m: np.ndarray) -> np.ndarray:
        """gamma(h) = nugget + sill - C(h) for h > 0."""
        return (
            self.nugget_mm2
            + self.sill_mm2
            - covariance(self.model, lag_m, self.sill_mm2, self.range_m)
        )


def remove_plane(image: np.ndarray) -> np.ndarray:
    """Subtract the least-squares plane a + b col + c row fitted on the finite pixels."""
    rows, cols = np.nonzero(np.isfinite(image))
    design = np.column_stack([np.ones(rows.size), cols, rows])
    coeffs, *_ = np.linalg.lstsq(design, image[rows, cols].astype(np.float64), rcond=None)
    rr, cc = np.mgrid[0 : image.shape[0], 0 : image.shape[1]]
    return image - (coeffs[0] + coeffs[1] * cc + coeffs[2] * rr)


def empirical_semivariogram(
    image_mm: np.ndarray, pixel_size_m: float, max_lag_m: float, n_bins: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean lag m, semivariance mm^2, pair count) per radial bin, from all valid pixel pairs."""
    z = remove_plane(np.asarray(image_mm, np.float64))
    valid = np.isfinite(z)
    z = np.where(valid, z, 0.0)
    m = valid.astype(np.float64)
    ny, nx = z.shape
    shape = (2 * ny, 2 * nx)
    fz, fz2, fm = (np.fft.rfft2(a, s=shape) for a in (z, z * z, m))
    pairs = np.fft.irfft2(fm * np.conj(fm), s=shape)
    # sum over pairs of (z_i - z_j)^2 = sum m_j z_i^2 + m_i z_j^2 - 2 z_i z_j
    squares = np.fft.irfft2(fz2 * np.conj(fm) + fm * np.conj(fz2) - 2.0 * fz * np.conj(fz), s=shape)
    dy = np.fft.fftfreq(shape[0], 1.0 / shape[0])[:, None]
    dx = np.fft.fftfreq(shape[1], 1.0 / shape[1])[None, :]
    lag = np.hypot(dy, dx) * pixel_size_m
    use = (pairs > 0.5) & (lag > 0) & (lag <= max_lag_m)
    edges = np.linspace(0.0, max_lag_m, n_bins + 1)
    which = np.digitize(lag[use], edges, right=True) - 1  # bin k holds (edge_k, edge_k+1]
    count = np.bincount(which, weights=np.round(pairs[use]), minlength=n_bins)[:n_bins]
    sum_sq = np.bincount(which, weights=squares[use], minlength=n_bins)[:n_bins]
    sum_lag = np.bincount(which, weights=lag[use] * np.round(pairs[use]), minlength=n_bins)[:n_bins]
    keep = count > 0
    return sum_lag[keep] / count[keep], sum_sq[keep] / (2.0 * count[keep]), count[keep]


def fit_variogram(lags_m: np.ndarray, gamma_mm2: np.ndarray, counts: np.ndarray) -> VariogramFit:
    """Best of exponential and spherical (+ nugget) by Cressie-weighted residual sum of squares."""
    best = None
    scale = float(np.max(gamma_mm2))
    for model in MODELS:

        def residuals(p: np.ndarray, model: str = model) -> np.ndarray:
            nugget, sill, range_m = p
            predicted = nugget + sill - covariance(model, lags_m, sill, range_m)
            return np.sqrt(counts) * (gamma_mm2 - predicted) / np.maximum(predicted, 1e-6 * scale)

        start = np.array([0.05 * scale, 0.95 * scale, max(lags_m.max() / 4.0, lags_m.min())])
        upper = np.array([scale * 2, scale * 4, lags_m.max() * 4.0])
        result = least_squares(
            residuals, start, bounds=(np.array([0.0, 1e-9, lags_m.min() / 4]), upper)
        )
        misfit = float(np.sum(result.fun**2) / counts.sum())
        fit = VariogramFit(
            model, float(result.x[1]), float(result.x[2]), float(result.x[0]), misfit
        )
        if best is None or fit.misfit < best.misfit:
            best = fit
    assert best is not None
    return best


def interferogram_variogram(
    path: Path, max_lag_m: float, n_bins: int
) -> tuple[VariogramFit | None, str, float]:
    """Fit one interferogram GeoTIFF; (None, 'skipped: ...') for all-NaN or constant images."""
    import rasterio

    grid = read_grid(path)
    with rasterio.open(path) as src:
        image = src.read(1, masked=True).astype(np.float64).filled(np.nan)
    valid_fraction = float(np.isfinite(image).mean())
    if valid_fraction == 0:
        log.warning("%s: all NaN, skipped", path)
        return None, "skipped: all-NaN", valid_fraction
    if np.nanstd(image) == 0:
        log.warning("%s: constant image, skipped", path)
        return None, "skipped: constant", valid_fraction
    lags, gamma, counts = empirical_semivariogram(image, grid.pixel_size_m, max_lag_m, n_bins)
    return fit_variogram(lags, gamma, counts), "ok", valid_fraction


def variogram_table(
    interferograms: pd.DataFrame, region_dir: Path, max_lag_m: float, n_bins: int
) -> pd.DataFrame:
    """One row per interferogram: track, pass, dates, model, sill, range, nugget, misfit, status."""
    rows = []
    for record in interferograms.to_dict("records"):
        path = Path(region_dir) / str(record["path"])
        if not path.is_file():
            raise RegionError(f"{path}: file not found (listed in interferograms.csv)")
        fit, status, valid = interferogram_variogram(path, max_lag_m, n_bins)
        row = {k: record[k] for k in ("path", "track_id", "pass", "date1", "date2")}
        fitted = (
            asdict(fit)
            if fit
            else {
                "model": "",
                "sill_mm2": np.nan,
                "range_m": np.nan,
                "nugget_mm2": np.nan,
                "misfit": np.nan,
            }
        )
        rows.append({**row, **fitted, "valid_fraction": valid, "status": status})
    return pd.DataFrame(rows)


def pass_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Distribution of the fitted parameters per pass (count, mean, std, quartiles, model shares)."""
    ok = table[table.status == "ok"]
    rows = []
    for pass_direction, group in ok.groupby("pass"):
        row: dict[str, object] = {"pass": pass_direction, "count": len(group)}
        for column in ("sill_mm2", "range_m", "nugget_mm2"):
            values = group[column]
            row |= {
                f"{column}_mean": values.mean(),
                f"{column}_std": values.std(ddof=0),
                f"{column}_q25": values.quantile(0.25),
                f"{column}_median": values.median(),
                f"{column}_q75": values.quantile(0.75),
            }
        for model in MODELS:
            row[f"share_{model}"] = float((group.model == model).mean())
        rows.append(row)
    return pd.DataFrame(rows)


def plot_variogram_fits(
    table: pd.DataFrame,
    region_dir: Path,
    out_png: Path,
    max_lag_m: float,
    n_bins: int,
    n_plots: int = 6,
) -> None:
    """PNG of a few empirical semivariograms (dots) with their fitted models (lines)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import rasterio

    ok = table[table.status == "ok"]
    chosen = pd.concat([group.head(n_plots // 2) for _, group in ok.groupby("pass")]).head(n_plots)
    fig, axes = plt.subplots(
        1,
        max(len(chosen), 1),
        figsize=(3.0 * max(len(chosen), 1), 3.0),
        squeeze=False,
        layout="constrained",
    )
    for ax, record in zip(axes[0], chosen.to_dict("records"), strict=False):
        path = Path(region_dir) / record["path"]
        with rasterio.open(path) as src:
            image = src.read(1, masked=True).astype(np.float64).filled(np.nan)
        lags, gamma, _ = empirical_semivariogram(
            image, read_grid(path).pixel_size_m, max_lag_m, n_bins
        )
        fit = VariogramFit(
            record["model"],
            record["sill_mm2"],
            record["range_m"],
            record["nugget_mm2"],
            record["misfit"],
        )
        ax.plot(lags / 1000, gamma, ".", ms=3, label="empirical")
        h = np.linspace(lags.min(), lags.max(), 200)
        ax.plot(
            h / 1000,
            fit.semivariance(h),
            "-",
            label=f"{fit.model}\nrange {fit.range_m / 1000:.1f} km",
        )
        ax.set(
            title=f"{record['track_id']} {record['date1']}",
            xlabel="lag (km)",
            ylabel="semivariance (mm²)",
        )
        ax.title.set_fontsize(8)
        ax.legend(fontsize=6)
    fig.savefig(out_png, dpi=100)
    plt.close(fig)
