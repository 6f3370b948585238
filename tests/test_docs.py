"""The documents that describe the code stay true to it: bench/RESULTS.md is what the runs in
bench/results/ give (it is generated, never edited)."""

from bench import results


def test_results_page_is_what_the_runs_give():
    assert results.PAGE.read_text() == results.page(results.load()), "run `python -m bench.results`"


def test_every_run_says_when_where_and_how():
    for run in results.load():
        assert run["date"] and run["commit"] and run["command"], run["file"]
        assert run["machine"]["cores"], run["file"]
        assert run["tables"], f"{run['file']}: no table for bench/RESULTS.md"
