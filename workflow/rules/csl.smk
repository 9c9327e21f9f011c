# Variengien & Hinaut 2020 (CSL), with Juven & Hinaut 2020's ESN numbers: corpora, ESN and
# LSTM training, states, sweeps, the visual analyses (RSSviz, units) and figures.


wildcard_constraints:
    dataset=r"csl-n\d+(-center)?(-juven)?",
    seed=r"\d+",
    sweep="units|sentences",
    model="|".join(CSL["models"]),


rule csl_corpus:
    output:
        corpus_files("{dataset}"),
    log:
        "logs/data/{dataset}.log",
    benchmark:
        "results/benchmarks/data/{dataset}.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        corpus=corpus_spec,
    script:
        "../scripts/step.py"


rule csl_train_esn:
    input:
        corpus_files("{dataset}"),
    output:
        model="results/models/{dataset}/{model}/seed{seed}/model.pt",
        card="results/models/{dataset}/{model}/seed{seed}/model.json",
        history="results/models/{dataset}/{model}/seed{seed}/history.parquet",
        metrics="results/models/{dataset}/{model}/seed{seed}/metrics.json",
    log:
        "logs/train/{dataset}/{model}/seed{seed}.log",
    benchmark:
        "results/benchmarks/train/{dataset}/{model}/seed{seed}.tsv"
    wildcard_constraints:
        model="|".join(ESN_MODELS),
    conda:
        "../../envs/rnnatlas.yaml"
    threads: config["threads"]
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        spec=model_spec,
        decode=decode_spec,
    script:
        "../scripts/step.py"


# Resumable state lives under results/resume/, which is not a declared output: Snakemake


# deletes declared outputs before it reruns a job, and a killed job must resume, not restart.


rule csl_train_lstm:
    input:
        corpus_files("{dataset}"),
    output:
        model="results/models/{dataset}/{model}/seed{seed}/model.pt",
        card="results/models/{dataset}/{model}/seed{seed}/model.json",
        history="results/models/{dataset}/{model}/seed{seed}/history.parquet",
        metrics="results/models/{dataset}/{model}/seed{seed}/metrics.json",
        checkpoints=directory("results/models/{dataset}/{model}/seed{seed}/checkpoints"),
    log:
        "logs/train/{dataset}/{model}/seed{seed}.log",
    benchmark:
        "results/benchmarks/train/{dataset}/{model}/seed{seed}.tsv"
    wildcard_constraints:
        model="|".join(LSTM_MODELS),
    conda:
        "../../envs/rnnatlas.yaml"
    threads: config["threads"]
    resources:
        mem_mb=4000,
        runtime=240,
    params:
        # each run gets its own folder in it, keyed by model, settings, seed and data
        resume="results/resume/{dataset}/{model}/seed{seed}",
        spec=model_spec,
        decode=decode_spec,
    script:
        "../scripts/step.py"


rule csl_states:
    input:
        corpus_files("{dataset}"),
        model="results/models/{dataset}/{model}/seed{seed}/model.pt",
        model_card="results/models/{dataset}/{model}/seed{seed}/model.json",
    output:
        "results/states/{dataset}/{model}/seed{seed}/test.parquet",
    log:
        "logs/states/{dataset}/{model}/seed{seed}.log",
    benchmark:
        "results/benchmarks/states/{dataset}/{model}/seed{seed}.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: config["threads"]
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../scripts/step.py"


rule csl_esn_sweep:
    input:
        corpus_files(JUVEN_DATASET),
    output:
        "results/experiments/csl/esn_{sweep}.parquet",
    log:
        "logs/analysis/esn_{sweep}.log",
    benchmark:
        "results/benchmarks/analysis/esn_{sweep}.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: config["threads"]
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        grid=lookup(dpath="csl/esn_{sweep}", within=config),
        spec=lambda wildcards: CSL["models"][CSL[f"esn_{wildcards.sweep}"]["model"]],
        decode=CSL["juven"]["decode"],
    script:
        "../scripts/step.py"


rule csl_bag_of_words:
    output:
        "results/experiments/csl/bow.parquet",
    log:
        "logs/analysis/bow.log",
    benchmark:
        "results/benchmarks/analysis/bow.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        corpus=CSL["corpus"],
        runs=CSL["bow"]["runs"],
        decode=CSL["decode"],
    script:
        "../scripts/step.py"


rule csl_collect:
    input:
        csl_metric_files(),
    output:
        runs="results/experiments/csl/runs.parquet",
        summary="results/experiments/csl/summary.parquet",
    log:
        "logs/analysis/collect.log",
    benchmark:
        "results/benchmarks/analysis/collect.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../scripts/step.py"


