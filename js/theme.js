// The notebook's theme, read in the browser and sent to the kernel (which draws the frames).
// JupyterLab marks <body data-jp-theme-light="true|false">; VS Code marks the body with a class;
// otherwise the brightness of JupyterLab's --jp-layout-color0 decides. null: nothing to go by.

function parseColor (text) {
  if (!text) return null
  const ctx = document.createElement('canvas').getContext('2d')
  if (!ctx) return null
  ctx.fillStyle = '#010203'
  ctx.fillStyle = text // an invalid colour leaves the sentinel in place
  const value = String(ctx.fillStyle)
  if (value === '#010203' && text.trim().toLowerCase() !== '#010203') return null
  if (value.startsWith('#') && value.length === 7) {
    return [1, 3, 5].map((i) => parseInt(value.slice(i, i + 2), 16))
  }
  const match = value.match(/rgba?\(([^)]+)\)/)
  if (!match) return null
  const parts = match[1].split(',').map(Number)
  if (parts.length >= 4 && parts[3] === 0) return null // transparent says nothing
  return parts.slice(0, 3)
}

export function notebookIsDark () {
  const body = document.body
  if (!body) return null
  const light = body.dataset.jpThemeLight
  if (light === 'true') return false
  if (light === 'false') return true
  if (body.classList.contains('vscode-dark') || body.classList.contains('vscode-high-contrast')) return true
  if (body.classList.contains('vscode-light')) return false
  const rgb = parseColor(getComputedStyle(body).getPropertyValue('--jp-layout-color0').trim())
  if (!rgb) return null
  return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2] < 128
}

// Calls send(dark) now and whenever the notebook's theme changes; returns the cleanup.
export function watchTheme (send) {
  let last = null
  const check = () => {
    const dark = notebookIsDark()
    if (dark === null || dark === last) return
    last = dark
    send(dark)
  }
  check()
  if (typeof MutationObserver === 'undefined' || !document.body) return () => {}
  const observer = new MutationObserver(check)
  observer.observe(document.body, { attributes: true, attributeFilter: ['data-jp-theme-light', 'data-jp-theme-name', 'class'] })
  return () => observer.disconnect()
}

// The overlay's look: "auto-light" / "auto-dark" follow JupyterLab's CSS variables, "light" /
// "dark" (chosen by the user) use fixed colours matching the frame.
export function lookName (look) {
  if (!look || typeof look !== 'object') return 'auto-light'
  const name = look.name === 'dark' ? 'dark' : 'light'
  return look.choice === 'auto' || !look.choice ? `auto-${name}` : name
}
