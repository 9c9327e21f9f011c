"""The generic rule entry: a rule's name finds its step function; the job carries its files."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rnnatlas.step import Files, make_job, run_job, step_function


def test_rule_names_find_their_step_functions():
    from rnnatlas.papers.csl import steps as csl_steps
    from rnnatlas.papers.mnist import section as mnist_section
    from rnnatlas.report import steps as report_steps

    assert step_function("csl_bag_of_words") is csl_steps.bag_of_words
    assert step_function("mnist_section") is mnist_section.section
    assert step_function("report") is report_steps.report


def test_unknown_rules_are_refused_with_the_module_named():
    with pytest.raises(LookupError, match="rnnatlas.papers.csl.steps has no step function"):
        step_function("csl_no_such_step")
    with pytest.raises(LookupError, match="no step module rnnatlas.papers.nopaper.steps"):
        step_function("nopaper_train")


def test_files_are_paths_by_position_and_by_name():
    files = Files(["a/x.parquet", "b/y.json"], {"table": "a/x.parquet", "many": ["c", "d"]})
    assert files[1] == Path("b/y.json")
    assert files.table == Path("a/x.parquet") and files.many == [Path("c"), Path("d")]
    with pytest.raises(AttributeError, match="no file named 'card'"):
        _ = files.card


def test_report_assembles_the_sections_in_order(tmp_path):
    inputs = {"claims": [], "sections": []}
    for name, verdict in (("one", "reproduced"), ("two", "not reproduced")):
        claims = tmp_path / name / "claims.json"
        claims.parent.mkdir()
        record = {"id": f"{name}.x", "kind": "claim", "alias_of": None, "what": "w",
                  "paper_value": 1, "value": 2, "tolerance": None, "unit": "", "verdict": verdict,
                  "scale": "ci", "checkable_at": [], "detail": "", "source": ""}  # fmt: skip
        claims.write_text(json.dumps([record]))
        section = tmp_path / name / "section.html"
        section.write_text(
            f"<section id='{name}'>\n<h2>Paper {name}</h2>{name.upper()} BODY</section>"
        )
        inputs["claims"].append(claims)
        inputs["sections"].append(section)
    out = {"html": tmp_path / "index.html", "claims": tmp_path / "claims.json"}
    run_job(make_job("report", inputs, out, params={"scale": "ci"}, log=tmp_path / "log.txt"))
    page = out["html"].read_text()
    # summary, contents and claims first, then the sections in order
    assert page.index("Summary") < page.index("claims-table") < page.index("ONE BODY")
    assert page.index("ONE BODY") < page.index("TWO BODY")
    assert "<a href='#one'>Paper one</a>" in page and "<a href='#two'>Paper two</a>" in page
    records = json.loads(out["claims"].read_text())
    assert [(c["id"], c["section"]) for c in records] == [("one.x", "one"), ("two.x", "two")]


def test_a_failing_step_says_why_in_one_line_and_logs_the_traceback(tmp_path):
    # the step runs in a child process: the entry redirects the process's output to the log
    script = textwrap.dedent(
        f"""
        from rnnatlas.step import make_job, run_job
        run_job(make_job("report", {{"claims": ["{tmp_path}/missing.json"], "sections": []}},
                         {{"html": "{tmp_path}/i.html", "claims": "{tmp_path}/c.json"}},
                         params={{"scale": "ci"}}, log="{tmp_path}/log.txt"))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 1
    assert "rule report: error:" in done.stderr and "one claims.json" in done.stderr
    assert "Traceback" in (tmp_path / "log.txt").read_text()
    assert not (tmp_path / "i.html").exists()


def test_a_section_checks_its_claims_and_wraps_its_body(tmp_path):
    from rnnatlas.report.claims import NOT_CHECKED, REPRODUCED, Claim, Outcome
    from rnnatlas.report.section import page_dir, write_section

    def claim(name, needs):
        return Claim(
            id=f"toy.{name}", paper="Toy 2024", what="a count", paper_value=3, unit="",
            source="[text]", requires=lambda config: None if config[needs] else f"no {needs}",
            evaluate=lambda tables, config: Outcome(tables["count"], REPRODUCED, 0, "equal"),
        )  # fmt: skip

    config = {"scale": "ci", "big": False, "small": True}
    presets = {"ci": config, "paper": {"scale": "paper", "big": True, "small": True}}
    job = make_job(
        "toy_section",
        output={"claims": tmp_path / "toy/claims.json", "html": tmp_path / "toy/section.html",
                "figures": tmp_path / "toy/figures"},
        params={"config": config, "presets": presets, "title": "Toy & al.",
                "page": "results/report/index.html"},
    )  # fmt: skip
    records = write_section(job, [claim("small", "small"), claim("big", "big")], {"count": 3}, "B")
    # not checkable here: our value is still shown, without a verdict
    assert [(r["verdict"], r["value"]) for r in records] == [(REPRODUCED, 3), (NOT_CHECKED, 3)]
    assert records[1]["detail"] == "no big" and records[1]["checkable_at"] == ["paper"]
    assert json.loads(job.output.claims.read_text()) == records
    html = job.output.html.read_text()
    assert html.startswith("<section id='toy'>") and "<h2>Toy &amp; al.</h2>" in html
    assert page_dir(job) == Path("results/report")


def test_a_download_that_no_mirror_delivers_is_reported_not_traced(tmp_path):
    # every mirror down: the rule's console line says what to do; no traceback on the console
    script = textwrap.dedent(
        f"""
        import rnnatlas.download as download
        from rnnatlas.papers.mnist import data
        from rnnatlas.step import make_job, run_job

        def offline(urls, dest, **checks):
            raise download.DownloadError(f"could not download {{dest}}; every mirror failed")

        data.fetch = offline
        files = {{key: "{tmp_path}/" + key for key in data.MNIST_FILES}}
        run_job(make_job("mnist_download", output=files, log="{tmp_path}/log.txt"))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 1
    assert "rule mnist_download: error: could not download" in done.stderr
    assert "Traceback" not in done.stderr
    assert "Traceback" in (tmp_path / "log.txt").read_text()
