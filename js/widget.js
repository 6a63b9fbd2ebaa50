// pikaplot_widget front end: wraps jupyter_rfb's widget and adds an overlay inside the plot:
// progress bar for slow queries, notices, error badge, toolbar, hover tooltip, instant previews of
// zoom and pan, box zoom and selection. The kernel does all the querying; this code sends events
// (never SQL) and shows what it receives.
import { decodePoints } from './arrow.js'
import { Hover } from './hover.js'
import { Interaction } from './interact.js'
import { hideSnapshot } from './snapshot.js'
import { lookName, watchTheme } from './theme.js'
import { Toolbar } from './toolbar.js'

const PROGRESS_DELAY_MS = 150
const NOTICE_MS = 6000
const POINTS_WAIT_MS = 300 // the longest the points wait for their frame's image

// Colours come from variables: JupyterLab's own when the plot follows the notebook ("auto-…"),
// fixed ones matching the frame when the user chose a theme.
const STYLE = `
.pikaplot-overlay, .pikaplot-overlay[data-look="auto-light"] {
  --pk-bg: var(--jp-layout-color0, #ffffff); --pk-panel: var(--jp-layout-color1, #ffffff);
  --pk-fg: var(--jp-ui-font-color1, #333344); --pk-border: var(--jp-border-color1, #c9cfd8);
  --pk-accent: var(--jp-brand-color1, #1e66cc); --pk-active: var(--jp-layout-color3, #e3edfb);
  --pk-warn-bg: #fff4e0; --pk-warn-fg: #7a4b00; --pk-warn-border: #f0d29a;
  --pk-error-bg: #fdecea; --pk-error-fg: #8a1c1c; --pk-error-border: #f5c2c0; --pk-select: #c47a00; }
.pikaplot-overlay[data-look="auto-dark"] {
  --pk-bg: var(--jp-layout-color0, #111111); --pk-panel: var(--jp-layout-color1, #212121);
  --pk-fg: var(--jp-ui-font-color1, #dddddd); --pk-border: var(--jp-border-color1, #555555);
  --pk-accent: var(--jp-brand-color1, #5c9eff); --pk-active: var(--jp-layout-color3, #2c3e5c); }
.pikaplot-overlay[data-look="light"] { --pk-bg: #ffffff; --pk-panel: #ffffff; --pk-fg: #333344;
  --pk-border: #c9cfd8; --pk-accent: #1e66cc; --pk-active: #e3edfb; }
.pikaplot-overlay[data-look="dark"] { --pk-bg: #121214; --pk-panel: #222326; --pk-fg: #dddee2;
  --pk-border: #55585e; --pk-accent: #5c9eff; --pk-active: #2c3e5c; }
.pikaplot-overlay[data-look$="dark"] { --pk-warn-bg: #3d2e10; --pk-warn-fg: #ffd89a; --pk-warn-border: #7a5a1c;
  --pk-error-bg: #3d1716; --pk-error-fg: #ffb4ae; --pk-error-border: #7a2e2a; --pk-select: #f0a030; }
.pikaplot-overlay { position: absolute; inset: 0; pointer-events: none; font: 12px system-ui, sans-serif; }
.pikaplot-progress { position: absolute; left: 0; right: 0; top: 0; display: none; }
.pikaplot-progress-track { height: 3px; background: color-mix(in srgb, var(--pk-accent) 15%, transparent); }
.pikaplot-progress-fill { height: 3px; width: 0%; background: var(--pk-accent); transition: width 80ms linear; }
.pikaplot-progress-label { position: absolute; right: 6px; top: 5px; padding: 1px 6px; border-radius: 3px;
  background: color-mix(in srgb, var(--pk-panel) 85%, transparent); color: var(--pk-fg); }
.pikaplot-notice { position: absolute; left: 8px; top: 8px; display: none; padding: 2px 8px; border-radius: 3px;
  background: var(--pk-warn-bg); color: var(--pk-warn-fg); border: 1px solid var(--pk-warn-border); }
.pikaplot-overlay { overflow: hidden; }
.pikaplot-preview { position: absolute; display: none;
  box-shadow: 0 0 0 4000px color-mix(in srgb, var(--pk-bg) 55%, transparent); }
.pikaplot-band { position: absolute; display: none; border: 1px dashed var(--pk-accent);
  background: color-mix(in srgb, var(--pk-accent) 10%, transparent); }
.pikaplot-band[data-mode="select"] { border-color: var(--pk-select);
  background: color-mix(in srgb, var(--pk-select) 12%, transparent); }
.pikaplot-tooltip { position: absolute; display: none; padding: 4px 7px; border-radius: 4px; white-space: nowrap;
  background: color-mix(in srgb, var(--pk-panel) 95%, transparent); color: var(--pk-fg);
  border: 1px solid var(--pk-border); box-shadow: 0 1px 3px rgba(0,0,0,.15);
  font: 11px/1.35 ui-monospace, SFMono-Regular, Menlo, monospace; z-index: 3; max-width: 420px; overflow: hidden; }
.pikaplot-lasso { position: absolute; left: 0; top: 0; display: none; pointer-events: none; overflow: visible; }
.pikaplot-lasso polyline { fill: color-mix(in srgb, var(--pk-select) 10%, transparent); stroke: var(--pk-select);
  stroke-width: 1.5; stroke-dasharray: 4 3; }
.pikaplot-hint { position: absolute; right: 8px; bottom: 8px; display: none; padding: 2px 8px; border-radius: 3px;
  background: color-mix(in srgb, var(--pk-fg) 85%, transparent); color: var(--pk-bg); }
.pikaplot-toolbar { position: absolute; right: 6px; top: 28px; display: flex; flex-direction: column; gap: 2px;
  pointer-events: auto; opacity: 0.35; transition: opacity 120ms; z-index: 2; }
.pikaplot-overlay:hover .pikaplot-toolbar, .pikaplot-toolbar:hover { opacity: 1; }
.pikaplot-toolbar button { width: 22px; height: 22px; padding: 0; border: 1px solid var(--pk-border); border-radius: 3px;
  background: var(--pk-panel); color: var(--pk-fg); font-size: 13px; line-height: 20px; cursor: pointer; }
.pikaplot-toolbar button.active { background: var(--pk-active); border-color: var(--pk-accent); }
.pikaplot-error { position: absolute; left: 8px; right: 8px; top: 30px; display: none; padding: 6px 8px;
  border-radius: 4px; background: var(--pk-error-bg); color: var(--pk-error-fg); border: 1px solid var(--pk-error-border);
  white-space: pre-wrap; max-height: 40%; overflow: auto; pointer-events: auto; }
`

