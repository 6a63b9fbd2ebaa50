// Hover: the nearest drawn point through a spatial index (no round trip), a tooltip in the overlay,
// and on rest the full row behind a marker from the kernel. Density pixels and large point sets are
// asked of the kernel, throttled.
import { PointIndex } from './spatial.js'
import { escape, number, time } from './format.js'

const RADIUS_PX = 12
const REST_MS = 150
const ASK_EVERY_MS = 60

export class Hover {
  constructor (overlay) {
    this.overlay = overlay
    this.tooltip = document.createElement('div')
    this.tooltip.className = 'pikaplot-tooltip'
    overlay.root.appendChild(this.tooltip)
    this.points = null // { meta, fields, index }
    this.meta = null
    this.requests = 0
    this.lastAsk = 0
    this.rest = null
    this.current = null
  }

  setPoints (meta, decoded, groups) {
    this.meta = meta
    this.points = decoded ? { fields: decoded.fields, index: new PointIndex(decoded.fields.px, decoded.fields.py) } : null
    this.groups = null // values shared by many points (a line's pixel columns), by their key
    if (groups) {
      const names = Object.keys(groups.fields)
      const key = names[0]
      this.groupKey = key
      this.groups = new Map()
      for (let i = 0; i < groups.count; i++) {
        const record = {}
        for (const name of names) record[name] = groups.fields[name][i]
        this.groups.set(record[key], record)
      }
    }
    this.hide()
  }

  move (x, y) {
    clearTimeout(this.rest)
    if (!this.meta) return
    if (this.points) {
      const i = this.points.index.nearest(x, y, RADIUS_PX)
      if (i === null) { this.hide(); return }
      const record = {}
      for (const [name, values] of Object.entries(this.points.fields)) record[name] = values[i]
      if (this.groups) Object.assign(record, this.groups.get(record[this.groupKey]) || {})
      record.kind = this.meta.kind
      this.show(record, x, y)
      if (this.meta.kind === 'markers') this.rest = setTimeout(() => this.ask(x, y, true), REST_MS)
      return
    }
    const now = performance.now()
    if (now - this.lastAsk >= ASK_EVERY_MS) { this.lastAsk = now; this.ask(x, y, false) } else { this.rest = setTimeout(() => this.ask(x, y, false), ASK_EVERY_MS) }
  }

  ask (x, y, row) {
    this.requests += 1
    this.pending = { id: this.requests, x, y }
    this.overlay.send({ type: 'pikaplot_hover', id: this.requests, x, y, row })
  }

  answer (msg) {
    if (!this.pending || msg.id !== this.pending.id) return // hidden since, or a newer question is on its way
    if (!msg.result) { if (!this.points) this.hide(); return }
    this.show(msg.result, this.pending.x, this.pending.y)
  }

  show (record, x, y) {
    const meta = this.meta || {}
    // Axis units to data units: log axes hold log10 of the values; time x counts from an origin.
    const ux = meta.log_x ? (v) => 10 ** v : (v) => v
    const uy = meta.log_y ? (v) => (typeof v === 'number' ? 10 ** v : v) : (v) => v
    const xAbs = ux(record.x + (meta.x_origin || 0))
    const lines = [`x: ${meta.x_is_time ? time(xAbs, meta.tz) : number(xAbs)}`, `y: ${number(uy(record.y))}`]
    if (record.kind === 'line' && record.rows !== undefined) {
      lines.push(`rows: ${number(record.rows)}`)
      lines.push(`first ${number(uy(record.first))} · last ${number(uy(record.last))}`)
      lines.push(`min ${number(uy(record.min))} · max ${number(uy(record.max))}`)
    }
    if (record.kind === 'density') {
      lines.push(`rows: ${number(record.rows)}`)
      if (record.mean !== undefined) lines.push(`mean: ${number(record.mean)}`)
      for (const [name, count] of Object.entries(record.categories || {})) lines.push(`${name}: ${number(count)}`)
    }
    if (record.category !== undefined) lines.push(`category: ${record.category}`)
    if (record.color !== undefined) lines.push(`colour: ${number(record.color)}`)
    if (record.size !== undefined) lines.push(`size: ${number(record.size)}`)
    if (record.row) {
      for (const [name, value] of Object.entries(record.row)) lines.push(`${name}: ${typeof value === 'number' ? number(value) : value}`)
    }
    this.tooltip.innerHTML = lines.map((l) => `<div>${escape(l)}</div>`).join('')
    const offset = this.overlay.interaction.frameOffset()
    Object.assign(this.tooltip.style, { display: 'block', left: `${offset[0] + x + 14}px`, top: `${offset[1] + y + 14}px` })
    this.current = record
  }

  hide () {
    clearTimeout(this.rest)
    this.pending = null // a late answer must not bring the tooltip back
    this.tooltip.style.display = 'none'
    this.current = null
  }
}
