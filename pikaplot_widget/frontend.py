"""The widget's front end: jupyter_rfb's ESM, its wheel and frame waits shortened (js/quicken.js),
wrapped by our overlay (js/, built by esbuild into static/overlay.js)."""

from __future__ import annotations

from importlib.resources import files

# jupyter_rfb's classes that js/quicken.js adjusts (left alone where a release lacks them)
_RFB_CLASSES = ("AnywidgetRenderView", "RendercanvasAnywidgetModel")


def compose_esm(rfb_js: str) -> str:
    """One ESM: jupyter_rfb's front end `rfb_js`, quickened, wrapped by the overlay."""
    overlay = files("pikaplot_widget").joinpath("static/overlay.js").read_text()
    if rfb_js.count("export default") != 1:
        raise RuntimeError("unexpected jupyter_rfb front end: cannot wrap it")
    inner = rfb_js.replace("export default", "const rfbWidget =", 1)
    classes = ", ".join(name if f"class {name} " in rfb_js else "null" for name in _RFB_CLASSES)
    return (
        f"{inner}\n{overlay}\npikaplotOverlay.quicken({classes});\n"
        "export default pikaplotOverlay.wrap(rfbWidget);\n"
    )
