# text8 autocomplete and memorization (Madsen 2019): data, GRU / LSTM / Nested LSTM, test
# table, letters known, connectivity.


# embedded: gensim's Wikipedia excerpt cleaned by wikifil; zip: the published text8 (paper)


rule text8_download:
    output:
        zip="resources/text8/text8.zip",
    log:
        "logs/data/text8_download.log",
    benchmark:
        "results/benchmarks/data/text8_download.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    script:
        "../scripts/step.py"


rule text8_data:
    input:
        **TEXT8_ZIP,
    output:
        **TEXT8_DATA,
    log:
        "logs/data/text8.log",
    benchmark:
        "results/benchmarks/data/text8.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=30,
    params:
        data=TEXT8["data"],
    script:
        "../scripts/step.py"


# Resumable state lives under results/resume/ (not a declared output).


rule text8_train:
    input:
        train=TEXT8_DATA["train"],
        valid=TEXT8_DATA["valid"],
        card=TEXT8_DATA["card"],
    output:
        model=f"results/models/{TEXT8_DATASET}/{{cell}}/seed{{seed}}/model.pt",
        card=f"results/models/{TEXT8_DATASET}/{{cell}}/seed{{seed}}/model.json",
        history=f"results/models/{TEXT8_DATASET}/{{cell}}/seed{{seed}}/history.parquet",
        metrics=f"results/models/{TEXT8_DATASET}/{{cell}}/seed{{seed}}/metrics.json",
        checkpoints=directory(
            f"results/models/{TEXT8_DATASET}/{{cell}}/seed{{seed}}/checkpoints"
        ),
    log:
        "logs/train/text8/{cell}/seed{seed}.log",
    benchmark:
        "results/benchmarks/train/text8/{cell}/seed{seed}.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: config["threads"]
    resources:
        mem_mb=8000,
        runtime=1440,
        gpu=1 if TEXT8["device"] == "cuda" else 0,
    params:
        spec=lambda wildcards: {**TEXT8["model"], "kind": wildcards.cell},
        device=TEXT8["device"],
        # each run gets its own folder in it, keyed by model, settings, seed and data
        resume=f"results/resume/{TEXT8_DATASET}/{{cell}}/seed{{seed}}",
    script:
        "../scripts/step.py"


rule text8_evaluate:
    input:
        model=f"results/models/{TEXT8_DATASET}/{{cell}}/seed{{seed}}/model.pt",
        model_card=f"results/models/{TEXT8_DATASET}/{{cell}}/seed{{seed}}/model.json",
        data=TEXT8_DATA["test"],
        card=TEXT8_DATA["card"],
    output:
        test="results/experiments/text8/{cell}/seed{seed}/test_metrics.parquet",
        letters="results/experiments/text8/{cell}/seed{seed}/letters_known.parquet",
    log:
        "logs/analysis/text8_evaluate/{cell}/seed{seed}.log",
    benchmark:
        "results/benchmarks/analysis/text8_evaluate/{cell}/seed{seed}.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=120,
    params:
        max_sequences=TEXT8["evaluate"]["max_sequences"],
    script:
        "../scripts/step.py"


rule text8_connectivity:
    input:
        card=TEXT8_DATA["card"],
        models=[f"{text8_model_dir(cell)}/model.pt" for cell in TEXT8["models"]],
        model_cards=[f"{text8_model_dir(cell)}/model.json" for cell in TEXT8["models"]],
    output:
        table="results/analysis/text8/connectivity.parquet",
        demo="results/analysis/text8/demo.parquet",
        png=report(
            "results/figures/text8/connectivity.png",
            caption="../report/text8_connectivity.rst",
            category="text8 autocomplete (Madsen 2019)",
        ),
        svg="results/figures/text8/connectivity.svg",
        html="results/figures/text8/connectivity_explorer.html",
    log:
        "logs/analysis/text8_connectivity.log",
    benchmark:
        "results/benchmarks/analysis/text8_connectivity.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
    params:
        # null: the article's fixed text
        text=TEXT8["connectivity"].get("text"),
        demo=TEXT8["demo"]["text"],
        squared=TEXT8["connectivity"]["squared"],
    script:
        "../scripts/step.py"


rule text8_figures:
    input:
        test=text8_experiments("test_metrics"),
        letters=text8_experiments("letters_known"),
        histories=[
            f"{text8_model_dir(cell)}/history.parquet" for cell in TEXT8["models"]
        ],
    output:
        png=[
            report(
                f"results/figures/text8/{name}.png",
                caption=f"../report/text8_{name}.rst",
                category="text8 autocomplete (Madsen 2019)",
            )
            for name in TEXT8_FIGURES
        ],
        svg=[f"results/figures/text8/{name}.svg" for name in TEXT8_FIGURES],
        table="results/figures/text8/test_table.html",
    log:
        "logs/figures/text8.log",
    benchmark:
        "results/benchmarks/figures/text8.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        # the model of each history, in the order of input.histories
        models=TEXT8["models"],
        count_padding=TEXT8["evaluate"]["count_padding"],
    script:
        "../scripts/step.py"


rule text8_states:
    input:
        model=f"results/models/{TEXT8_DATASET}/{{cell}}/seed{{seed}}/model.pt",
        model_card=f"results/models/{TEXT8_DATASET}/{{cell}}/seed{{seed}}/model.json",
        data=TEXT8_DATA["test"],
        card=TEXT8_DATA["card"],
    output:
        f"results/states/{TEXT8_DATASET}/{{cell}}/seed{{seed}}/test.parquet",
    log:
        "logs/states/text8/{cell}/seed{seed}.log",
    benchmark:
        "results/benchmarks/states/text8/{cell}/seed{seed}.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        sequences=config["memory"]["text8_sequences"],
    script:
        "../scripts/step.py"


# This paper's part of the report: its claims checked, its HTML section.
rule text8_section:
    input:
        test=text8_experiments("test_metrics"),
        letters=text8_experiments("letters_known"),
        histories=[
            f"{text8_model_dir(cell)}/history.parquet" for cell in TEXT8["models"]
        ],
        demo="results/analysis/text8/demo.parquet",
        card=f"results/data/{TEXT8_DATASET}/card.json",
        explorer="results/figures/text8/connectivity_explorer.html",
        figures=text8_outputs(),
    output:
        claims="results/report/text8/claims.json",
        html="results/report/text8/section.html",
        # the figures it shows, copied beside the page: the report folder moves as a whole
        figures=directory("results/report/text8/figures"),
    log:
        "logs/report/text8.log",
    benchmark:
        "results/benchmarks/report/text8.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        config=config,
        presets=PRESETS,
        title=registry.paper("text8").title,
        page=REPORT_PAGE,
    script:
        "../scripts/step.py"
