"""Deliver jupyter_rfb event messages to a plot, as the browser would."""

from __future__ import annotations


def send(plot, **event):
    """Deliver an event the way jupyter_rfb does when the browser sends one."""
    event.setdefault("timestamp", 0)
    plot._rfb_handle_msg(plot, event, [])
