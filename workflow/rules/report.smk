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
        text8=text8_outputs(),
        memory=memory_tables(),
        capacity="results/analysis/memory/capacity.json",
        memory_figures="results/figures/memory/memory_area.html",
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
        dynamics=[
            f"results/analysis/mnist/dynamics/seed{seed}" for seed in MNIST["seeds"]
        ],
        text8_test=[
            f"results/experiments/text8/{cell}/test_metrics.parquet"
            for cell in TEXT8["models"]
        ],
        text8_letters=[
            f"results/experiments/text8/{cell}/letters_known.parquet"
            for cell in TEXT8["models"]
        ],
        text8_histories=[
            f"{text8_model_dir(cell)}/history.parquet" for cell in TEXT8["models"]
        ],
    shell:
        "rnnatlas report --config '{params.config}' --runs {input.runs} --units {input.units}"
        " --sentences {input.sentences} --bow {input.bow} --figures results/figures/csl"
        " --cards {input.cards} --presets-root {params.root} --analysis results/analysis/csl"
        " --mnist-variants results/experiments/mnist/variants.parquet"
        " --mnist-separability results/analysis/mnist/tsne/separability.parquet"
        " --mnist-figures results/figures/mnist"
        " --mnist-dimension results/analysis/mnist/dimension.parquet"
        " --mnist-dynamics {params.dynamics}"
        " --text8-test {params.text8_test} --text8-letters {params.text8_letters}"
        " --text8-histories {params.text8_histories}"
        " --text8-demo results/analysis/text8/demo.parquet"
        f" --text8-card results/data/{TEXT8_DATASET}/card.json"
        " --text8-figures results/figures/text8"
        " --memory-signatures {input.memory} --memory-capacity {input.capacity}"
        " --memory-figures results/figures/memory"
        " --out results/report > {log} 2>&1"
