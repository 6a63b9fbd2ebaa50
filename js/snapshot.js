// The kernel follows each displayed plot with a PNG output of its latest view, for viewers that
// cannot run the widget (exported HTML, GitHub, a notebook opened without a kernel). While the
// widget is live that image would show the plot twice: hide the output right after this view's
// own output when it is an image of the view's size, and keep it hidden as outputs change.

function snapshotAfter (el, model) {
  const child = el.closest('.jp-OutputArea-child')
  const next = child && child.nextElementSibling
  if (!next || !model.get('_snapshot_output')) return null
  const img = next.querySelector('.jp-RenderedImage img')
  if (!img) return null
  // The kernel gives the PNG the CSS size the view is drawn at (the placeholder too): the
  // widget's size, or the view's own once resized (not laid out yet right after a reload).
  const view = el.querySelector('img.renderview-view')
  const css = (name) => parseFloat(model.get('_' + name) ?? model.get(name))
  const sizes = [[css('css_width'), css('css_height')]]
  if (view) sizes.push([view.clientWidth, view.clientHeight])
  const near = (a, b) => Math.abs(Number(a) - b) <= 2
  const [w, h] = [img.getAttribute('width'), img.getAttribute('height')]
  return sizes.some(([a, b]) => near(w, a) && near(h, b)) ? next : null
}

export function hideSnapshot (model, el) {
  const hide = () => {
    const next = snapshotAfter(el, model)
    if (next) next.classList.add('pikaplot-snapshot-hidden')
  }
  hide()
  // An update may replace the output's node and render into it later; the view may resize.
  const area = el.closest('.jp-OutputArea')
  const observer = area ? new MutationObserver(hide) : null
  if (observer) observer.observe(area, { childList: true, subtree: true, attributes: true, attributeFilter: ['width', 'height'] })
  model.on('change:_snapshot_output', hide)
  model.on('msg:custom', hide) // each exact frame: the view has its size by then
  return () => {
    if (observer) observer.disconnect()
    model.off('change:_snapshot_output', hide)
    model.off('msg:custom', hide)
  }
}
