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
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        flags=corpus_flags,
        out=lambda wildcards, output: os.path.dirname(output[0]),
    shell:
        "rnnatlas csl-corpus --out {params.out} {params.flags} > {log} 2>&1"


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
        data=lambda wildcards, input: os.path.dirname(input[0]),
        out=lambda wildcards, output: os.path.dirname(output.metrics),
        spec=model_spec,
        decode=decode_spec,
    shell:
        "rnnatlas csl-train --data {params.data} --out {params.out} --name {wildcards.model}"
        " --spec '{params.spec}' --decode '{params.decode}' --seed {wildcards.seed}"
        " --threads {threads} > {log} 2>&1"


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
        data=lambda wildcards, input: os.path.dirname(input[0]),
        out=lambda wildcards, output: os.path.dirname(output.metrics),
        resume=resume_dir,
        spec=model_spec,
        decode=decode_spec,
    shell:
        "rnnatlas csl-train --data {params.data} --out {params.out} --name {wildcards.model}"
        " --spec '{params.spec}' --decode '{params.decode}' --seed {wildcards.seed}"
        " --resume-dir {params.resume} --threads {threads} > {log} 2>&1"


rule csl_states:
    input:
        corpus_files("{dataset}"),
        model="results/models/{dataset}/{model}/seed{seed}/model.pt",
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
    params:
        data=lambda wildcards, input: os.path.dirname(input[0]),
        model=lambda wildcards, input: os.path.dirname(input.model),
    shell:
        "rnnatlas csl-states --model {params.model} --data {params.data} --out {output}"
        " > {log} 2>&1"


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