function injectStyle () {
  if (document.getElementById('pikaplot-style')) return
  const style = document.createElement('style')
  style.id = 'pikaplot-style'
  style.textContent = STYLE
  document.head.appendChild(style)
}

function element (tag, className, parent) {
  const el = document.createElement(tag)
  el.className = className
  if (parent) parent.appendChild(el)
  return el
}

class Overlay {
  constructor (model, host) {
    this.model = model
    this.cleanups = []
    this.mode = 'pan'
    this.root = element('div', 'pikaplot-overlay')
    this.progress = element('div', 'pikaplot-progress', this.root)
    const track = element('div', 'pikaplot-progress-track', this.progress)
    this.fill = element('div', 'pikaplot-progress-fill', track)
    this.label = element('div', 'pikaplot-progress-label', this.progress)
    this.error = element('div', 'pikaplot-error', this.root)
    this.notice = element('div', 'pikaplot-notice', this.root)
    this.noticeTimer = null
    this.timer = null
    this.querySince = null
    const wrapper = host.querySelector('.renderview-wrapper') || host
    wrapper.appendChild(this.root)
    this.img = wrapper.querySelector('img.renderview-view')
    this.interaction = new Interaction(this)
    this.hover = new Hover(this)
    this.toolbar = new Toolbar(this)
    if (this.img) {
      this.interaction.attach(this.img, wrapper)
      const onMove = (ev) => { if (!ev.buttons && !this.interaction.box) this.hover.move(ev.offsetX, ev.offsetY) }
      const onLeave = () => this.hover.hide()
      this.img.addEventListener('pointermove', onMove)
      this.img.addEventListener('pointerleave', onLeave)
      this.cleanups.push(() => { this.img.removeEventListener('pointermove', onMove); this.img.removeEventListener('pointerleave', onLeave) })
    }
    this.onMessage = (msg, buffers) => this.message(msg, buffers)
    model.on('msg:custom', this.onMessage)
    this.onStatus = () => this.update()
    model.on('change:status', this.onStatus)
    model.on('change:progress', this.onStatus)
    this.onNotice = () => this.showNotice()
    model.on('change:notice', this.onNotice)
    this.showNotice() // one set before the plot was shown (e.g. series left out by by=)
    this.onLook = () => { this.root.dataset.look = lookName(model.get('_look')) }
    model.on('change:_look', this.onLook)
    this.onLook()
    this.cleanups.push(watchTheme((dark) => this.send({ type: 'pikaplot_theme', dark })))
    this.update()
  }

  send (content) {
    try { this.model.send(content) } catch (e) { /* the widget is closing */ }
  }

  hideTooltip () { this.hover.hide() }

  message (msg, buffers) {
    if (!msg || typeof msg.type !== 'string') return
    if (msg.type === 'pikaplot_points') {
      this.pointsWhenShown(msg, buffers)
    } else if (msg.type === 'pikaplot_pick') {
      this.hover.answer(msg)
    }
  }

