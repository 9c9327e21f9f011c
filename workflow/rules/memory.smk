# Memory signatures (Koppula, Sim & Chin 2018): decoders of the input k steps back from every
# model family's states, the n-gram sanity check, and the memory-capacity cross-check.


wildcard_constraints:
    family="csl|mnist|text8",
    name="[a-z0-9_]+",


# text8/ngram{n}.parquet is the n-gram model's signature, not a states file's


ruleorder: memory_ngram > memory_signature


rule memory_signature:
    input:
        states=memory_states,
        mnist=f"results/data/{MNIST_DATASET}/card.json",
    output:
        "results/analysis/memory/{family}/{name}.parquet",
    log:
        "logs/analysis/memory/{family}/{name}.log",
    benchmark:
        "results/benchmarks/analysis/memory/{family}/{name}.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
    params:
        memory=MEMORY,
        # sequential MNIST: the input of a step is a class of its row
        inputs=lambda wildcards, input: (
            f"--inputs {MEMORY['mnist_target']} --data {os.path.dirname(input.mnist)}"
            f" --bins {MEMORY['mnist_bins']}"
            if wildcards.family == "mnist"
            else "--inputs token"
        ),
    shell:
        "rnnatlas memory-signature --states {input.states} --out {output}"
        " --family {wildcards.family} --model {wildcards.name}"
        " --max-lag {params.memory[max_lag]} --decoder {params.memory[decoder]}"
        " --max-samples '{params.memory[max_samples]}' --seed {params.memory[seed]}"
        " {params.inputs} --threads {threads} > {log} 2>&1"


rule memory_ngram:
    input:
        multiext(f"results/data/{TEXT8_DATASET}/", *TEXT8_SPLITS),
    output:
        "results/analysis/memory/text8/ngram{n}.parquet",
    log:
        "logs/analysis/memory/ngram{n}.log",
    wildcard_constraints:
        n=r"\d+",
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
    params:
        data=lambda wildcards, input: os.path.dirname(input[0]),
        memory=MEMORY,
    shell:
        "rnnatlas memory-ngram --data {params.data} --out {output} --n {wildcards.n}"
        " --max-lag {params.memory[max_lag]} --max-samples '{params.memory[max_samples]}'"
        " --characters {params.memory[ngram_characters]} --seed {params.memory[seed]}"
        " > {log} 2>&1"


rule memory_capacity:
    output:
        "results/analysis/memory/capacity.json",
    log:
        "logs/analysis/memory/capacity.log",
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        memory=MEMORY,
    shell:
        "rnnatlas memory-capacity --out {output} --units {params.memory[capacity_units]}"
        " --seed {params.memory[seed]} > {log} 2>&1"


rule memory_figures:
    input:
        memory_tables(),
    output:
        png=[
            report(
                f"results/figures/memory/{name}.png",
                caption="../report/memory.rst",
                category="Memory signatures (Koppula et al. 2018)",
            )
            for name in MEMORY_FIGURES
        ],
        svg=[f"results/figures/memory/{name}.svg" for name in MEMORY_FIGURES],
        table="results/figures/memory/memory_area.html",
    log:
        "logs/figures/memory.log",
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        out=lambda wildcards, output: os.path.dirname(output.table),
    shell:
        "rnnatlas memory-figures --out {params.out} {input} > {log} 2>&1"
