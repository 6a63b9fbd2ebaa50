"""A real ipykernel: a plot's wheel sent on a subshell is handled while the main shell runs a cell.

JupyterLab (>= 4.4) sends widget messages on a subshell. ipykernel 7.4 routes a comm's incoming
messages to the subshell of the last message the kernel *sent* on that comm, and a plot sends from
cells (main shell) and worker threads (whose parent is the main shell's). Without care, one
`p.x_range = ...` in a cell sends every later wheel to the main shell, behind a running cell.
The browser test (tests/browser/test_session.py) shows this in JupyterLab; this one pins it down
without a browser, with the kernel's own messages.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager

SETUP = """
import pikaplot_widget as pk
session = pk.Session()
session.connection.execute(
    "CREATE TABLE walk AS SELECT i::DOUBLE AS t, (i % 1000)::DOUBLE AS v FROM range(100000) r(i)")
p = pk.line("walk", x="t", y="v", session=session, width=600, height=300)
p.controller.wait_idle(60)
p.x_range = (1000.0, 90000.0)  # sent from the main shell (a cell), as users do; y stays 0..999
p.controller.wait_idle(60)
print(p.comm.comm_id)
"""


@pytest.fixture
def kernel() -> Iterator[tuple[KernelManager, BlockingKernelClient]]:
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel()
    client = manager.blocking_client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        info = client.kernel_info(reply=True, timeout=60)["content"]
        if "kernel subshells" not in info.get("supported_features", []):
            pytest.skip("this ipykernel has no subshells: JupyterLab sends everything to the main shell")
        yield manager, client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def _control(client: BlockingKernelClient, msg_type: str, content: dict[str, object]) -> dict[str, object]:
    msg = client.session.msg(msg_type, content)
    client.control_channel.send(msg)
    while True:
        reply = client.control_channel.get_msg(timeout=30)
        if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
            return dict(reply["content"])


def _shell(
    client: BlockingKernelClient, msg_type: str, content: dict[str, object], subshell: str | None
) -> str:
    msg = client.session.msg(msg_type, content)
    if subshell is not None:
        msg["header"]["subshell_id"] = subshell
    client.shell_channel.send(msg)
    return str(msg["header"]["msg_id"])


class Iopub:
    """The kernel's iopub messages, kept per request (so waiting for one request loses no other's)."""

    def __init__(self, client: BlockingKernelClient) -> None:
        self.client = client
        self.by_parent: dict[str, list[dict[str, object]]] = {}

    def _read(self, timeout: float) -> None:
        msg = self.client.iopub_channel.get_msg(timeout=timeout)
        self.by_parent.setdefault(str(msg["parent_header"].get("msg_id")), []).append(msg)

    def state(self, msg_id: str) -> str | None:
        """The last execution state reported for `msg_id` (None before any)."""
        states = [m["content"]["execution_state"] for m in self.by_parent.get(msg_id, [])
                  if m["msg_type"] == "status"]  # fmt: skip
        return states[-1] if states else None

    def wait_state(self, msg_id: str, state: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.state(msg_id) != state:
            self._read(max(deadline - time.monotonic(), 0.01))

    def output(self, msg_id: str, timeout: float) -> str:
        """The stdout of request `msg_id` once it is idle; raises on its error or a timeout."""
        self.wait_state(msg_id, "idle", timeout)
        text = []
        for msg in self.by_parent[msg_id]:
            content = msg["content"]
            if msg["msg_type"] == "stream":
                text.append(content["text"])
            elif msg["msg_type"] == "error":
                raise AssertionError("\n".join(content["traceback"]))
        return "".join(text)


def test_wheel_on_a_subshell_is_handled_while_a_cell_runs(kernel: tuple[KernelManager, BlockingKernelClient]):
    _, client = kernel
    iopub = Iopub(client)
    subshell = str(_control(client, "create_subshell_request", {})["subshell_id"])
    setup = _shell(client, "execute_request", {"code": SETUP, "silent": False}, None)
    comm_id = iopub.output(setup, 120).strip().splitlines()[-1]

    cell = _shell(client, "execute_request", {"code": "import time; time.sleep(10)", "silent": False}, None)
    iopub.wait_state(cell, "busy", 10)  # the main shell runs the sleep now
    wheel = {"event_type": "wheel", "x": 300, "y": 150, "dx": 0, "dy": -400, "buttons": [], "modifiers": [],
             "timestamp": 0}  # fmt: skip
    sent = time.monotonic()
    _shell(client, "comm_msg", {"comm_id": comm_id, "data": {"method": "custom", "content": wheel}}, subshell)
    x_range = [1000.0, 90000.0]
    while x_range == [1000.0, 90000.0] and time.monotonic() - sent < 4:
        time.sleep(0.1)
        ask = _shell(client, "execute_request", {"code": "print(list(p.x_range))", "silent": False}, subshell)
        x_range = json.loads(iopub.output(ask, 5).strip())
    waited = time.monotonic() - sent
    assert iopub.state(cell) == "busy", "the sleep cell ended before the check: the test proves nothing"
    assert x_range != [1000.0, 90000.0], (
        f"the wheel sent on a subshell was not handled in {waited:.1f} s "
        "while a cell ran: it waits for the main shell"
    )
    lo, hi = x_range
    assert 1000.0 < lo < hi < 90000.0, f"the wheel did not zoom in: {x_range}"


def test_a_range_set_in_the_plot_cell_is_the_one_kept(kernel: tuple[KernelManager, BlockingKernelClient]):
    """The plot's first view reaches the traitlets through the kernel's loop, after the cell: it
    must not put back the full extent over the `x_range` the cell set."""
    _, client = kernel
    iopub = Iopub(client)
    iopub.output(_shell(client, "execute_request", {"code": SETUP, "silent": False}, None), 120)
    time.sleep(0.5)  # the loop has run what the cell queued
    ask = "print(json.dumps([list(p.x_range), list(p.controller.view.x.as_tuple())]))"
    code = f"import json; {ask}"
    shown, drawn = json.loads(iopub.output(_shell(client, "execute_request", {"code": code}, None), 20))
    assert shown == drawn == [1000.0, 90000.0], f"x_range {shown}, the worker draws {drawn}"


def test_the_routing_hook_is_replaced_only_where_it_has_the_known_shape():
    from ipykernel.comm.comm import BaseComm

    from pikaplot_widget.comm_routing import keep_front_end_routing

    comm = BaseComm(target_name="t", primary=False)
    comm._reply_subshell_for(None, "x")  # the hook as ipykernel has it
    comm._reply_subshell_id = None  # as after a send from the main shell
    assert comm._reply_subshell_for({"method": "custom"}, "browser-subshell") is None
    assert keep_front_end_routing(comm)
    assert comm._reply_subshell_for({"method": "custom"}, "browser-subshell") == "browser-subshell"

    class Changed:
        def _reply_subshell_for(self, data: object, default: object, extra: object) -> object:
            return "kept"

    changed = Changed()
    assert not keep_front_end_routing(changed)
    assert changed._reply_subshell_for(None, None, None) == "kept"
    assert not keep_front_end_routing(object())
