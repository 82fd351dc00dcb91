"""Stages 5 and 7: the classifier, the shared input transform, training, cached features, fine-tuning.

Layer 3: may import core, data and simulation. Kept free of torch at import (the Snakefile reads approaches).
"""

from volcdet.learning.cpu_kernels import pin_cpu_kernels

pin_cpu_kernels()
