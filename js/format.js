// Values in the tooltip, formatted like the axes: numbers to 6 significant digits, times as dates.

export function number (value) {
  if (value === null || value === undefined) return '–'
  if (typeof value !== 'number') return String(value)
  if (!Number.isFinite(value)) return String(value)
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return value.toLocaleString('en-US')
  const text = Math.abs(value) >= 1e6 || (Math.abs(value) < 1e-4 && value !== 0)
    ? value.toExponential(4)
    : value.toPrecision(6)
  return text.replace(/(\.\d*?)0+(e|$)/, '$1$2').replace(/\.(e|$)/, '$1')
}

export function time (seconds) {
  if (!Number.isFinite(seconds)) return '–'
  const date = new Date(seconds * 1000)
  if (Number.isNaN(date.getTime())) return number(seconds)
  const iso = date.toISOString() // 2026-01-01T12:34:56.789Z
  const fraction = seconds - Math.floor(seconds)
  return fraction === 0 ? iso.slice(0, 19).replace('T', ' ') : iso.slice(0, 23).replace('T', ' ')
}

export function escape (text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c])
}
