// A small toolbar in the plot: pan, box zoom, box select, reset, save PNG.

const BUTTONS = [
  ['pan', '✥', 'Drag to pan'],
  ['zoom', '⬚', 'Drag a box to zoom (or Shift+drag)'],
  ['select', '▣', 'Drag a box to select rows (p.selection)'],
  ['lasso', '✎', 'Draw a lasso to select rows (scatter plots)'],
  ['reset', '⟲', 'Reset the view (r)'],
  ['save', '⤓', 'Save as PNG']
]

export class Toolbar {
  constructor (overlay) {
    this.overlay = overlay
    this.root = document.createElement('div')
    this.root.className = 'pikaplot-toolbar'
    this.buttons = {}
    for (const [name, label, title] of BUTTONS) {
      const button = document.createElement('button')
      button.type = 'button'
      button.textContent = label
      button.title = title
      button.dataset.action = name
      button.addEventListener('pointerdown', (ev) => ev.stopPropagation())
      button.addEventListener('click', (ev) => { ev.stopPropagation(); this.act(name) })
      this.root.appendChild(button)
      this.buttons[name] = button
    }
    overlay.root.appendChild(this.root)
    this.setMode('pan')
  }

  showLasso (shown) { // lines have no lasso: a selection of an x-span is a box
    this.buttons.lasso.style.display = shown ? '' : 'none'
  }

  act (name) {
    if (name === 'reset') {
      this.overlay.send({ type: 'key_down', key: 'r', modifiers: [], timestamp: 0 })
    } else if (name === 'save') {
      const img = this.overlay.img
      if (!img) return
      const link = document.createElement('a')
      link.href = img.src
      link.download = 'pikaplot.png'
      link.click()
    } else {
      this.setMode(name)
    }
  }

  setMode (mode) {
    this.overlay.mode = mode
    for (const name of ['pan', 'zoom', 'select', 'lasso']) this.buttons[name].classList.toggle('active', name === mode)
    this.overlay.root.dataset.mode = mode
  }
}
