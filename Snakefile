# rnnatlas: every table and figure of five papers on recurrent hidden states, as one DAG.
# Quick start:  snakemake --cores all            (embedded default, no network)
# CI scale:     snakemake --cores 2 --configfile workflow/presets/ci.yaml
# Paper scale:  snakemake --profile workflow/profiles/slurm --configfile workflow/presets/paper.yaml
import os

from snakemake.utils import min_version

min_version("9.0")


# The embedded default, found from any working directory (snakemake -d DIR works).
configfile: os.path.join(workflow.basedir, "config.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/csl.smk"
include: "workflow/rules/mnist.smk"
include: "workflow/rules/text8.smk"
include: "workflow/rules/memory.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        rules.report.output,
        csl_state_files(),
