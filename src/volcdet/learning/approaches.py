"""The fine-tuning approaches of paper section 3.2: path-safe slug -> (paper name, phases).

Each phase lists the head layers it trains; everything else stays frozen. Kept free of heavy
imports so the Snakefile can read it at parse time.
"""

APPROACHES: dict[str, tuple[str, tuple[tuple[str, ...], ...]]] = {
    "last": ("[last]", (("classifier",),)),
    "m1last": ("[-1last]", (("penultimate",),)),
    "last2": ("[last2]", (("penultimate", "classifier"),)),
    "m1last1": ("[-1&last1]", (("classifier",), ("penultimate",), ("classifier",))),
}
