"""Semivariograms of interferograms and their model fits (paper section 2.2: ~10,000 variograms).

Estimator. The empirical (Matheron 1962) semivariogram, Cressie (1993, eq. 2.4.2),

    gamma(h) = 1 / (2 N(h)) * sum_{(i, j): |x_i - x_j| in bin(h)} (z_i - z_j)^2,

is computed from **every** pair of valid pixels after removing a least-squares plane (orbital
ramp / long-wavelength residual, Hanssen 2001 ch. 4). All pair sums come from zero-padded FFT
correlations of indicator-weighted images (Marcotte 1996, Computers & Geosciences 22:1175): with
m the valid-pixel indicator and z zeroed where m = 0, for every lag vector d

    N(d)   = sum_i m_i m_{i+d}                                   = corr(m, m)(d)
    S(d)   = sum_i m_i m_{i+d} (z_i - z_{i+d})^2
           = corr(z^2, m)(d) + corr(m, z^2)(d) - 2 corr(z, z)(d),

then N and S are summed over the lag vectors of each radial bin. The cost is a few FFTs of the
image padded by the largest lag, O(P log P), instead of O(P^2) pairs.

Models (Chiles & Delfiner 2012, ch. 2; physics notes 1.3), nugget n, partial sill s, range r:
exponential gamma(h) = n + s (1 - exp(-h/r)) (practical range 3r), spherical
gamma(h) = n + s (1.5 h/r - 0.5 (h/r)^3) for h <= r and n + s beyond. Both are fitted in mm^2
(in m^2 the problem is badly conditioned) by weighted least squares with Cressie's (1985,
Math. Geol. 17:563) weights N(h) / gamma_model(h)^2, i.e. minimising
WRSS = sum_k N_k (gamma_k / gamma_model(h_k) - 1)^2. Both models have three parameters, so
keeping the smaller WRSS is the same choice as keeping the smaller AIC.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import scipy.fft
from scipy.optimize import least_squares

from volcdet.core.errors import RegionError
from volcdet.core.plotting import pyplot
from volcdet.simulation.random_fields import covariance

log = logging.getLogger(__name__)

VariogramModel = Literal["exponential", "spherical"]
MODELS: tuple[VariogramModel, ...] = ("exponential", "spherical")

STATUS_OK = "ok"
SKIPPED_ALL_NAN = "skipped: all-NaN"
SKIPPED_CONSTANT = "skipped: constant"
SKIPPED_TOO_FEW_PIXELS = "skipped: too few valid pixels"
#: An image needs this many valid pixels for a plane and a few lag bins.
MIN_VALID_PIXELS = 16
#: Residual std (after the plane) below this fraction of the raw std counts as constant/planar.
CONSTANT_RTOL = 1e-6

TABLE_COLUMNS = (
    "track_id",
    "pass",
    "date1",
    "date2",
    "path",
    "model",
    "sill_mm2",
    "range_m",
    "nugget_mm2",
    "misfit",
    "n_pairs",
    "valid_fraction",
    "status",
)


_NO_FIT = {
    "model": "",
    "sill_mm2": np.nan,
    "range_m": np.nan,
    "nugget_mm2": np.nan,
    "misfit": np.nan,
    "n_pairs": 0,
}


class InterferogramNotFoundError(RegionError, FileNotFoundError):
    """An interferogram listed in interferograms.csv is missing (a FileNotFoundError too)."""


@dataclass(frozen=True)
class VariogramFit:
    """A fitted model: partial sill and nugget in mm^2, range parameter r in m.

    ``misfit`` is the Cressie-weighted residual sum of squares divided by the number of pairs,
    i.e. the pair-weighted mean squared *relative* error of the model (dimensionless);
    ``n_pairs`` counts the distinct pixel pairs in the fitted lag bins.
    """

    model: VariogramModel
    sill_mm2: float
    range_m: float
    nugget_mm2: float
    misfit: float
    n_pairs: int

    def semivariance(self, lag_m: np.ndarray) -> np.ndarray:
        """gamma(h) = nugget + sill - C(h) for h > 0 (mm^2)."""
        return semivariance(self.model, lag_m, self.nugget_mm2, self.sill_mm2, self.range_m)


def semivariance(
    model: VariogramModel, lag_m: np.ndarray, nugget_mm2: float, sill_mm2: float, range_m: float
) -> np.ndarray:
    """Model semivariogram n + s - C(h) for h > 0 (gamma(0) = 0 is not represented)."""
    return nugget_mm2 + sill_mm2 - covariance(model, lag_m, sill_mm2, range_m)


def remove_plane(image: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Residual of the least-squares plane a + b col + c row fitted on the valid pixels.

    ``mask`` is True on valid pixels (default: the finite pixels); it is combined with
    ``isfinite(image)``. Returns float64 of the image's shape, NaN outside the mask.
    """
    z = np.asarray(image, dtype=np.float64)
    valid = np.isfinite(z) if mask is None else np.asarray(mask, dtype=bool) & np.isfinite(z)
    rows, cols = np.nonzero(valid)
    if rows.size < 3:
        raise ValueError(f"a plane needs at least 3 valid pixels, got {rows.size}")
    r0, c0 = rows.mean(), cols.mean()  # centred coordinates keep the system well conditioned
    design = np.column_stack([np.ones(rows.size), cols - c0, rows - r0])
    coeffs, *_ = np.linalg.lstsq(design, z[rows, cols], rcond=None)
    rr, cc = np.ogrid[0 : z.shape[0], 0 : z.shape[1]]
    plane = coeffs[0] + coeffs[1] * (cc - c0) + coeffs[2] * (rr - r0)
    return np.where(valid, z - plane, np.nan)


