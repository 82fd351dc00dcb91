"""Stage 1-2 real-data side: rasters, the region contract, patch stores, frames, test and background patches.

Layer 1: may import volcdet.core only.
"""
