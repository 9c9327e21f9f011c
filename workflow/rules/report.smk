rule report:
    input:
        rules.csl_figures.output,
        runs="results/experiments/csl/runs.parquet",
        units="results/experiments/csl/esn_units.parquet",
        sentences="results/experiments/csl/esn_sentences.parquet",
        bow="results/experiments/csl/bow.parquet",
        cards=csl_cards(),
        visual=visual_outputs(),
        mnist=mnist_outputs(),
    output:
        html=report(
            "results/report/index.html",
            caption="../report/index.rst",
            category="Report",
        ),
        claims="results/report/claims.json",
    log:
        "logs/report.log",
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        config=as_json(config),
        root=workflow.basedir,
    shell:
        "rnnatlas report --config '{params.config}' --runs {input.runs} --units {input.units}"
        " --sentences {input.sentences} --bow {input.bow} --figures results/figures/csl"
        " --cards {input.cards} --presets-root {params.root} --analysis results/analysis/csl"
        " --mnist-variants results/experiments/mnist/variants.parquet"
        " --mnist-separability results/analysis/mnist/tsne/separability.parquet"
        " --mnist-figures results/figures/mnist"
        " --out results/report > {log} 2>&1"
