// Two waits of jupyter_rfb's front end taken out of every wheel -> frame round trip
// (benchmarks/browser_trace.py measured them):
// - its wheel throttle holds each first wheel event 20 ms before sending it: here the first event
//   of a burst goes at once, and the ones that follow within WHEEL_GAP_MS are merged (dx, dy
//   summed, the latest position) and sent when the gap is over, so the kernel still gets at most
//   one wheel message per WHEEL_GAP_MS;
// - a frame received waits for the next animation frame before its <img> source is set: here it
//   is set when the message arrives (frames still go one at a time, in order, as before).
// The classes are jupyter_rfb's own (inlined in the widget's ESM); a release without the methods
// used here is left as it is.

export const WHEEL_GAP_MS = 20

function sameKeys (a, b) {
  const as = JSON.stringify([a.buttons || [], a.modifiers || []])
  return as === JSON.stringify([b.buttons || [], b.modifiers || []])
}

export function leadingWheel (send, gapMs = WHEEL_GAP_MS) {
  let pending = null
  let timer = null
  const flush = () => {
    timer = null
    if (pending === null) return
    const event = pending
    pending = null
    send(event)
    timer = setTimeout(flush, gapMs) // keep the pace while the wheel turns
  }
  return (event) => {
    if (timer === null) {
      send(event)
      timer = setTimeout(flush, gapMs)
    } else if (pending !== null && sameKeys(pending, event)) {
      pending.x = event.x
      pending.y = event.y
      pending.dx += event.dx
      pending.dy += event.dy
    } else {
      if (pending !== null) send(pending)
      pending = { ...event }
    }
  }
}

export function quicken (View, Model) {
  const patched = { wheel: false, frames: false }
  const view = View && View.prototype
  if (view && typeof view.onEvent === 'function' && typeof view.setThrottle === 'function') {
    const setThrottle = view.setThrottle
    const onEvent = view.onEvent
    view.setThrottle = function (throttle) {
      setThrottle.call(this, throttle)
      if ('_wheelThrottle' in this) this._wheelThrottle = 0 // every wheel event reaches onEvent
    }
    view.onEvent = function (event) {
      if (!event || event.type !== 'wheel') return onEvent.call(this, event)
      if (!this._pkWheel) this._pkWheel = leadingWheel((e) => onEvent.call(this, e))
      this._pkWheel(event)
    }
    patched.wheel = true
  }
  const model = Model && Model.prototype
  if (model && typeof model._request_animation_frame === 'function' && typeof model._animate === 'function') {
    const request = model._request_animation_frame
    model._request_animation_frame = function () {
      if (!Array.isArray(this._frames) || !this.views || !this.views.length) return request.call(this)
      // the frame's source now, not at the next animation frame; with none queued, nothing to wait for
      if (this._frames.length && !this._img_update_pending) this._animate()
    }
    patched.frames = true
  }
  return patched
}
