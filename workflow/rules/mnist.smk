# Sequential MNIST (Horoi, Geadah, Lajoie & Wolf 2020): data, networks, variants, states, t-SNE,
# autonomous dynamics and intrinsic dimension.


rule mnist_download:
    output:
        **MNIST_IDX,
    log:
        "logs/data/mnist_download.log",
    benchmark:
        "results/benchmarks/data/mnist_download.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    script:
        "../scripts/step.py"


rule mnist_data:
    input:
        **MNIST_DATA_INPUTS,
    output:
        train=f"results/data/{MNIST_DATASET}/train.parquet",
        test=f"results/data/{MNIST_DATASET}/test.parquet",
        card=f"results/data/{MNIST_DATASET}/card.json",
    log:
        "logs/data/mnist.log",
    benchmark:
        "results/benchmarks/data/mnist.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        data=MNIST["data"],
    script:
        "../scripts/step.py"


# Resumable state lives under results/resume/ (not a declared output), as for the CSL LSTM.


wildcard_constraints:
    arch="rnn|lowrank",


rule mnist_train:
    input:
        train=f"results/data/{MNIST_DATASET}/train.parquet",
        test=f"results/data/{MNIST_DATASET}/test.parquet",
        card=f"results/data/{MNIST_DATASET}/card.json",
    output:
        model=f"results/models/{MNIST_DATASET}/{{arch}}/seed{{seed}}/model.pt",
        card=f"results/models/{MNIST_DATASET}/{{arch}}/seed{{seed}}/model.json",
        history=f"results/models/{MNIST_DATASET}/{{arch}}/seed{{seed}}/history.parquet",
        metrics=f"results/models/{MNIST_DATASET}/{{arch}}/seed{{seed}}/metrics.json",
        checkpoints=directory(
            f"results/models/{MNIST_DATASET}/{{arch}}/seed{{seed}}/checkpoints"
        ),
    log:
        "logs/train/mnist/{arch}/seed{seed}.log",
    benchmark:
        "results/benchmarks/train/mnist/{arch}/seed{seed}.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: config["threads"]
    resources:
        mem_mb=4000,
        runtime=240,
        gpu=0,
    params:
        spec=lambda wildcards: mnist_spec(wildcards.arch),
        # each run gets its own folder in it, keyed by model, settings, seed and data
        resume=f"results/resume/{MNIST_DATASET}/{{arch}}/seed{{seed}}",
    script:
        "../scripts/step.py"


rule mnist_variants:
    input:
        test=f"results/data/{MNIST_DATASET}/test.parquet",
        models=[f"{mnist_model_dir(seed)}/model.pt" for seed in MNIST["seeds"]],
        cards=[f"{mnist_model_dir(seed)}/model.json" for seed in MNIST["seeds"]],
    output:
        "results/experiments/mnist/variants.parquet",
    log:
        "logs/analysis/mnist_variants.log",
    benchmark:
        "results/benchmarks/analysis/mnist_variants.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: config["threads"]
    resources:
        mem_mb=4000,
        runtime=60,
    script:
        "../scripts/step.py"


rule mnist_states:
    input:
        test=f"results/data/{MNIST_DATASET}/test.parquet",
        card=f"results/data/{MNIST_DATASET}/card.json",
        model=f"results/models/{MNIST_DATASET}/{{arch}}/seed{MNIST['states']['seed']}/model.pt",
        model_card=(
            f"results/models/{MNIST_DATASET}/{{arch}}/seed{MNIST['states']['seed']}/model.json"
        ),
    output:
        f"results/states/{MNIST_DATASET}/{{arch}}/seed{MNIST['states']['seed']}/test.parquet",
    log:
        "logs/states/mnist_{arch}.log",
    benchmark:
        "results/benchmarks/states/mnist_{arch}.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: config["threads"]
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        zero_rows=MNIST["states"]["extend"],
    script:
        "../scripts/step.py"


rule mnist_tsne:
    input:
        MNIST_STATES,
    output:
        tsne="results/analysis/mnist/tsne/tsne.parquet",
        separability="results/analysis/mnist/tsne/separability.parquet",
    log:
        "logs/analysis/mnist_tsne.log",
    benchmark:
        "results/benchmarks/analysis/mnist_tsne.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: config["threads"]
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        tsne=MNIST["tsne"],
    script:
        "../scripts/step.py"


