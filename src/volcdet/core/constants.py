"""Physical constants shared by every stage."""

#: Sentinel-1 C-band radar wavelength, c / f0 = 299 792 458 m/s / 5.405 GHz (paper section 2.1: ~5.546 cm).
SENTINEL1_WAVELENGTH_MM = 55.465763

#: LOS displacement of one fringe (2 pi of interferometric phase) = wavelength / 2.
FRINGE_MM = SENTINEL1_WAVELENGTH_MM / 2.0

#: Days per Julian year, used to turn a stack period into years.
DAYS_PER_YEAR = 365.25
