# The one generic entry of every rule (Snakemake `script:`): the job goes to the step function
# named by the rule, `rnnatlas.papers.<paper>.steps.<name>` for rule <paper>_<name>. See
# rnnatlas.step.
from rnnatlas.step import run_snakemake_job

run_snakemake_job(snakemake)  # noqa: F821 (Snakemake defines it)
