"""js/quicken.js on jupyter_rfb's own front-end classes (a bare page, no JupyterLab): a wheel event
leaves at once (jupyter_rfb holds each for 20 ms), the ones right after it are merged and sent
after the gap, and a frame's <img> source is set when its message arrives (not at the next
animation frame). Each case also runs unpatched, where it must come out the old way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jupyter_rfb.widget import JS as RFB_JS

from pikaplot_widget.frontend import compose_esm

pytestmark = pytest.mark.browser
BUNDLE = Path(__file__).resolve().parents[2] / "pikaplot_widget" / "static" / "overlay.js"

# jupyter_rfb's classes in a function scope, a fake anywidget model recording what is sent.
SETUP_JS = """
(quicken) => {
  const state = { css_width: '400px', css_height: '200px', resizable: true, has_titlebar: false,
                  title: '', cursor: 'default' };
  const anymodel = { handlers: {}, sent: [], state };
  anymodel.on = (name, cb) => { (anymodel.handlers[name] = anymodel.handlers[name] || []).push(cb) };
  anymodel.get = (key) => anymodel.state[key];
  anymodel.set = (key, value) => { anymodel.state[key] = value };
  anymodel.save_changes = () => {};
  anymodel.send = (content) => anymodel.sent.push({ content, t: performance.now() });
  const { View, Model } = window.__rfb;
  const patched = quicken ? pikaplotOverlay.quicken(View, Model) : null;
  const model = new Model(anymodel);
  const view = new View(model, document.getElementById('host'));
  window.__t = { anymodel, model, view, patched };
  return patched;
}
"""

WHEELS_JS = """
async () => {
  const { anymodel, view } = window.__t;
  await new Promise((r) => setTimeout(r, 100)); // resize/show events out of the way
  view._focusElement.focus();
  const wheels = () => anymodel.sent.filter((s) => s.content.type === 'wheel').map((s) => s.content.dy);
  const img = view.viewElement;
  for (const dy of [-100, -30, -20]) {
    img.dispatchEvent(new WheelEvent('wheel', { deltaY: dy, deltaMode: 0, clientX: 50, clientY: 40,
                                                bubbles: true, cancelable: true }));
  }
  const atOnce = wheels();
  await new Promise((r) => setTimeout(r, 120));
  return { atOnce, after: wheels() };
}
"""

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR42mOor68HAAL+AX6E2KOJAAAAAElFTkSuQmCC"  # 1x1
FRAME_JS = """
async () => {
  const { anymodel, view } = window.__t;
  for (let i = 0; i < 3; i++) await new Promise((r) => requestAnimationFrame(r)); // start-up frames done
  const png = Uint8Array.from(atob(PNG), (c) => c.charCodeAt(0));
  const before = view.viewElement.src;
  for (const cb of anymodel.handlers['msg:custom']) {
    const msg = { type: 'framebufferdata', mimetype: 'image/png', index: 1, timestamp: 0 };
    cb(msg, [new DataView(png.buffer)]);
  }
  const atOnce = view.viewElement.src !== before;
  await new Promise((r) => setTimeout(r, 100));
  return { atOnce, later: view.viewElement.src !== before };
}
"""


def _page(browser: Any, quicken: bool) -> tuple[Any, object]:
    page = browser.new_page()
    page.set_content("<html><body><div id='host' style='width:400px;height:200px'></div></body></html>")
    classes = "window.__rfb = { View: AnywidgetRenderView, Model: RendercanvasAnywidgetModel };"
    page.add_script_tag(content="(() => {\n" + RFB_JS.replace("export default", "const rfbWidget =", 1)
                        + "\n" + classes + "\n})();")  # fmt: skip
    page.add_script_tag(content=BUNDLE.read_text())
    return page, page.evaluate(SETUP_JS, quicken)


def test_the_widget_front_end_quickens_jupyter_rfb() -> None:
    assert "pikaplotOverlay.quicken(AnywidgetRenderView, RendercanvasAnywidgetModel);" in compose_esm(RFB_JS)


@pytest.mark.parametrize("quicken", [True, False])
def test_first_wheel_event_leaves_at_once_and_the_rest_merge(browser: Any, quicken: bool) -> None:
    page, patched = _page(browser, quicken)
    try:
        got = page.evaluate(WHEELS_JS)
    finally:
        page.close()
    if quicken:
        assert patched == {"wheel": True, "frames": True}
        assert got == {"atOnce": [-100], "after": [-100, -50]}
    else:  # jupyter_rfb alone: nothing at once, all three merged 20 ms later
        assert got == {"atOnce": [], "after": [-150]}


@pytest.mark.parametrize("quicken", [True, False])
def test_frame_source_is_set_when_its_message_arrives(browser: Any, quicken: bool) -> None:
    page, _ = _page(browser, quicken)
    try:
        got = page.evaluate(FRAME_JS.replace("PNG", repr(PNG)))
    finally:
        page.close()
    assert got == {"atOnce": quicken, "later": True}
