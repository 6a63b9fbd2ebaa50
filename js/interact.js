// Instant feedback in the browser: the last exact frame, scaled and moved at once on wheel or drag
// (clipped to the plot area, axes faded) until the kernel's exact frame replaces it; Ctrl/⌘ + wheel
// without focus; box zoom / box select by dragging a rubber band.

const WHEEL_ZOOM_PER_PIXEL = 1 / 600 // the kernel's rule (interaction.py)
const MIN_BOX_PX = 4
const MAX_LASSO_POINTS = 64 // the kernel accepts up to 256; fewer keep the SQL short
const SVG = 'http://www.w3.org/2000/svg'

export class Interaction {
  constructor (overlay) {
    this.overlay = overlay
    this.meta = null // what the last exact frame showed: area (CSS px), x_range, y_range, both_axes
    this.pendingMeta = null // an exact frame announced, its image not yet loaded
    this.snapshot = document.createElement('canvas') // the last exact frame, for previews
    this.view = null // the view the preview shows: { x: [lo, hi], y: [lo, hi] }
    this.drag = null
    this.box = null
    this.focusElement = null
    this.previewAt = 0
    this.wheelAt = 0
    const root = overlay.root
    this.canvas = element('canvas', 'pikaplot-preview', root)
    this.band = element('div', 'pikaplot-band', root)
    this.lasso = null
    this.lassoPath = document.createElementNS(SVG, 'svg')
    this.lassoPath.setAttribute('class', 'pikaplot-lasso')
    this.lassoLine = document.createElementNS(SVG, 'polyline')
    this.lassoPath.appendChild(this.lassoLine)
    root.appendChild(this.lassoPath)
    this.hint = element('div', 'pikaplot-hint', root)
    this.hint.textContent = 'Click the plot, then scroll to zoom · Ctrl+scroll zooms now'
  }

  attach (img, wrapper) {
    this.img = img
    const on = (target, type, handler, options) => {
      target.addEventListener(type, handler, options)
      this.overlay.cleanups.push(() => target.removeEventListener(type, handler, options))
    }
    on(img, 'load', () => this.frameLoaded())
    on(img, 'pointerdown', () => { this.focusElement = document.activeElement })
    on(wrapper, 'pointerdown', (ev) => this.pointerDown(ev), { capture: true })
    on(window, 'pointermove', (ev) => this.pointerMove(ev))
    on(window, 'pointerup', (ev) => this.pointerUp(ev))
    on(wrapper, 'wheel', (ev) => this.wheel(ev), { passive: false })
    on(img, 'pointerenter', () => this.showHint())
  }

  focused () {
    return this.focusElement !== null && document.activeElement === this.focusElement
  }

  // ---- exact frames --------------------------------------------------------------------------
  exactFrame (meta) {
    this.pendingMeta = meta
    if (this.img && this.img.complete && this.img.naturalWidth > 1) this.frameLoaded()
  }

  frameLoaded () {
    if (this.pendingMeta === null) return
    const img = this.img
    this.snapshot.width = img.naturalWidth
    this.snapshot.height = img.naturalHeight
    this.snapshot.getContext('2d').drawImage(img, 0, 0)
    this.meta = this.pendingMeta
    this.pendingMeta = null
    this.view = null
    this.canvas.style.display = 'none'
    this.overlay.root.classList.remove('pikaplot-previewing')
  }

  // ---- coordinates ---------------------------------------------------------------------------
  local (ev) { // CSS pixels relative to the frame's top-left corner (the image's content box)
    const rect = this.img.getBoundingClientRect()
    return [ev.clientX - rect.left - this.img.clientLeft, ev.clientY - rect.top - this.img.clientTop]
  }

  inArea (x, y) {
    const a = this.meta && this.meta.area
    return a && x >= a[0] && x <= a[0] + a[2] && y >= a[1] && y <= a[1] + a[3]
  }

  // ---- wheel -----------------------------------------------------------------------------------
  wheel (ev) {
    const focused = this.focused()
    const modified = ev.ctrlKey || ev.metaKey
    if (!focused && !modified) return // the page scrolls: never hijacked
    const scale = [1 / window.devicePixelRatio, 16, 600][ev.deltaMode] || 1
    const dy = ev.deltaY * scale
    const [x, y] = this.local(ev)
    this.wheelAt = ev.timeStamp // same clock as performance.now()
    if (!focused) { // jupyter_rfb ignores the wheel without focus: send it ourselves
      ev.preventDefault()
      this.overlay.send({
        type: 'wheel', x, y, dx: ev.deltaX * scale, dy, buttons: [],
        modifiers: ev.shiftKey ? ['Shift'] : [], timestamp: performance.now() / 1000
      })
    }
    this.zoomPreview(x, y, dy, ev.shiftKey)
  }

