# rnnatlas: every table and figure of five papers on recurrent hidden states, as one DAG.
# Quick start:  snakemake --cores all            (embedded default, no network)
# CI scale:     snakemake --cores 2 --configfile workflow/presets/ci.yaml
# Paper scale:  snakemake --profile workflow/profiles/slurm --configfile workflow/presets/paper.yaml
import os

from snakemake.utils import min_version

from rnnatlas.papers import registry

min_version("9.0")


# The embedded default, found from any working directory (snakemake -d DIR works).
configfile: os.path.join(workflow.basedir, "config.yaml")


PAPER_NAMES = registry.names()


include: "workflow/rules/common.smk"


# One rule file per registered paper (rnnatlas.papers.registry), its file lists first: a
# paper may read another's declared files (the memory signatures read every model's states).
for paper in registry.PAPERS:

    include: f"workflow/rules/{paper.name}_files.smk"


for paper in registry.PAPERS:

    include: f"workflow/rules/{paper.name}.smk"


include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        rules.report.output,
        csl_state_files(),
