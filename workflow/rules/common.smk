# Shared helpers: config validation at parse time and the file lists the rules need.
# Logic lives in src/rnnatlas (tested); this file only names files and formats arguments.
from rnnatlas.papers.registry import validate_config
from rnnatlas.report.claims import load_presets
from rnnatlas.report.records import record_folders

# The one config check, the same function `rnnatlas check-config` runs: the schema
# (workflow/schemas/config.schema.yaml), the ceilings of `limits`, every paper's cross-checks.
validate_config(config)


# The configuration merged with each preset, by scale: a claim's `checkable_at`.
PRESETS = load_presets(workflow.basedir)
# Recorded runs (reproductions/<name>/): their verdicts stand beside the live ones.
RECORDED_RUNS = [
    str(folder / name)
    for folder in record_folders(workflow.basedir)
    for name in ("claims.json", "manifest.json")
]
REPORT_PAGE = (
    "results/report/index.html"  # the sections link their figures relative to it
)