  zoomPreview (x, y, dy, shift) {
    const meta = this.meta
    if (!meta || !meta.area) return
    const view = this.view || { x: [...meta.x_range], y: [...meta.y_range] }
    const factor = 2 ** (dy * WHEEL_ZOOM_PER_PIXEL)
    if (!Number.isFinite(factor) || factor === 1) return
    const [left, top, width, height] = meta.area
    const overY = x < left && y >= top && y <= top + height
    const overX = y > top + height && x >= left && x <= left + width
    const ax = view.x[0] + (x - left) / width * (view.x[1] - view.x[0])
    const ay = view.y[1] - (y - top) / height * (view.y[1] - view.y[0])
    const zoom = (r, a) => [a - (a - r[0]) * factor, a + (r[1] - a) * factor]
    if (shift || overY) view.y = zoom(view.y, ay)
    else if (meta.both_axes && !overX) { view.x = zoom(view.x, ax); view.y = zoom(view.y, ay) } else view.x = zoom(view.x, ax)
    this.view = view
    this.draw()
  }

  // ---- drag: pan (jupyter_rfb sends it to the kernel) or a box (ours alone) ------------------
  pointerDown (ev) {
    if (!this.meta || ev.button !== 0) return
    if (ev.target && ev.target.closest && ev.target.closest('.pikaplot-toolbar')) return // a button
    const [x, y] = this.local(ev)
    if (!this.inArea(x, y)) return
    const mode = ev.shiftKey ? 'zoom' : this.overlay.mode
    if (mode === 'lasso') {
      ev.stopPropagation()
      ev.preventDefault()
      this.lasso = [[x, y]]
      this.showLasso()
      return
    }
    if (mode === 'zoom' || mode === 'select') {
      ev.stopPropagation() // jupyter_rfb must not pan while a box is dragged
      ev.preventDefault()
      this.box = { mode, x0: x, y0: y, x1: x, y1: y }
      this.showBand()
      return
    }
    this.drag = { x, y, view: this.view || { x: [...this.meta.x_range], y: [...this.meta.y_range] } }
  }

  pointerMove (ev) {
    if (this.lasso) {
      if (!(ev.buttons & 1)) { this.pointerUp(); return } // released outside the window
      this.lasso.push(this.local(ev))
      this.showLasso()
    } else if (this.box) {
      const [x, y] = this.local(ev)
      this.box.x1 = x
      this.box.y1 = y
      this.showBand()
    } else if (this.drag && ev.buttons & 1) {
      const [x, y] = this.local(ev)
      const [, , width, height] = this.meta.area
      const start = this.drag.view
      const dx = (x - this.drag.x) / width * (start.x[1] - start.x[0])
      const dy = (y - this.drag.y) / height * (start.y[1] - start.y[0])
      this.view = { x: [start.x[0] - dx, start.x[1] - dx], y: this.meta.both_axes ? [start.y[0] + dy, start.y[1] + dy] : [...start.y] }
      this.draw()
    }
  }

  pointerUp () {
    this.drag = null
    if (this.lasso) {
      const points = this.lasso
      this.lasso = null
      this.lassoPath.style.display = 'none'
      if (points.length >= 3) {
        const step = Math.ceil(points.length / MAX_LASSO_POINTS)
        const kept = points.filter((_, i) => i % step === 0)
        if (kept.length >= 3) this.overlay.send({ type: 'pikaplot_lasso', points: kept })
      } else {
        this.overlay.send({ type: 'pikaplot_clear_selection' })
      }
      return
    }
    const box = this.box
    if (!box) return
    this.box = null
    this.band.style.display = 'none'
    if (Math.abs(box.x1 - box.x0) < MIN_BOX_PX || Math.abs(box.y1 - box.y0) < MIN_BOX_PX) {
      if (box.mode === 'select') this.overlay.send({ type: 'pikaplot_clear_selection' })
      return
    }
    this.overlay.send({ type: 'pikaplot_box', mode: box.mode, x0: box.x0, y0: box.y0, x1: box.x1, y1: box.y1 })
    if (box.mode === 'zoom') this.boxPreview(box)
  }

