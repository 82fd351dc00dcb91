# volcdet: detection of subtle volcanic deformation in InSAR velocity maps (Beker et al.).
# Thin entry point: config, the stage rule files and the default target.
from snakemake.utils import min_version

min_version("9.19")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/region.smk"
include: "workflow/rules/patches.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/variograms.smk"
include: "workflow/rules/simulation.smk"
include: "workflow/rules/training.smk"
include: "workflow/rules/finetune.smk"
include: "workflow/rules/evaluation.smk"
include: "workflow/rules/sensitivity.smk"
include: "workflow/rules/seeds.smk"
include: "workflow/rules/probes.smk"
include: "workflow/rules/scan.smk"
include: "workflow/rules/reference.smk"


report: "workflow/report/workflow.rst"


rule all:
    default_target: True
    input:
        final_outputs(),
        scan_targets,
    localrule: True
