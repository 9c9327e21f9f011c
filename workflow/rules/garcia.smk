# Garcia, Munz & Weiskopf 2021 (visual analytics of LSTM hidden states): documents, the
# classifier, its states, the per-step views (also on the sequential-MNIST RNN), figures, section.


wildcard_constraints:
    use_case=r"[a-z][a-z0-9_]*",
    keras=r"imdb|reuters",


rule garcia_download:
    output:
        npz="resources/garcia/{keras}.npz",
        word_index="resources/garcia/{keras}_word_index.json",
    log:
        "logs/data/garcia_download_{keras}.log",
    benchmark:
        "results/benchmarks/data/garcia_download_{keras}.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    script:
        "../scripts/step.py"


rule garcia_data:
    input:
        unpack(garcia_keras_files),
    output:
        **garcia_data("{use_case}"),
    log:
        "logs/data/garcia_{use_case}.log",
    benchmark:
        "results/benchmarks/data/garcia_{use_case}.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        spec=lambda wildcards: GARCIA["datasets"][wildcards.use_case],
    script:
        "../scripts/step.py"


rule garcia_train:
    input:
        **garcia_data("{use_case}"),
    output:
        model="results/models/garcia-{use_case}/lstm/seed{seed}/model.pt",
        card="results/models/garcia-{use_case}/lstm/seed{seed}/model.json",
        history="results/models/garcia-{use_case}/lstm/seed{seed}/history.parquet",
        metrics="results/models/garcia-{use_case}/lstm/seed{seed}/metrics.json",
    log:
        "logs/train/garcia-{use_case}/seed{seed}.log",
    benchmark:
        "results/benchmarks/train/garcia-{use_case}/seed{seed}.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: config["threads"]
    resources:
        mem_mb=8000,
        runtime=240,
    params:
        # resumable state outside the declared outputs (Snakemake deletes those before a rerun)
        resume="results/resume/garcia-{use_case}/lstm/seed{seed}",
        spec=lambda wildcards: GARCIA["datasets"][wildcards.use_case],
        training=GARCIA["training"],
    script:
        "../scripts/step.py"


rule garcia_states:
    input:
        **garcia_data("{use_case}"),
        model="results/models/garcia-{use_case}/lstm/seed{seed}/model.pt",
        model_card="results/models/garcia-{use_case}/lstm/seed{seed}/model.json",
    output:
        "results/states/garcia-{use_case}/lstm/seed{seed}/test.parquet",
    log:
        "logs/states/garcia-{use_case}/seed{seed}.log",
    benchmark:
        "results/benchmarks/states/garcia-{use_case}/seed{seed}.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: config["threads"]
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        shown=lambda wildcards: GARCIA["datasets"][wildcards.use_case]["shown"],
    script:
        "../scripts/step.py"


rule garcia_views:
    input:
        unpack(garcia_views_inputs),
    output:
        views="results/analysis/garcia/{use_case}/views.parquet",
        projection="results/analysis/garcia/{use_case}/projection.parquet",
    log:
        "logs/analysis/garcia_views/{use_case}.log",
    benchmark:
        "results/benchmarks/analysis/garcia_views/{use_case}.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: config["threads"]
    resources:
        mem_mb=8000,
        runtime=60,
    params:
        case=lambda wildcards: (
            GARCIA["mnist"]
            if wildcards.use_case == "mnist"
            else GARCIA["datasets"][wildcards.use_case]
        ),
        filters=GARCIA["filters"],
    script:
        "../scripts/step.py"


rule garcia_figures:
    input:
        views="results/analysis/garcia/{use_case}/views.parquet",
        projection="results/analysis/garcia/{use_case}/projection.parquet",
    output:
        png=[
            report(
                f"results/figures/garcia/{{use_case}}/{name}.png",
                caption=f"../report/garcia_{name}.rst",
                category="Visual analytics (Garcia et al. 2021)",
            )
            for name in GARCIA_FIGURES
        ],
        svg=[
            f"results/figures/garcia/{{use_case}}/{name}.svg"
            for name in GARCIA_FIGURES
        ],
        # the linked views: one self-contained page (projection, text, heatmap, bars, filters)
        explorer="results/figures/garcia/{use_case}/explorer.html",
    log:
        "logs/figures/garcia/{use_case}.log",
    benchmark:
        "results/benchmarks/figures/garcia/{use_case}.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        filters=GARCIA["filters"],
    script:
        "../scripts/step.py"


rule garcia_export:
    input:
        states=lambda wildcards: garcia_views_inputs(wildcards)["states"],
        projection="results/analysis/garcia/{use_case}/projection.parquet",
        metrics=lambda wildcards: f"{garcia_model_dir(wildcards.use_case)}/metrics.json",
    output:
        "results/analysis/garcia/{use_case}/hiddenStatesVis.json",
    log:
        "logs/analysis/garcia_export/{use_case}.log",
    benchmark:
        "results/benchmarks/analysis/garcia_export/{use_case}.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    script:
        "../scripts/step.py"


# This paper's part of the report: its claims checked, its HTML section.
rule garcia_section:
    input:
        metrics=[f"{garcia_model_dir(case)}/metrics.json" for case in GARCIA_USE_CASES],
        cards=[f"results/data/garcia-{case}/card.json" for case in GARCIA_USE_CASES],
        views=[
            f"results/analysis/garcia/{case}/views.parquet"
            for case in [*GARCIA_USE_CASES, "mnist"]
        ],
        figures=garcia_outputs(),
    output:
        claims="results/report/garcia/claims.json",
        html="results/report/garcia/section.html",
        # the figures it shows, copied beside the page: the report folder moves as a whole
        figures=directory("results/report/garcia/figures"),
    log:
        "logs/report/garcia.log",
    benchmark:
        "results/benchmarks/report/garcia.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        config=config,
        presets=PRESETS,
        title=registry.paper("garcia").title,
        page=REPORT_PAGE,
        use_cases=GARCIA_USE_CASES,
    script:
        "../scripts/step.py"
