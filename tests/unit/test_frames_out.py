"""Frames out of the kernel (pikaplot_widget/frames.py) with the real widget and worker, no browser:
jupyter_rfb's `send` is replaced to record the messages, a plain asyncio loop stands in for the
kernel's. The frame leaves in the loop callback that learns of it (no second loop turn); its drawn
points follow the browser's confirmation of that frame (or a timer); the confirmations are not
echoed; state changes are one message each."""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
import pandas as pd
import pytest

import pikaplot_widget as pk


@pytest.fixture
def plot(rng, session):
    n = 50_000
    data = pd.DataFrame({"x": np.arange(n, dtype=np.float64), "y": np.cumsum(rng.normal(size=n))})
    p = pk.line(data, x="x", y="y", session=session, width=500, height=300)
    p.to_array()
    sent: list[dict[str, object]] = []

    def record(content, buffers=None):  # jupyter_rfb's send and ours
        # which frame the browser has when the message goes: the one just sent, or, for points,
        # the worker's exact frame they belong to
        frame = p._rfb_last_frame if content.get("type") == "framebufferdata" else p.controller.last_frame
        sent.append(dict(content, frame=frame))

    p.send = record
    p.max_buffered_frames = 1000  # no browser confirms frames here
    p._has_visible_views = True
    p.sent = sent
    yield p
    p.close()


def _serve(plot, loop: asyncio.AbstractEventLoop, until, timeout: float = 20.0) -> None:
    """Run `loop` as the plot's kernel loop until `until()` holds."""

    async def wait() -> None:
        deadline = time.monotonic() + timeout
        while not until():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; sent: {[m.get('type') for m in plot.sent]}")
            await asyncio.sleep(0.005)

    _run(loop, wait())


def _run(loop: asyncio.AbstractEventLoop, coroutine) -> None:
    """`loop.run_until_complete(coroutine)` on a thread of its own: the thread running the tests may
    already have a running loop (Playwright's sync API, kept alive by the browser tests' session)."""
    failure: list[BaseException] = []

    def target() -> None:
        try:
            loop.run_until_complete(coroutine)
        except BaseException as error:  # re-raised in the test's thread
            failure.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def _types(plot) -> list[object]:
    return [m.get("type") for m in plot.sent]


def test_exact_frame_leaves_before_its_points_without_another_loop_turn(plot):
    loop = asyncio.new_event_loop()
    try:
        plot._loop = loop
        # jupyter_rfb's own deferred draw (the next loop turn) never runs here: the frame must
        # still go out, from the callback that received it.
        plot._rfb_schedule_maybe_draw = lambda *args: None
        for step in range(3):
            plot.sent.clear()
            _zoom_in(plot)
            _serve(plot, loop, lambda: "pikaplot_points" in _types(plot))
            points = _types(plot).index("pikaplot_points")
            frames = [m for m in plot.sent[:points] if m.get("type") == "framebufferdata"]
            assert frames, (step, _types(plot))  # sent, though jupyter_rfb's own draw never ran
            assert frames[-1]["frame"] is plot.sent[points]["frame"], step  # the points' frame first
            assert frames[-1]["mimetype"] == "image/jpeg"
    finally:
        plot._loop = None
        loop.close()


def _zoom_in(plot) -> None:
    lo, hi = plot.x_range
    plot.x_range = (lo + (hi - lo) * 0.1, hi - (hi - lo) * 0.1)


