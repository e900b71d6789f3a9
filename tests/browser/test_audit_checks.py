"""The audit tools themselves, on small pages made to pass or fail: a check that cannot fail proves nothing."""

import urllib.parse

import pytest

from .audit import axe_violations, small_tap_targets

# Targets placed by hand (absolute positions, px), each named by its id.
TARGETS_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Targets</title>
<style>body { margin: 0; font: 16px/1.5 sans-serif; } .at { position: absolute; margin: 0; padding: 0; border: 0; }</style>
</head><body><main>
<button id="big" class="at" style="left: 10px; top: 10px; width: 24px; height: 24px">a</button>
<button id="crowded-1" class="at" style="left: 10px; top: 100px; width: 16px; height: 16px">b</button>
<button id="crowded-2" class="at" style="left: 30px; top: 100px; width: 16px; height: 16px">c</button>
<button id="spaced-1" class="at" style="left: 10px; top: 200px; width: 16px; height: 16px">d</button>
<button id="spaced-2" class="at" style="left: 40px; top: 200px; width: 16px; height: 16px">e</button>
<button id="near-big" class="at" style="left: 10px; top: 300px; width: 16px; height: 16px">f</button>
<button id="big-neighbour" class="at" style="left: 28px; top: 296px; width: 40px; height: 40px">g</button>
<p class="at" style="left: 10px; top: 400px; width: 300px">Read <a id="inline" href="#x">the rule</a>
   <a id="inline-next" href="#y">here</a> before you vote.</p>
<div class="at" style="left: 10px; top: 500px; line-height: 1.1"><a id="alone-1" href="#1">one</a><br><a id="alone-2" href="#2">two</a></div>
<div class="at" style="left: 10px; top: 600px"><input type="checkbox" id="box"><label for="box">Có mặt</label></div>
</main></body></html>"""


def _open(browser, html):
    browser.get("data:text/html;charset=utf-8," + urllib.parse.quote(html))


@pytest.mark.browser
def test_tap_target_check_applies_the_spacing_and_inline_exceptions_of_wcag_2_5_8(browser):
    _open(browser, TARGETS_PAGE)
    failing = {target["id"] for target in small_tap_targets(browser)}
    # 16 px buttons 4 px apart: their 24 px circles overlap, and each circle reaches the other button.
    # A 16 px button whose circle reaches a big neighbour 2 px away fails; the big one itself is fine.
    # Two links on lines of their own, 17.6 px apart (line-height 1.1): their circles overlap.
    assert failing == {"crowded-1", "crowded-2", "near-big", "alone-1", "alone-2"}
    # Not failing: 24 × 24; 16 px buttons 30 px apart (circles clear); links inside a sentence; the checkbox
    # with its label (one control), whose circle reaches nothing else.


@pytest.mark.browser
def test_axe_reports_a_page_made_to_fail_wcag_aa(browser):
    _open(
        browser,
        """<!doctype html><html><head><meta charset="utf-8"><title>Bad</title></head><body><main>
        <p style="color: #999; background: #fff">grey on white, 2.8:1</p><img src="data:,"><input type="text">
        </main></body></html>""",
    )
    rules = {violation["id"] for violation in axe_violations(browser)}
    assert {"color-contrast", "image-alt", "label", "html-has-lang"} <= rules
