# The report: every registered paper's section (rule <paper>_section, in the paper's rule
# file) and claims, assembled into one page.


rule report:
    input:
        claims=expand("results/report/{paper}/claims.json", paper=PAPER_NAMES),
        sections=expand("results/report/{paper}/section.html", paper=PAPER_NAMES),
        records=RECORDED_RUNS,
    output:
        html=report(
            REPORT_PAGE,
            caption="../report/index.rst",
            category="Report",
        ),
        claims="results/report/claims.json",
    log:
        "logs/report.log",
    benchmark:
        "results/benchmarks/report.tsv"
    conda:
        "../../envs/rnnatlas.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        scale=config["scale"],
    script:
        "../scripts/step.py"
