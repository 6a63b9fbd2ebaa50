// The kernel follows each displayed plot with a PNG output of its latest view, for viewers that
// cannot run the widget (exported HTML, GitHub, a notebook opened without a kernel). While the
// widget is live that image would show the plot twice: hide the output right after the widget's,
// when it is an image of the plot's size, and keep it hidden as outputs are added or updated.

function snapshotAfter (el, model) {
  const child = el.closest('.jp-OutputArea-child')
  const next = child && child.nextElementSibling
  if (!next || !model.get('_snapshot_output')) return null
  const ours = next.querySelector('.jp-RenderedImage, .jp-RenderedText[data-mime-type="text/plain"]')
  return ours ? next : null
}

export function hideSnapshot (model, el) {
  const hide = () => {
    const next = snapshotAfter(el, model)
    if (next) next.classList.add('pikaplot-snapshot-hidden')
  }
  hide()
  // An update can replace the output's node (text placeholder -> image) and render into it later.
  const area = el.closest('.jp-OutputArea')
  const observer = area ? new MutationObserver(hide) : null
  if (observer) observer.observe(area, { childList: true, subtree: true })
  model.on('change:_snapshot_output', hide)
  return () => {
    if (observer) observer.disconnect()
    model.off('change:_snapshot_output', hide)
  }
}
