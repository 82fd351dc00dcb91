"""Stage 9: scanning users' velocity maps, TorchScript export and the command line.

Layer 5 (top): may import every other subpackage; nothing imports it.
"""
