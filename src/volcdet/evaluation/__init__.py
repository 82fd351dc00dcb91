"""Stage 8: predictions, metrics, the paper's tables, ROC and gallery figures, Grad-CAM.

Layer 4: may import core, data, simulation and learning.
"""