def _lag_indices(n: int, max_lag_px: int) -> tuple[int, np.ndarray, np.ndarray]:
    """FFT length and (index, signed lag) of the lags |d| <= max_lag_px along one axis.

    A length >= n + L (L = min(max_lag_px, n - 1)) keeps circular correlations free of
    wrap-around for |d| <= L: the aliased lag d - P would be at least n apart.
    """
    lag = min(max_lag_px, n - 1)
    size = scipy.fft.next_fast_len(n + lag, real=True)
    signed = np.arange(-lag, lag + 1)
    return size, signed % size, signed


def empirical_semivariogram(
    image_mm: np.ndarray, pixel_size_m: float, max_lag_m: float, n_bins: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All-pairs semivariogram of a masked image (NaN = no data) after removing a plane.

    Bins are ``(k, k + 1] * max_lag_m / n_bins`` for k = 0..n_bins-1; bins without pairs are
    dropped. Returns (pair-weighted mean lag in m, semivariance in mm^2, number of distinct
    pairs) per non-empty bin. Exact up to FFT round-off (Marcotte 1996; see module docstring).
    """
    if pixel_size_m <= 0 or max_lag_m <= 0 or n_bins < 1:
        raise ValueError("pixel_size_m and max_lag_m must be > 0 and n_bins >= 1")
    z = remove_plane(image_mm)
    valid = np.isfinite(z)
    z = np.where(valid, z, 0.0)
    m = valid.astype(np.float64)
    max_lag_px = int(np.floor(max_lag_m / pixel_size_m))
    size_y, iy, dy = _lag_indices(z.shape[0], max_lag_px)
    size_x, ix, dx = _lag_indices(z.shape[1], max_lag_px)
    shape = (size_y, size_x)
    fz, fz2, fm = (scipy.fft.rfft2(a, s=shape) for a in (z, z * z, m))
    # corr(a, b)(d) = sum_i a_i b_{i+d} = irfft2(conj(A) B)(d)
    pairs = scipy.fft.irfft2(np.conj(fm) * fm, s=shape)[np.ix_(iy, ix)]
    squares = scipy.fft.irfft2(
        np.conj(fz2) * fm + np.conj(fm) * fz2 - 2.0 * np.conj(fz) * fz, s=shape
    )[np.ix_(iy, ix)]
    lag = np.hypot(dy[:, None], dx[None, :]) * pixel_size_m
    count = np.rint(pairs)
    use = (count > 0) & (lag > 0) & (lag <= max_lag_m)
    edges = np.linspace(0.0, max_lag_m, n_bins + 1)
    which = np.clip(np.searchsorted(edges, lag[use], side="left") - 1, 0, n_bins - 1)
    n_ordered = np.bincount(which, weights=count[use], minlength=n_bins)
    sum_sq = np.bincount(which, weights=squares[use], minlength=n_bins)
    sum_lag = np.bincount(which, weights=lag[use] * count[use], minlength=n_bins)
    keep = n_ordered > 0
    # every unordered pair appears at d and -d: halve the ordered count, ratios are unchanged
    return (
        sum_lag[keep] / n_ordered[keep],
        sum_sq[keep] / (2.0 * n_ordered[keep]),
        (n_ordered[keep] // 2).astype(np.int64),
    )


def _fit_model(
    model: VariogramModel, lags_m: np.ndarray, gamma_mm2: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, float]:
    """Best (nugget, sill, range) of one model over a few starting ranges; (params, WRSS)."""
    scale = float(np.max(gamma_mm2))
    weight = np.sqrt(counts)

    def residuals(p: np.ndarray) -> np.ndarray:
        predicted = semivariance(model, lags_m, p[0], p[1], p[2])
        return weight * (gamma_mm2 / np.maximum(predicted, 1e-9 * scale) - 1.0)

    lower = np.array([0.0, 1e-6 * scale, 0.25 * float(lags_m.min())])
    upper = np.array([2.0 * scale, 10.0 * scale, 4.0 * float(lags_m.max())])
    best_x, best_cost = lower, np.inf
    for range_share in (0.1, 0.3, 1.0):
        start = np.array([0.05 * float(gamma_mm2[0]), scale, range_share * float(lags_m.max())])
        result = least_squares(residuals, np.clip(start, lower, upper), bounds=(lower, upper))
        cost = float(np.sum(result.fun**2))
        if cost < best_cost:
            best_x, best_cost = result.x, cost
    return best_x, best_cost


def fit_variogram(lags_m: np.ndarray, gamma_mm2: np.ndarray, counts: np.ndarray) -> VariogramFit:
    """Fit exponential and spherical models with nugget; keep the smaller Cressie WRSS.

    Bounds: nugget in [0, 2 max gamma], partial sill in (0, 10 max gamma], range in
    [min lag / 4, 4 max lag]. Needs at least 3 lag bins with pairs.
    """
    lags_m, gamma_mm2, counts = (
        np.asarray(a, dtype=np.float64) for a in (lags_m, gamma_mm2, counts)
    )
    good = (counts > 0) & np.isfinite(gamma_mm2)
    lags_m, gamma_mm2, counts = lags_m[good], gamma_mm2[good], counts[good]
    if lags_m.size < 3 or not np.max(gamma_mm2) > 0:
        raise ValueError("a variogram fit needs >= 3 lag bins with pairs and gamma > 0")
    fits = []
    for model in MODELS:
        (nugget, sill, range_m), wrss = _fit_model(model, lags_m, gamma_mm2, counts)
        fits.append(
            VariogramFit(
                model,
                float(sill),
                float(range_m),
                float(nugget),
                wrss / float(counts.sum()),
                int(counts.sum()),
            )
        )
    return min(fits, key=lambda fit: fit.misfit)


def read_interferogram(path: Path) -> tuple[np.ndarray, float]:
    """(values in mm as float64 with NaN = no data, pixel size in m) of a projected GeoTIFF."""
    import rasterio

    from volcdet.data.rasters import read_checked

    path = Path(path)
    if not path.is_file():
        raise InterferogramNotFoundError(f"{path}: interferogram file not found")
    try:
        src = rasterio.open(path)
    except rasterio.errors.RasterioIOError as err:
        raise RegionError(f"{path}: not a readable raster ({err})") from None
    with src:
        if src.crs is None or not src.crs.is_projected:
            raise RegionError(f"{path}: needs a projected CRS in metres, got {src.crs}")
        if not np.isclose(abs(src.transform.a), abs(src.transform.e)):
            raise RegionError(f"{path}: pixels are not square ({src.res})")
        image = np.ma.filled(read_checked(src, path, indexes=1).astype(np.float64), np.nan)
        return image, float(abs(src.transform.a))


def interferogram_variogram(
    path: Path, max_lag_m: float, n_bins: int
) -> tuple[VariogramFit | None, str, float]:
    """(fit or None, status, valid fraction) of one interferogram; skips are logged."""
    image, pixel_size_m = read_interferogram(path)
    valid = np.isfinite(image)
    valid_fraction = float(valid.mean())
    status = STATUS_OK
    if not valid.any():
        status = SKIPPED_ALL_NAN
    elif valid.sum() < MIN_VALID_PIXELS:
        status = SKIPPED_TOO_FEW_PIXELS
    else:
        raw_std = float(np.std(image[valid]))
        if raw_std == 0 or np.nanstd(remove_plane(image)) <= CONSTANT_RTOL * raw_std:
            status = SKIPPED_CONSTANT
    if status != STATUS_OK:
        log.warning("%s: %s (valid fraction %.3f)", path, status, valid_fraction)
        return None, status, valid_fraction
    lags, gamma, counts = empirical_semivariogram(image, pixel_size_m, max_lag_m, n_bins)
    return fit_variogram(lags, gamma, counts), status, valid_fraction


def variogram_table(
    interferograms: pd.DataFrame, region_dir: Path, max_lag_m: float, n_bins: int
) -> pd.DataFrame:
    """One row per interferogram (``TABLE_COLUMNS``); ``path`` is relative to ``region_dir``.

    All-NaN and constant (or exactly planar) rasters get status ``"skipped: all-NaN"`` /
    ``"skipped: constant"`` (``"skipped: too few valid pixels"`` below ``MIN_VALID_PIXELS``),
    NaN parameters and a logged warning naming the file. A missing file raises
    ``InterferogramNotFoundError`` (a ``FileNotFoundError``) naming it.
    """
    rows = []
    for record in interferograms.to_dict("records"):
        path = Path(region_dir) / str(record["path"])
        fit, status, valid_fraction = interferogram_variogram(path, max_lag_m, n_bins)
        fitted = asdict(fit) if fit is not None else dict(_NO_FIT)
        rows.append(
            {k: record[k] for k in ("track_id", "pass", "date1", "date2", "path")}
            | fitted
            | {"valid_fraction": valid_fraction, "status": status}
        )
        if fit is not None:
            log.info("%s: %s", path, fit)
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def pass_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per pass: fitted/skipped counts, mean, std, 5/25/50/75/95% quantiles of sill, range and
    nugget (status 'ok' rows), and the share of each model. Passes with no fit keep a row."""
    rows = []
    for pass_direction, group in table.groupby("pass", sort=True):
        ok = group[group.status == STATUS_OK]
        row: dict[str, object] = {
            "pass": pass_direction,
            "count": len(ok),
            "skipped": len(group) - len(ok),
        }
        for column in ("sill_mm2", "range_m", "nugget_mm2"):
            values = ok[column].astype(float)
            row[f"{column}_mean"] = values.mean()
            row[f"{column}_std"] = values.std(ddof=1)
            for q in (0.05, 0.25, 0.5, 0.75, 0.95):
                row[f"{column}_q{round(100 * q):02d}"] = values.quantile(q)
        for model in MODELS:
            row[f"share_{model}"] = float((ok.model == model).mean()) if len(ok) else np.nan
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
    """PNG of a few empirical semivariograms (dots) with their fitted models (lines), both
    passes represented; a placeholder panel says so when nothing was fitted."""
    plt = pyplot()

    ok = table[table.status == STATUS_OK]
    per_pass = max(1, n_plots // max(ok["pass"].nunique(), 1))
    chosen = pd.concat([group.head(per_pass) for _, group in ok.groupby("pass")] or [ok]).head(
        n_plots
    )
    n_panels = max(len(chosen), 1)
    fig, axes = plt.subplots(
        1, n_panels, figsize=(3.0 * n_panels, 3.0), squeeze=False, layout="constrained"
    )
    if chosen.empty:
        axes[0, 0].text(0.5, 0.5, "no interferogram could be fitted", ha="center", va="center")
        axes[0, 0].set_axis_off()
    for ax, record in zip(axes[0], chosen.to_dict("records"), strict=False):
        image, pixel_size_m = read_interferogram(Path(region_dir) / record["path"])
        lags, gamma, _ = empirical_semivariogram(image, pixel_size_m, max_lag_m, n_bins)
        h = np.linspace(lags.min(), lags.max(), 200)
        model = semivariance(
            record["model"], h, record["nugget_mm2"], record["sill_mm2"], record["range_m"]
        )
        ax.plot(lags / 1000, gamma, ".", ms=3, label="empirical")
        ax.plot(
            h / 1000, model, "-", label=f"{record['model']}, r {record['range_m'] / 1e3:.1f} km"
        )
        ax.set(xlabel="lag (km)", ylabel="semivariance (mm²)")
        ax.set_title(f"{record['track_id']} ({record['pass']}) {record['date1']}", fontsize=8)
        ax.legend(fontsize=6)
    fig.savefig(out_png, dpi=100)
    plt.close(fig)


__all__: list[str] = [
    "MODELS",
    "InterferogramNotFoundError",
    "VariogramFit",
    "empirical_semivariogram",
    "fit_variogram",
    "interferogram_variogram",
    "pass_summary",
    "plot_variogram_fits",
    "read_interferogram",
    "remove_plane",
    "semivariance",
    "variogram_table",
]
