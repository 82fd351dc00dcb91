"""Stages 3-4 and 6: variograms, Monte Carlo atmosphere, CDM sources, simulated sets, fine-tuning sets.

Layer 2: may import volcdet.core and volcdet.data (never learning, evaluation or inference).
"""