# Lyapunov exponents across the checkpoints, attractors of the autonomous map, digit as phase.


rule mnist_dynamics:
    input:
        test=f"results/data/{MNIST_DATASET}/test.parquet",
        model=f"{mnist_model_dir('{seed}')}/model.pt",
        model_card=f"{mnist_model_dir('{seed}')}/model.json",
        checkpoints=f"{mnist_model_dir('{seed}')}/checkpoints",
    output:
        lyapunov="results/analysis/mnist/dynamics/seed{seed}/lyapunov.parquet",
        attractor_sets="results/analysis/mnist/dynamics/seed{seed}/attractor_sets.parquet",
        attractors="results/analysis/mnist/dynamics/seed{seed}/attractors.parquet",
        phase="results/analysis/mnist/dynamics/seed{seed}/phase.parquet",
        trajectories="results/analysis/mnist/dynamics/seed{seed}/trajectories.parquet",
        summary="results/analysis/mnist/dynamics/seed{seed}/dynamics.json",
    log:
        "logs/analysis/mnist_dynamics/seed{seed}.log",
    benchmark:
        "results/benchmarks/analysis/mnist_dynamics/seed{seed}.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        lyapunov=MNIST["dynamics"]["lyapunov"],
        attractors=MNIST["dynamics"]["attractors"],
    script:
        "../scripts/step.py"


rule mnist_dimension:
    input:
        MNIST_STATES,
    output:
        "results/analysis/mnist/dimension.parquet",
    log:
        "logs/analysis/mnist_dimension.log",
    benchmark:
        "results/benchmarks/analysis/mnist_dimension.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        dimension=MNIST["dimension"],
    script:
        "../scripts/step.py"


rule mnist_figures:
    input:
        variants="results/experiments/mnist/variants.parquet",
        tsne="results/analysis/mnist/tsne/tsne.parquet",
        separability="results/analysis/mnist/tsne/separability.parquet",
        lyapunov=mnist_dynamics_of("lyapunov.parquet"),
        attractor_sets=mnist_dynamics_of("attractor_sets.parquet"),
        attractors=mnist_dynamics_of("attractors.parquet"),
        phase=mnist_dynamics_of("phase.parquet"),
        trajectories=mnist_dynamics_of("trajectories.parquet"),
        summary=mnist_dynamics_of("dynamics.json"),
        dimension="results/analysis/mnist/dimension.parquet",
    output:
        png=[
            report(
                f"results/figures/mnist/{name}.png",
                caption=f"../report/mnist_{name}.rst",
                category="Sequential MNIST (Horoi et al. 2020)",
            )
            for name in MNIST_FIGURES
        ],
        svg=[f"results/figures/mnist/{name}.svg" for name in MNIST_FIGURES],
    log:
        "logs/figures/mnist.log",
    benchmark:
        "results/benchmarks/figures/mnist.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        seed=MNIST["states"]["seed"],
    script:
        "../scripts/step.py"


# This paper's part of the report: its claims checked, its HTML section.
rule mnist_section:
    input:
        variants="results/experiments/mnist/variants.parquet",
        separability="results/analysis/mnist/tsne/separability.parquet",
        dimension="results/analysis/mnist/dimension.parquet",
        summary=mnist_dynamics_of("dynamics.json"),
        lyapunov=mnist_dynamics_of("lyapunov.parquet"),
        attractor_sets=mnist_dynamics_of("attractor_sets.parquet"),
        attractors=mnist_dynamics_of("attractors.parquet"),
        phase=mnist_dynamics_of("phase.parquet"),
        figures=mnist_outputs(),
    output:
        claims="results/report/mnist/claims.json",
        html="results/report/mnist/section.html",
        # the figures it shows, copied beside the page: the report folder moves as a whole
        figures=directory("results/report/mnist/figures"),
    log:
        "logs/report/mnist.log",
    benchmark:
        "results/benchmarks/report/mnist.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        config=config,
        presets=PRESETS,
        title=registry.paper("mnist").title,
        page=REPORT_PAGE,
    script:
        "../scripts/step.py"
