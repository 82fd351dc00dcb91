"""Shared foundations: physical constants, errors, config validation, logging, LOS and phase.

Layer 0: imports no other volcdet subpackage.
"""
