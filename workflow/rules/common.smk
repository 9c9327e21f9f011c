# Shared helpers: config validation at parse time and the file lists the rules need.
# Logic lives in src/rnnatlas (tested); this file only names files and formats arguments.
from snakemake.utils import validate

from rnnatlas.papers.registry import validate_config
from rnnatlas.report.claims import load_presets

# Our check first: it names the key and what it allows, and cross-checks model names. Then
# Snakemake's own validation against the same schema file.
validate_config(config)
validate(config, "../schemas/config.schema.yaml")


# The configuration merged with each preset, by scale: a claim's `checkable_at`.
PRESETS = load_presets(workflow.basedir)
REPORT_PAGE = (
    "results/report/index.html"  # the sections link their figures relative to it
)
