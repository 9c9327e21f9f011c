# Shared helpers: config validation at parse time and the file lists the rules need.
# Logic lives in src/rnnatlas (tested); this file only names files and formats arguments.
import hashlib
import json
import os

from snakemake.utils import validate

from rnnatlas.config import validate as validate_config

# Our check first: it names the key and what it allows, and cross-checks model names. Then
# Snakemake's own validation against the same schema file.
validate_config(config)
validate(config, "../schemas/config.schema.yaml")