  // The kernel sends a frame, then its drawn points: while that frame's <img> still loads, its
  // load (and paint) goes first, the Arrow decoding and the hover index after it.
  pointsWhenShown (msg, buffers) {
    const img = this.img
    clearTimeout(this.pointsTimer)
    if (this.pointsWait) this.pointsWait()
    this.pointsWait = null
    if (!img || img.complete) {
      this.points(msg, buffers)
      return
    }
    const done = () => {
      clearTimeout(this.pointsTimer)
      img.removeEventListener('load', done)
      img.removeEventListener('error', done)
      this.pointsWait = null
      this.points(msg, buffers)
    }
    img.addEventListener('load', done)
    img.addEventListener('error', done)
    this.pointsWait = () => { img.removeEventListener('load', done); img.removeEventListener('error', done) }
    this.pointsTimer = setTimeout(done, POINTS_WAIT_MS)
  }

  points (msg, buffers) {
    let decoded = null
    let groups = null
    if (msg.sent && buffers && buffers.length) {
      try {
        decoded = decodePoints(buffers[0])
        groups = buffers.length > 1 ? decodePoints(buffers[1]) : null
      } catch (e) { decoded = null }
    }
    this.root.dataset.frame = String(msg.frame)
    this.root.dataset.area = JSON.stringify(msg.area || null)
    this.root.dataset.xRange = JSON.stringify(msg.x_range || null)
    this.root.dataset.yRange = JSON.stringify(msg.y_range || null)
    this.root.dataset.points = String(decoded ? decoded.count : 0)
    this.hover.setPoints(msg, decoded, groups)
    this.toolbar.showLasso(Boolean(msg.both_axes))
    this.interaction.exactFrame(msg)
  }

  showNotice () {
    const text = this.model.get('notice') || ''
    this.notice.textContent = text
    this.notice.style.display = text ? 'block' : 'none'
    clearTimeout(this.noticeTimer)
    if (text) this.noticeTimer = setTimeout(() => { this.notice.style.display = 'none' }, NOTICE_MS)
  }

  update () {
    const status = this.model.get('status') || 'idle'
    const progress = Number(this.model.get('progress') || 0)
    const busy = status === 'querying' || status === 'rendering'
    if (busy && this.querySince === null) {
      this.querySince = performance.now()
      this.timer = setTimeout(() => this.update(), PROGRESS_DELAY_MS)
    } else if (!busy) {
      this.querySince = null
      clearTimeout(this.timer)
    }
    const show = busy && this.querySince !== null && performance.now() - this.querySince >= PROGRESS_DELAY_MS
    this.progress.style.display = show ? 'block' : 'none'
    this.root.dataset.status = status
    if (show) {
      const percent = Math.round(Math.min(Math.max(progress, 0), 1) * 100)
      this.fill.style.width = `${percent}%`
      this.label.textContent = status === 'rendering' ? 'Rendering…' : `Querying… ${percent}%`
    }
    const isError = status.startsWith('error:')
    this.error.style.display = isError ? 'block' : 'none'
    this.error.textContent = isError ? status.slice('error:'.length).trim() : ''
  }

  dispose () {
    for (const cleanup of this.cleanups) cleanup()
    clearTimeout(this.interaction.hintTimer)
    this.hover.hide()
    this.model.off('msg:custom', this.onMessage)
    clearTimeout(this.timer)
    clearTimeout(this.noticeTimer)
    clearTimeout(this.pointsTimer)
    if (this.pointsWait) this.pointsWait()
    this.model.off('change:notice', this.onNotice)
    this.model.off('change:_look', this.onLook)
    this.model.off('change:status', this.onStatus)
    this.model.off('change:progress', this.onStatus)
    this.root.remove()
  }
}

export function wrap (rfbWidget) {
  return () => {
    const inner = rfbWidget()
    return {
      initialize (ctx) {
        injectStyle()
        return inner.initialize(ctx)
      },
      render (ctx) {
        const cleanup = inner.render(ctx)
        const overlay = new Overlay(ctx.model, ctx.el)
        const unhide = hideSnapshot(ctx.model, ctx.el)
        // The kernel counts the views: with none left (cell re-run or cleared) it frees the plot's
        // heavy state after a grace period, and rebuilds it when a view comes back.
        ctx.model.send({ type: 'pikaplot_view', shown: true })
        return () => {
          overlay.dispose()
          unhide()
          try { ctx.model.send({ type: 'pikaplot_view', shown: false }) } catch (e) { /* comm gone */ }
          if (typeof cleanup === 'function') cleanup()
        }
      }
    }
  }
}

export { quicken, leadingWheel } from './quicken.js' // applied to jupyter_rfb's classes (frontend.py)
export { PointIndex } from './spatial.js' // the same rule as core/spatial.py (tested against it)
export { number, time } from './format.js' // the tooltip's formats (tested against zoneinfo)
export { Hover } // its text for log axes and time zones is tested in a bare page
