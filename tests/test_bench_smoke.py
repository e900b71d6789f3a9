"""The benchmark harness (bench/run.py) still runs end to end: tiny data set, one request per figure.

Speed is never asserted here (house style: the harness measures it); only that every page and
task it measures answers, and that query counts are recorded.
"""

import pytest

from bench import data, run


@pytest.mark.django_db
def test_bench_harness_measures_every_figure_on_a_tiny_data_set(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    scale = data.SCALES["tiny"]
    build = data.build(scale, log=lambda *args: None)
    assert build["counts"]["meetings"] > 0
    assert build["counts"]["meeting_scores"] > 0
    assert build["counts"]["annual_ratings"] > 0
    assert data.built(scale)["counts"]["counts"]["members"] == build["counts"]["members"]

    bench = run.Bench(repeat=1, warmup=0, task_repeat=1, reminder_members=20, breakdown=False, log=lambda *args: None)
    results = bench.run()
    run.judge(results, scale="tiny", baseline=None)

    assert [(r.name, r.note) for r in results if r.status == "error"] == []
    names = {r.name for r in results}
    assert {
        "login page",
        "Khối dashboard",
        "RSVP one-click page",
        "floor: bare view, anonymous",
        "floor: SQL aggregate over all attendance",
    } <= names
    for result in results:
        if result.status == "ok":
            assert len(result.samples_ms) >= 1
            assert result.queries is not None
    assert "median ms" in run.table(results)
