"""The embedded synthetic stand-in region (a stand-in for real data, written in the data contract).

Layer 2 (beside simulation): may import volcdet.core and volcdet.data, never the simulator.
"""
