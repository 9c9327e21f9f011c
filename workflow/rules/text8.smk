# text8 autocomplete and memorization (Madsen 2019): data, GRU / LSTM / Nested LSTM, test
# table, letters known, connectivity.


# embedded: gensim's Wikipedia excerpt cleaned by wikifil; zip: the published text8 (paper)


rule text8_download:
    output:
        "resources/text8/text8.zip",
    log:
        "logs/data/text8_download.log",
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    params:
        out=lambda wildcards, output: os.path.dirname(output[0]),
    shell:
        "rnnatlas text8-download --out {params.out} > {log} 2>&1"


rule text8_data:
    input:
        text8_data_inputs,
    output:
        multiext(f"results/data/{TEXT8_DATASET}/", *TEXT8_SPLITS),
    log:
        "logs/data/text8.log",
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=30,
    params:
        out=lambda wildcards, output: os.path.dirname(output[0]),
        data=TEXT8["data"],
        zip=lambda wildcards, input: f"--zip {input[0]}" if len(input) else "",
    shell:
        "rnnatlas text8-data --out {params.out} --source {params.data[source]} {params.zip}"
        " --vocabulary-bits {params.data[vocabulary_bits]} --max-chars {params.data[max_chars]}"
        " --seed {params.data[seed]} --max-characters '{params.data[max_characters]}'"
        " > {log} 2>&1"


# Resumable state lives under results/resume/ (not a declared output).


rule text8_train:
    input:
        multiext(f"results/data/{TEXT8_DATASET}/", *TEXT8_SPLITS),
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
        data=lambda wildcards, input: os.path.dirname(input[0]),
        out=lambda wildcards, output: os.path.dirname(output.metrics),
        spec=lambda wildcards: as_json({**TEXT8["model"], "kind": wildcards.cell}),
        device=TEXT8["device"],
        resume=lambda wildcards: (
            f"results/resume/{TEXT8_DATASET}/{wildcards.cell}/seed{wildcards.seed}/"
            + hashlib.sha256(as_json(TEXT8["model"]).encode()).hexdigest()[:12]
        ),
    shell:
        "rnnatlas text8-train --data {params.data} --out {params.out} --spec '{params.spec}'"
        " --seed {wildcards.seed} --resume-dir {params.resume} --threads {threads}"
        " --device {params.device} > {log} 2>&1"


rule text8_evaluate:
    input:
        card=f"results/data/{TEXT8_DATASET}/card.json",
        model=lambda wildcards: f"{text8_model_dir(wildcards.cell)}/model.pt",
    output:
        test="results/experiments/text8/{cell}/test_metrics.parquet",
        letters="results/experiments/text8/{cell}/letters_known.parquet",
    log:
        "logs/analysis/text8_evaluate/{cell}.log",
    benchmark:
        "results/benchmarks/analysis/text8_evaluate/{cell}.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=120,
    params:
        data=lambda wildcards, input: os.path.dirname(input.card),
        model=lambda wildcards, input: os.path.dirname(input.model),
        out=lambda wildcards, output: os.path.dirname(output.test),
        max_sequences=TEXT8["evaluate"]["max_sequences"],
    shell:
        "rnnatlas text8-evaluate --model {params.model} --data {params.data} --out {params.out}"
        " --max-sequences '{params.max_sequences}' --threads {threads} > {log} 2>&1"


rule text8_connectivity:
    input:
        card=f"results/data/{TEXT8_DATASET}/card.json",
        models=[f"{text8_model_dir(cell)}/model.pt" for cell in TEXT8["models"]],
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
        data=lambda wildcards, input: os.path.dirname(input.card),
        models=lambda wildcards, input: [os.path.dirname(m) for m in input.models],
        out=lambda wildcards, output: os.path.dirname(output.table),
        figures=lambda wildcards, output: os.path.dirname(output.png),
        # default: the article's fixed text
        text=(
            f"--text '{TEXT8['connectivity']['text']}'"
            if "text" in TEXT8["connectivity"]
            else ""
        ),
        demo=TEXT8["demo"]["text"],
        plain="" if TEXT8["connectivity"]["squared"] else "--plain",
    shell:
        "rnnatlas text8-connectivity --data {params.data} --out {params.out}"
        " --figures {params.figures} {params.text} --demo-text '{params.demo}'"
        " {params.plain} --threads {threads} {params.models} > {log} 2>&1"


rule text8_figures:
    input:
        test=[
            f"results/experiments/text8/{cell}/test_metrics.parquet"
            for cell in TEXT8["models"]
        ],
        letters=[
            f"results/experiments/text8/{cell}/letters_known.parquet"
            for cell in TEXT8["models"]
        ],
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
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        out=lambda wildcards, output: os.path.dirname(output.table),
        padding="--count-padding" if TEXT8["evaluate"]["count_padding"] else "",
    shell:
        "rnnatlas text8-figures --test {input.test} --letters {input.letters}"
        " --histories {input.histories} {params.padding} --out {params.out} > {log} 2>&1"


rule text8_states:
    input:
        card=f"results/data/{TEXT8_DATASET}/card.json",
        model=f"results/models/{TEXT8_DATASET}/{{cell}}/seed{{seed}}/model.pt",
    output:
        f"results/states/{TEXT8_DATASET}/{{cell}}/seed{{seed}}/test.parquet",
    log:
        "logs/states/text8/{cell}/seed{seed}.log",
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        data=lambda wildcards, input: os.path.dirname(input.card),
        model=lambda wildcards, input: os.path.dirname(input.model),
        sequences=config["memory"]["text8_sequences"],
    shell:
        "rnnatlas text8-states --model {params.model} --data {params.data} --out {output}"
        " --max-sequences {params.sequences} --threads {threads} > {log} 2>&1"
