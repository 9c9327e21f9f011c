CSL_FIGURES = [
    "errors_vs_objects",
    "esn_vs_units",
    "esn_vs_sentences",
    "learning_curves",
]


rule csl_figures:
    input:
        runs="results/experiments/csl/runs.parquet",
        units="results/experiments/csl/esn_units.parquet",
        sentences="results/experiments/csl/esn_sentences.parquet",
        bow="results/experiments/csl/bow.parquet",
        histories=csl_histories(),
    output:
        table="results/figures/csl/error_table.csv",
        table_html="results/figures/csl/error_table.html",
        png=[
            report(
                f"results/figures/csl/{name}.png",
                caption=f"../report/{name}.rst",
                category="CSL (Variengien & Hinaut 2020)",
            )
            for name in CSL_FIGURES
        ],
        svg=[f"results/figures/csl/{name}.svg" for name in CSL_FIGURES],
    log:
        "logs/figures/csl.log",
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "rnnatlas csl-figures --runs {input.runs} --units {input.units}"
        " --sentences {input.sentences} --bow {input.bow} --histories {input.histories}"
        " --out results/figures/csl > {log} 2>&1"


rule csl_rssviz_figures:
    input:
        "results/analysis/csl/rssviz/{model}/embedding.parquet",
    output:
        png=[
            report(
                f"results/figures/csl/rssviz/{{model}}_{view}.png",
                caption="../report/rssviz.rst",
                category="CSL visual analyses",
            )
            for view in RSSVIZ_VIEWS
        ],
        svg=[
            f"results/figures/csl/rssviz/{{model}}_{view}.svg" for view in RSSVIZ_VIEWS
        ],
        html="results/figures/csl/rssviz/{model}.html",
    log:
        "logs/figures/rssviz/{model}.log",
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        outputs=as_json(RSSVIZ["outputs"]),
        out=lambda wildcards, output: os.path.dirname(output.html),
        title=lambda wildcards: f"{wildcards.model.upper()} ({MAIN_DATASET}, seed {STATES_SEED})",
    shell:
        "rnnatlas csl-rssviz-figures --embedding {input} --outputs '{params.outputs}'"
        " --title '{params.title}' --prefix {wildcards.model} --out {params.out} > {log} 2>&1"
