var pikaplotOverlay = (() => {
  var __defProp = Object.defineProperty;
  var __getOwnPropDesc = Object.getOwnPropertyDescriptor;
  var __getOwnPropNames = Object.getOwnPropertyNames;
  var __hasOwnProp = Object.prototype.hasOwnProperty;
  var __export = (target, all) => {
    for (var name in all)
      __defProp(target, name, { get: all[name], enumerable: true });
  };
  var __copyProps = (to, from, except, desc) => {
    if (from && typeof from === "object" || typeof from === "function") {
      for (let key of __getOwnPropNames(from))
        if (!__hasOwnProp.call(to, key) && key !== except)
          __defProp(to, key, { get: () => from[key], enumerable: !(desc = __getOwnPropDesc(from, key)) || desc.enumerable });
    }
    return to;
  };
  var __toCommonJS = (mod) => __copyProps(__defProp({}, "__esModule", { value: true }), mod);

  // js/widget.js
  var widget_exports = {};
  __export(widget_exports, {
    wrap: () => wrap
  });
  var PROGRESS_DELAY_MS = 150;
  var NOTICE_MS = 6e3;
  var STYLE = `
.pikaplot-overlay { position: absolute; inset: 0; pointer-events: none; font: 12px system-ui, sans-serif; }
.pikaplot-progress { position: absolute; left: 0; right: 0; top: 0; display: none; }
.pikaplot-progress-track { height: 3px; background: rgba(30, 100, 200, 0.15); }
.pikaplot-progress-fill { height: 3px; width: 0%; background: #1e66cc; transition: width 80ms linear; }
.pikaplot-progress-label { position: absolute; right: 6px; top: 5px; padding: 1px 6px; border-radius: 3px;
  background: rgba(255, 255, 255, 0.85); color: #334; }
.pikaplot-notice { position: absolute; left: 8px; top: 8px; display: none; padding: 2px 8px; border-radius: 3px;
  background: #fff4e0; color: #7a4b00; border: 1px solid #f0d29a; }
.pikaplot-error { position: absolute; left: 8px; right: 8px; top: 30px; display: none; padding: 6px 8px;
  border-radius: 4px; background: #fdecea; color: #8a1c1c; border: 1px solid #f5c2c0; white-space: pre-wrap;
  max-height: 40%; overflow: auto; pointer-events: auto; }
`;
  function injectStyle() {
    if (document.getElementById("pikaplot-style")) return;
    const style = document.createElement("style");
    style.id = "pikaplot-style";
    style.textContent = STYLE;
    document.head.appendChild(style);
  }
  function element(tag, className, parent) {
    const el = document.createElement(tag);
    el.className = className;
    if (parent) parent.appendChild(el);
    return el;
  }
  var Overlay = class {
    constructor(model, host) {
      this.model = model;
      this.root = element("div", "pikaplot-overlay");
      this.progress = element("div", "pikaplot-progress", this.root);
      const track = element("div", "pikaplot-progress-track", this.progress);
      this.fill = element("div", "pikaplot-progress-fill", track);
      this.label = element("div", "pikaplot-progress-label", this.progress);
      this.error = element("div", "pikaplot-error", this.root);
      this.notice = element("div", "pikaplot-notice", this.root);
      this.noticeTimer = null;
      this.timer = null;
      this.querySince = null;
      const wrapper = host.querySelector(".renderview-wrapper") || host;
      wrapper.appendChild(this.root);
      this.onStatus = () => this.update();
      model.on("change:status", this.onStatus);
      model.on("change:progress", this.onStatus);
      this.onNotice = () => this.showNotice();
      model.on("change:notice", this.onNotice);
      this.update();
    }
    showNotice() {
      const text = this.model.get("notice") || "";
      this.notice.textContent = text;
      this.notice.style.display = text ? "block" : "none";
      clearTimeout(this.noticeTimer);
      if (text) this.noticeTimer = setTimeout(() => {
        this.notice.style.display = "none";
      }, NOTICE_MS);
    }
    update() {
      const status = this.model.get("status") || "idle";
      const progress = Number(this.model.get("progress") || 0);
      const busy = status === "querying" || status === "rendering";
      if (busy && this.querySince === null) {
        this.querySince = performance.now();
        this.timer = setTimeout(() => this.update(), PROGRESS_DELAY_MS);
      } else if (!busy) {
        this.querySince = null;
        clearTimeout(this.timer);
      }
      const show = busy && this.querySince !== null && performance.now() - this.querySince >= PROGRESS_DELAY_MS;
      this.progress.style.display = show ? "block" : "none";
      this.root.dataset.status = status;
      if (show) {
        const percent = Math.round(Math.min(Math.max(progress, 0), 1) * 100);
        this.fill.style.width = `${percent}%`;
        this.label.textContent = status === "rendering" ? "Rendering\u2026" : `Querying\u2026 ${percent}%`;
      }
      const isError = status.startsWith("error:");
      this.error.style.display = isError ? "block" : "none";
      this.error.textContent = isError ? status.slice("error:".length).trim() : "";
    }
    dispose() {
      clearTimeout(this.timer);
      clearTimeout(this.noticeTimer);
      this.model.off("change:notice", this.onNotice);
      this.model.off("change:status", this.onStatus);
      this.model.off("change:progress", this.onStatus);
      this.root.remove();
    }
  };
  function wrap(rfbWidget) {
    return () => {
      const inner = rfbWidget();
      return {
        initialize(ctx) {
          injectStyle();
          return inner.initialize(ctx);
        },
        render(ctx) {
          const cleanup = inner.render(ctx);
          const overlay = new Overlay(ctx.model, ctx.el);
          ctx.model.send({ type: "pikaplot_view", shown: true });
          return () => {
            overlay.dispose();
            try {
              ctx.model.send({ type: "pikaplot_view", shown: false });
            } catch (e) {
            }
            if (typeof cleanup === "function") cleanup();
          };
        }
      };
    };
  }
  return __toCommonJS(widget_exports);
})();