  boxPreview (box) {
    const meta = this.meta
    const [left, top, width, height] = meta.area
    const x = (px) => meta.x_range[0] + (Math.min(Math.max(px, left), left + width) - left) / width * (meta.x_range[1] - meta.x_range[0])
    const y = (py) => meta.y_range[1] - (Math.min(Math.max(py, top), top + height) - top) / height * (meta.y_range[1] - meta.y_range[0])
    this.view = { x: [x(Math.min(box.x0, box.x1)), x(Math.max(box.x0, box.x1))], y: [y(Math.max(box.y0, box.y1)), y(Math.min(box.y0, box.y1))] }
    this.draw()
  }

  showLasso () {
    const offset = this.frameOffset()
    const root = this.overlay.root
    this.lassoPath.style.display = 'block'
    this.lassoPath.setAttribute('width', String(root.clientWidth))
    this.lassoPath.setAttribute('height', String(root.clientHeight))
    this.lassoLine.setAttribute('points', this.lasso.map(([x, y]) => `${x + offset[0]},${y + offset[1]}`).join(' '))
  }

  showBand () {
    const b = this.box
    const offset = this.frameOffset()
    Object.assign(this.band.style, {
      display: 'block',
      left: `${offset[0] + Math.min(b.x0, b.x1)}px`,
      top: `${offset[1] + Math.min(b.y0, b.y1)}px`,
      width: `${Math.abs(b.x1 - b.x0)}px`,
      height: `${Math.abs(b.y1 - b.y0)}px`
    })
    this.band.dataset.mode = b.mode
  }

  frameOffset () {
    const rect = this.img.getBoundingClientRect()
    const root = this.overlay.root.getBoundingClientRect()
    return [rect.left - root.left + this.img.clientLeft, rect.top - root.top + this.img.clientTop]
  }

  // ---- the preview itself ---------------------------------------------------------------------
  draw () {
    const meta = this.meta
    const view = this.view
    if (!meta || !view || !this.snapshot.width) return
    const [left, top, width, height] = meta.area
    const ratio = this.snapshot.width / Math.max(this.img.clientWidth, 1)
    const canvas = this.canvas
    const offset = this.frameOffset()
    canvas.width = Math.round(width * ratio)
    canvas.height = Math.round(height * ratio)
    Object.assign(canvas.style, { display: 'block', left: `${offset[0] + left}px`, top: `${offset[1] + top}px`, width: `${width}px`, height: `${height}px` })
    const ctx = canvas.getContext('2d')
    const look = this.overlay.model.get('_look')
    ctx.fillStyle = (look && look.background) || '#ffffff' // the frame's background
    ctx.fillRect(0, 0, canvas.width, canvas.height)
    const last = { x: meta.x_range, y: meta.y_range }
    const sx = (last.x[1] - last.x[0]) / (view.x[1] - view.x[0])
    const sy = (last.y[1] - last.y[0]) / (view.y[1] - view.y[0])
    const dx = (last.x[0] - view.x[0]) / (view.x[1] - view.x[0]) * canvas.width
    const dy = (view.y[1] - last.y[1]) / (view.y[1] - view.y[0]) * canvas.height
    ctx.drawImage(this.snapshot, left * ratio, top * ratio, width * ratio, height * ratio, dx, dy, canvas.width * sx, canvas.height * sy)
    this.overlay.root.classList.add('pikaplot-previewing')
    const since = this.wheelAt
    if (since) { // the first visual change: the next frame the browser paints after the wheel
      this.wheelAt = 0
      this.overlay.root.dataset.previewDrawn = String(performance.now() - since)
      this.overlay.root.dataset.previewFrame = this.overlay.root.dataset.frame || ''
      requestAnimationFrame(() => { this.overlay.root.dataset.previewLatency = String(performance.now() - since) })
    }
    this.overlay.hideTooltip()
  }

  showHint () {
    if (this.focused()) return
    this.hint.style.display = 'block'
    clearTimeout(this.hintTimer)
    this.hintTimer = setTimeout(() => { this.hint.style.display = 'none' }, 2500)
  }
}

function element (tag, className, parent) {
  const el = document.createElement(tag)
  el.className = className
  parent.appendChild(el)
  return el
}
