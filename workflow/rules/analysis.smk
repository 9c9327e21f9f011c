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
        data=lambda wildcards, input: os.path.dirname(input[0]),
        name=lambda wildcards: CSL[f"esn_{wildcards.sweep}"]["model"],
        spec=lambda wildcards: as_json(
            CSL["models"][CSL[f"esn_{wildcards.sweep}"]["model"]]
        ),
        values=lambda wildcards: ",".join(
            map(str, CSL[f"esn_{wildcards.sweep}"]["values"])
        ),
        seeds=lambda wildcards: ",".join(
            map(str, CSL[f"esn_{wildcards.sweep}"]["seeds"])
        ),
        decode=as_json(CSL["juven"]["decode"]),
    shell:
        "rnnatlas csl-sweep --data {params.data} --out {output} --sweep {wildcards.sweep}"
        " --name {params.name} --spec '{params.spec}' --values {params.values}"
        " --seeds {params.seeds} --decode '{params.decode}' --threads {threads} > {log} 2>&1"


rule csl_bag_of_words:
    output:
        "results/experiments/csl/bow.parquet",
    log:
        "logs/analysis/bow.log",
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        corpus=as_json(CSL["corpus"]),
        runs=CSL["bow"]["runs"],
        decode=as_json(CSL["decode"]),
    shell:
        "rnnatlas csl-bow --out {output} --corpus '{params.corpus}' --runs {params.runs}"
        " --decode '{params.decode}' > {log} 2>&1"


rule csl_collect:
    input:
        csl_metric_files(),
    output:
        runs="results/experiments/csl/runs.parquet",
        summary="results/experiments/csl/summary.parquet",
    log:
        "logs/analysis/collect.log",
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    shell:
        "rnnatlas csl-collect --runs-out {output.runs} --summary-out {output.summary}"
        " {input} > {log} 2>&1"


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
        model=lambda wildcards, input: os.path.dirname(input.model),
        data=lambda wildcards, input: os.path.dirname(input.card),
        out=lambda wildcards, output: os.path.dirname(output.metrics),
        state=rssviz_state,
        umap=as_json(RSSVIZ["umap"]),
        trajectories=as_json(RSSVIZ["trajectories"]),
        decode=as_json(CSL["decode"]),
    shell:
        "rnnatlas csl-rssviz --states {input.states} --model {params.model} --data {params.data}"
        " --out {params.out} --sentences {params.rss[sentences]} --state {params.state}"
        " --umap '{params.umap}' --random-state {params.rss[random_state]}"
        " --trajectories '{params.trajectories}' --decode '{params.decode}'"
        " --trust-neighbors {params.rss[trust_neighbors]} > {log} 2>&1"


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
        seed=STATES_SEED,
        model=lambda wildcards, input: os.path.dirname(input.model),
        data=lambda wildcards, input: os.path.dirname(input.card),
        out=lambda wildcards, output: os.path.dirname(output.summary),
        figures=lambda wildcards, output: os.path.dirname(output.gif),
        stages=training_stages,
        title=lambda wildcards: f"{wildcards.model.upper()} ({MAIN_DATASET}, seed {STATES_SEED})",
        state=rssviz_state,
        outputs=as_json(RSSVIZ["outputs"]),
        umap=as_json(RSSVIZ["umap"]),
        decode=as_json(CSL["decode"]),
    shell:
        "rnnatlas csl-rssviz-training --embedding {input.embedding} --states {input.states}"
        " --model {params.model} --data {params.data} --out {params.out}"
        " --figures {params.figures} --name {wildcards.model}_training"
        " --title '{params.title}'"
        " --stages {params.stages} --outputs '{params.outputs}' --decode '{params.decode}'"
        " --state {params.state} --umap '{params.umap}'"
        " --random-state {params.rss[random_state]} > {log} 2>&1"


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
        data=lambda wildcards, input: os.path.dirname(input[0]),
        out=lambda wildcards, output: os.path.dirname(output.panels),
        figures=lambda wildcards, output: os.path.dirname(output.png),
        spec=as_json(CSL["models"][RSSVIZ["hyperparameters"]["model"]]),
        radius=",".join(map(str, RSSVIZ["hyperparameters"]["spectral_radius"])),
        leak=",".join(map(str, RSSVIZ["hyperparameters"]["leak"])),
        scaling=",".join(map(str, RSSVIZ["hyperparameters"]["input_scaling"])),
        umap=as_json(RSSVIZ["umap"]),
    shell:
        "rnnatlas csl-rssviz-hyper --data {params.data} --spec '{params.spec}'"
        " --out {params.out} --figures {params.figures} --spectral-radius {params.radius}"
        " --leak {params.leak} --input-scaling {params.scaling}"
        " --sentences {params.rss[sentences]} --seed {params.seed} --umap '{params.umap}'"
        " --random-state {params.rss[random_state]}"
        " --trust-neighbors {params.rss[trust_neighbors]} > {log} 2>&1"


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
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        rss=RSSVIZ,
        model=lambda wildcards, input: os.path.dirname(input.model),
        data=lambda wildcards, input: os.path.dirname(input.card),
        tables=lambda wildcards, output: os.path.dirname(output.summary),
        figures=lambda wildcards, output: os.path.dirname(output.png[0]),
        state=rssviz_state,
        units=CSL["units"],
    shell:
        "rnnatlas csl-units --model {params.model} --data {params.data} --states {input.states}"
        " --tables {params.tables} --figures {params.figures}"
        " --sentence '{params.units[sentence]}' --top-k {params.units[top_k]}"
        " --polyvalent-min {params.units[polyvalent_min]}"
        " --connected-output {params.units[connected_output]}"
        " --connected-k {params.units[connected_k]}"
        " --delta-sentences {params.units[delta_sentences]} --state {params.state}"
        " --seed {params.rss[random_state]} > {log} 2>&1"
