"""volcdet: detection of subtle volcanic deformation in InSAR velocity maps (Beker et al.)."""

__version__ = "0.1.0"
