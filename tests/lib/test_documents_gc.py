"""lib.documents.render_pdf pauses Python's cyclic garbage collector for the rendering (issue #20) and
leaves it as it found it."""

import gc

import pytest

from lib.documents import no_cyclic_gc, render_pdf


def _render() -> bytes:
    return render_pdf("documents/watermark.html", {"text": "MẬT", "width": "595.28", "height": "841.89"})


@pytest.fixture
def collections():
    """The generations collected while the test runs, with a threshold of 1 so that any allocation
    would set off a collection if the collector were on."""
    seen: list[int] = []

    def callback(phase, info):
        if phase == "start":
            seen.append(info["generation"])

    threshold = gc.get_threshold()
    gc.callbacks.append(callback)
    gc.set_threshold(1)
    yield seen
    gc.set_threshold(*threshold)
    gc.callbacks.remove(callback)


def test_no_collection_during_the_rendering_and_the_collector_is_back_after(collections):
    assert gc.isenabled()
    with no_cyclic_gc():
        collections.clear()  # those of the lines above, the collector still on
        pdf = _render()
        during = list(collections)
    assert pdf.startswith(b"%PDF") and during == []
    assert gc.isenabled()
    [object() for _ in range(10)]
    assert collections  # on again: the same threshold collects at once


def test_render_pdf_renders_with_the_collector_off(monkeypatch):
    """The real WeasyPrint rendering, watched: the collector is off while it runs, on again after."""
    from weasyprint import HTML

    write_pdf, seen = HTML.write_pdf, []

    def watched(self, *args, **kwargs):
        seen.append(gc.isenabled())
        return write_pdf(self, *args, **kwargs)

    monkeypatch.setattr(HTML, "write_pdf", watched)
    assert _render().startswith(b"%PDF")
    assert seen == [False] and gc.isenabled()


def test_left_off_when_it_was_off():
    gc.disable()
    try:
        _render()
        assert not gc.isenabled()
    finally:
        gc.enable()
