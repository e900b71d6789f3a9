"""Each dashboard target is one declaration (reports.targets): its counts, its drill-down and its words."""

from types import SimpleNamespace

from reports import drilldown
from reports.targets import targets


def test_every_target_declares_its_numerator_denominator_and_drill_down():
    target_list = targets([SimpleNamespace(pk=7, name="Quy chế làm việc")])
    assert len({t.code for t in target_list}) == len(target_list)
    for target in target_list:
        assert target.num and target.den, target.code
        assert target.drill and drilldown.drill_title(
            target.drill, target.drill_params, period=drilldown.Period(2026)
        ), target.code
    document = next(t for t in target_list if t.code == "doc_7")
    assert (document.num, document.den, document.drill_params) == ("doc_7", "cells", {"type": 7})
    assert {t.code: t.pending for t in target_list if t.pending} == {
        "regular_months": "regular_pending",
        "thematic_quarters": "thematic_pending",
        "forum_cells": "forum_pending",
        "visit_quarters": "visits_pending",
    }
