// Nearest drawn point to the pointer, the same rule as pikaplot_widget/core/spatial.py:
// a linear scan below LINEAR_BELOW points, a uniform grid of CELL_PX cells above; the nearest point
// within `radius` pixels, ties to the lower index.

export const LINEAR_BELOW = 250
export const CELL_PX = 16

export class PointIndex {
  constructor (xs, ys) {
    this.xs = xs
    this.ys = ys
    this.grid = null
    if (xs.length >= LINEAR_BELOW) {
      this.grid = new Map()
      for (let i = 0; i < xs.length; i++) {
        if (!Number.isFinite(xs[i]) || !Number.isFinite(ys[i])) continue
        const key = `${Math.floor(xs[i] / CELL_PX)},${Math.floor(ys[i] / CELL_PX)}`
        let cell = this.grid.get(key)
        if (!cell) { cell = []; this.grid.set(key, cell) }
        cell.push(i)
      }
    }
  }

  nearest (px, py, radius) {
    if (!Number.isFinite(px) || !Number.isFinite(py)) return null
    let best = null
    let bestD2 = radius * radius
    const consider = (i) => {
      const dx = this.xs[i] - px
      const dy = this.ys[i] - py
      const d2 = dx * dx + dy * dy
      if (d2 < bestD2 || (d2 === bestD2 && (best === null || i < best))) { best = i; bestD2 = d2 }
    }
    if (this.grid === null) {
      for (let i = 0; i < this.xs.length; i++) {
        if (Number.isFinite(this.xs[i]) && Number.isFinite(this.ys[i])) consider(i)
      }
      return best
    }
    const reach = Math.ceil(radius / CELL_PX)
    const cx = Math.floor(px / CELL_PX)
    const cy = Math.floor(py / CELL_PX)
    for (let i = cx - reach; i <= cx + reach; i++) {
      for (let j = cy - reach; j <= cy + reach; j++) {
        const cell = this.grid.get(`${i},${j}`)
        if (cell) for (const k of cell) consider(k)
      }
    }
    return best
  }
}
