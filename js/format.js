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

const zoneFormats = new Map()

// One formatter per zone; the zone shown as its UTC offset ("GMT+2"), which tells DST folds apart.
function zoneFormat (tz) {
  if (!zoneFormats.has(tz)) {
    const options = { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }
    let format
    try {
      format = new Intl.DateTimeFormat('en-US', { ...options, timeZoneName: 'shortOffset' })
    } catch (error) { // browsers before shortOffset (2021): the short name
      format = new Intl.DateTimeFormat('en-US', { ...options, timeZoneName: 'short' })
    }
    zoneFormats.set(tz, format)
  }
  return zoneFormats.get(tz)
}

// Seconds since the epoch as a date and time: UTC, or the wall time (and zone name) of `tz`.
export function time (seconds, tz) {
  if (!Number.isFinite(seconds)) return '–'
  const date = new Date(seconds * 1000)
  if (Number.isNaN(date.getTime())) return number(seconds)
  const iso = date.toISOString() // 2026-01-01T12:34:56.789Z
  const fraction = seconds - Math.floor(seconds)
  if (tz && tz !== 'UTC') {
    try {
      const parts = Object.fromEntries(zoneFormat(tz).formatToParts(date).map((p) => [p.type, p.value]))
      const millis = fraction === 0 ? '' : `.${iso.slice(20, 23)}`
      return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}${millis} ${parts.timeZoneName}`
    } catch (error) { /* a zone this browser does not know: UTC below */ }
  }
  return fraction === 0 ? iso.slice(0, 19).replace('T', ' ') : iso.slice(0, 23).replace('T', ' ')
}

export function escape (text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c])
}
