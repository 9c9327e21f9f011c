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
        # sequential MNIST: the input of a step is a class of its row
        mnist=lambda wildcards: MEMORY_MNIST_TEST if wildcards.family == "mnist" else [],
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
    script:
        "../scripts/step.py"


rule memory_ngram:
    input:
        train=TEXT8_DATA["train"],
        test=TEXT8_DATA["test"],
    output:
        "results/analysis/memory/text8/ngram{n}.parquet",
    log:
        "logs/analysis/memory/ngram{n}.log",
    benchmark:
        "results/benchmarks/analysis/memory/ngram{n}.tsv"
    wildcard_constraints:
        n=r"\d+",
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
    params:
        memory=MEMORY,
    script:
        "../scripts/step.py"


rule memory_capacity:
    output:
        "results/analysis/memory/capacity.json",
    log:
        "logs/analysis/memory/capacity.log",
    benchmark:
        "results/benchmarks/analysis/memory/capacity.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        memory=MEMORY,
    script:
        "../scripts/step.py"


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
    benchmark:
        "results/benchmarks/figures/memory.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/step.py"


# This paper's part of the report: its claims checked, its HTML section.
rule memory_section:
    input:
        signatures=memory_tables(),
        capacity="results/analysis/memory/capacity.json",
        figures=rules.memory_figures.output,
    output:
        claims="results/report/memory/claims.json",
        html="results/report/memory/section.html",
        # the figures it shows, copied beside the page: the report folder moves as a whole
        figures=directory("results/report/memory/figures"),
    log:
        "logs/report/memory.log",
    benchmark:
        "results/benchmarks/report/memory.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        config=config,
        presets=PRESETS,
        title=registry.paper("memory").title,
        page=REPORT_PAGE,
    script:
        "../scripts/step.py"