def test_points_wait_for_the_browser_to_confirm_their_frame(plot, monkeypatch):
    monkeypatch.setattr(type(plot), "points_wait_s", 30.0)  # only the confirmation sends them here
    loop = asyncio.new_event_loop()
    try:
        plot._loop = loop
        for step in range(3):
            plot.sent.clear()
            _zoom_in(plot)
            _serve(plot, loop, lambda: plot.controller.wait_idle(0) and "framebufferdata" in _types(plot))
            _run(loop, asyncio.sleep(0.05))
            assert "pikaplot_points" not in _types(plot), step
            frame = [m for m in plot.sent if m.get("type") == "framebufferdata"][-1]
            plot._frame_feedback = {"index": frame["index"] - 1, "timestamp": 0.0, "localtime": 0.0}
            assert "pikaplot_points" not in _types(plot), step  # an older frame's confirmation
            plot._frame_feedback = {"index": frame["index"], "timestamp": 0.0, "localtime": 0.0}
            assert _types(plot)[-1] == "pikaplot_points", step  # at once, from the confirmation
            assert plot.sent[-1]["frame"] is frame["frame"]
    finally:
        plot._loop = None
        loop.close()


def test_points_go_after_a_while_without_a_confirmation(plot, monkeypatch):
    monkeypatch.setattr(type(plot), "points_wait_s", 0.05)
    loop = asyncio.new_event_loop()
    try:
        plot._loop = loop
        _zoom_in(plot)
        _serve(plot, loop, lambda: "pikaplot_points" in _types(plot))
        frames = [m for m in plot.sent if m.get("type") == "framebufferdata"]
        assert frames and frames[-1]["frame"] is plot.sent[-1]["frame"]
    finally:
        plot._loop = None
        loop.close()


def test_frame_confirmations_are_not_echoed_to_the_browser(plot):
    messages: list[dict[str, object]] = []
    plot._send = lambda msg, buffers=None: messages.append(msg)
    plot.set_state({"_frame_feedback": {"index": 1, "timestamp": 0.0, "localtime": 0.0}})
    assert [m for m in messages if m["method"] == "echo_update"] == []
    plot.set_state({"_has_visible_views": True})  # other front-end changes are echoed as before
    assert [m["state"] for m in messages if m["method"] == "echo_update"] == [{"_has_visible_views": True}]


def test_status_and_progress_go_in_one_message_and_so_do_both_ranges(plot):
    messages: list[dict[str, object]] = []
    plot._send = lambda msg, buffers=None: messages.append(msg)
    plot._apply_state("querying", 0.25)
    view = plot.controller.view
    plot._apply_view(view.with_x(view.x.zoom(0.5, view.x.lo)).with_y(view.y.zoom(2.0, view.y.lo)))
    updates = [m["state"] for m in messages if m["method"] == "update"]
    assert updates == [
        {"progress": 0.25, "status": "querying"},
        {"x_range": tuple(plot.x_range), "y_range": tuple(plot.y_range)},
    ]


def test_ranges_and_status_reach_the_browser_behind_the_frame_in_one_message(plot):
    updates: list[dict[str, object]] = []

    def record_update(msg, buffers=None):
        if msg.get("method") == "update":
            updates.append(msg["state"])
            plot.sent.append({"type": "update", "state": msg["state"]})

    plot._send = record_update
    loop = asyncio.new_event_loop()
    try:
        plot._loop = loop
        for step in range(3):
            plot.sent.clear()
            loop.call_soon(_zoom_in, plot)  # as the wheel handler or a cell would, on the loop
            _serve(plot, loop, lambda: plot.controller.wait_idle(0) and "pikaplot_points" in _types(plot))
            _run(loop, asyncio.sleep(plot.state_hold_s * 2))  # the held "idle" too
            kinds = _types(plot)
            first_frame = kinds.index("framebufferdata")
            assert "update" not in kinds[:first_frame], (step, kinds)  # nothing ahead of the frame
            after = [m["state"] for m in plot.sent[first_frame:] if m["type"] == "update"]
            assert {"x_range", "status"} <= set(after[0]), (step, after)  # (y_range if it changed)
            assert tuple(after[0]["x_range"]) == plot.x_range
            assert after[-1].get("status", plot.status) == "idle" and plot.status == "idle"
            assert len(after) <= 2, (step, after)  # with the frame, and the idle after it
    finally:
        plot._loop = None
        loop.close()