rule csl_rssviz:
    input:
        unpack(model_inputs),
    output:
        embedding="results/analysis/csl/rssviz/{model}/embedding.parquet",
        nesting="results/analysis/csl/rssviz/{model}/nesting.parquet",
        metrics="results/analysis/csl/rssviz/{model}/metrics.json",
    log:
        "logs/analysis/rssviz/{model}.log",
    benchmark:
        "results/benchmarks/analysis/rssviz/{model}.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        rss=RSSVIZ,
        state=rssviz_state,
        decode=CSL["decode"],
    script:
        "../scripts/step.py"


rule csl_rssviz_training:
    input:
        unpack(model_inputs),
        embedding="results/analysis/csl/rssviz/{model}/embedding.parquet",
    output:
        frames="results/analysis/csl/rssviz_training/{model}/frames.parquet",
        errors="results/analysis/csl/rssviz_training/{model}/frame_errors.parquet",
        summary="results/analysis/csl/rssviz_training/{model}/training.json",
        gif="results/figures/csl/rssviz/{model}_training.gif",
        png=report(
            "results/figures/csl/rssviz/{model}_training.png",
            caption="../report/rssviz_training.rst",
            category="CSL visual analyses",
        ),
        svg="results/figures/csl/rssviz/{model}_training.svg",
    log:
        "logs/analysis/rssviz_training/{model}.log",
    benchmark:
        "results/benchmarks/analysis/rssviz_training/{model}.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        rss=RSSVIZ,
        stages=training_stages,
        title=lambda wildcards: f"{wildcards.model.upper()} ({MAIN_DATASET}, seed {STATES_SEED})",
        state=rssviz_state,
        decode=CSL["decode"],
    script:
        "../scripts/step.py"


rule csl_rssviz_hyperparameters:
    input:
        corpus_files(MAIN_DATASET),
    output:
        table="results/analysis/csl/rssviz_hyper/hyperparameters.parquet",
        panels="results/analysis/csl/rssviz_hyper/panels.parquet",
        summary="results/analysis/csl/rssviz_hyper/hyperparameters.json",
        png=report(
            "results/figures/csl/rssviz/hyperparameters.png",
            caption="../report/rssviz_hyperparameters.rst",
            category="CSL visual analyses",
        ),
        svg="results/figures/csl/rssviz/hyperparameters.svg",
    log:
        "logs/analysis/rssviz_hyperparameters.log",
    benchmark:
        "results/benchmarks/analysis/rssviz_hyperparameters.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: config["threads"]
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        rss=RSSVIZ,
        seed=STATES_SEED,
        spec=CSL["models"][RSSVIZ["hyperparameters"]["model"]],
    script:
        "../scripts/step.py"


rule csl_units:
    input:
        unpack(model_inputs),
    output:
        summary="results/analysis/csl/units/{model}/summary.json",
        tables=multiext(
            "results/analysis/csl/units/{model}/",
            "winglet.parquet",
            "top_units.parquet",
            "polyvalent.parquet",
            "sentence_deltas.parquet",
            "connected_deltas.parquet",
            "output_activations.parquet",
        ),
        png=[
            report(
                f"results/figures/csl/units/{{model}}/{name}.png",
                caption="../report/units.rst",
                category="CSL visual analyses",
            )
            for name in UNIT_FIGURES
        ],
        svg=[f"results/figures/csl/units/{{model}}/{name}.svg" for name in UNIT_FIGURES],
    log:
        "logs/analysis/units/{model}.log",
    benchmark:
        "results/benchmarks/analysis/units/{model}.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        rss=RSSVIZ,
        state=rssviz_state,
        units=CSL["units"],
    script:
        "../scripts/step.py"


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
    benchmark:
        "results/benchmarks/figures/csl.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/step.py"


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
    benchmark:
        "results/benchmarks/figures/rssviz/{model}.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        outputs=RSSVIZ["outputs"],
        title=lambda wildcards: f"{wildcards.model.upper()} ({MAIN_DATASET}, seed {STATES_SEED})",
    script:
        "../scripts/step.py"


# This paper's part of the report: its claims checked, its HTML section.
rule csl_section:
    input:
        runs="results/experiments/csl/runs.parquet",
        units="results/experiments/csl/esn_units.parquet",
        sentences="results/experiments/csl/esn_sentences.parquet",
        bow="results/experiments/csl/bow.parquet",
        cards=csl_cards(),
        table_html="results/figures/csl/error_table.html",
        figures=rules.csl_figures.output,
        visual=visual_outputs(),
    output:
        claims="results/report/csl/claims.json",
        html="results/report/csl/section.html",
        # the figures it shows, copied beside the page: the report folder moves as a whole
        figures=directory("results/report/csl/figures"),
    log:
        "logs/report/csl.log",
    benchmark:
        "results/benchmarks/report/csl.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        config=config,
        presets=PRESETS,
        title=registry.paper("csl").title,
        page=REPORT_PAGE,
    script:
        "../scripts/step.py"
