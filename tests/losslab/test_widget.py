"""scene.widget() in a real kernel: run as a notebook with nbclient, and its front end in headless Chromium.

The browser test speaks the Jupyter widget protocol itself, as JupyterLab's widget manager does:
the kernel opens the widget's comm (its state carries the front end's ES module), the page runs
that module against a model that forwards `save_changes` to the kernel as a comm `update`, and
the kernel's `update` replies come back to the page. Nothing leaves the machine.
"""

import json
import os
import queue
import time

import nbformat
import pytest

pytest.importorskip("anywidget", reason="losslab[notebook] is not installed")

SCENE_CODE = ('import losslab as ll\n'
              'w = (ll.Scene("quadratic", lambda_1=1, lambda_2=20, rotation=30).start(-2, -0.5)\n'
              '     .add("gd", lr=0.09).add("momentum", lr=0.04, momentum=0.7)).widget(steps=60)\n')


def test_widget_in_a_notebook_kernel_follows_its_parameters():
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(SCENE_CODE + "w"),
        nbformat.v4.new_code_cell("before = w.runs[1]['points'][-1]\n"
                                  "w.params = [{'lr': 0.09}, {'lr': 0.04, 'momentum': 0.3}]\n"
                                  "import json; print(json.dumps([before, w.runs[1]['points'][-1]]))"),
        nbformat.v4.new_code_cell("print(w.scene.to_url())"),
    ]
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    shown = nb.cells[0].outputs[0]["data"]
    assert "application/vnd.jupyter.widget-view+json" in shown
    before, after = json.loads(nb.cells[1].outputs[0]["text"])
    assert before != after
    import losslab as ll

    expected = ll.Scene("quadratic", lambda_1=1, lambda_2=20, rotation=30).start(-2, -0.5).add("gd", lr=0.09) \
        .add("momentum", lr=0.04, momentum=0.3).run(60)
    assert after == pytest.approx(expected[1].points[-1].tolist(), abs=1e-11)
    url = nb.cells[2].outputs[0]["text"].strip()
    assert "momentum:lr=0.04,momentum=0.3" in url and "&steps=60&seed=0" in url


# --- the front end, against the kernel ------------------------------------------------

class KernelBridge:
    """A kernel and the comm of the widget it opened: updates go both ways as JSON states."""

    def __init__(self):
        from jupyter_client import KernelManager

        self.km = KernelManager(kernel_name="python3")
        self.km.start_kernel()
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)
        self.comm_id = None
        self.state = None
        self.pending = []  # our comm's updates that arrived while execute() waited for its own messages

    def execute(self, code: str, timeout: float = 60) -> str:
        """Run code; return its stdout; remember the AnyWidget comm it opens."""
        msg_id = self.kc.execute(code)
        out = []
        deadline = time.monotonic() + timeout
        while True:
            msg = self.kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
            if msg["parent_header"].get("msg_id") != msg_id:
                self._keep(msg)
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "comm_open" and content["data"]["state"].get("_model_name") == "AnyModel":
                self.comm_id, self.state = content["comm_id"], content["data"]["state"]
            elif kind == "stream":
                out.append(content["text"])
            elif kind == "error":
                raise AssertionError("\n".join(content["traceback"]))
            elif kind == "status" and content["execution_state"] == "idle":
                return "".join(out)

    def send_update(self, state: dict) -> None:
        content = {"comm_id": self.comm_id, "data": {"method": "update", "state": state, "buffer_paths": []}}
        self.kc.shell_channel.send(self.kc.session.msg("comm_msg", content))

    def _keep(self, msg) -> None:
        c = msg["content"]
        if msg["msg_type"] == "comm_msg" and c.get("comm_id") == self.comm_id and c["data"].get("method") == "update":
            self.pending.append(c["data"]["state"])

    def updates(self, timeout: float):
        """Yield the states of the kernel's `update` messages on our comm, in order, until ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pending:
                yield self.pending.pop(0)
                continue
            try:
                self._keep(self.kc.get_iopub_msg(timeout=0.05))
            except queue.Empty:
                yield None

    def close(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


FAKE_MODEL = """async ([state, esm, css]) => {
    const listeners = {};
    const model = {
        state, dirty: {},
        get: (k) => model.state[k],
        set: (k, v) => { model.state[k] = v; model.dirty[k] = v; },
        save_changes: () => { const d = model.dirty; model.dirty = {}; window.toKernel(JSON.stringify(d)); },
        on: (ev, cb) => { (listeners[ev] = listeners[ev] || []).push(cb); },
        off: (ev, cb) => { listeners[ev] = (listeners[ev] || []).filter((f) => f !== cb); },
        apply: (s) => { for (const [k, v] of Object.entries(s)) { model.state[k] = v;
            for (const cb of listeners['change:' + k] || []) cb(); } },
    };
    window.__model = model;
    const style = document.createElement('style'); style.textContent = css; document.head.append(style);
    const mod = await import(URL.createObjectURL(new Blob([esm], {type: 'text/javascript'})));
    const el = document.createElement('div'); el.id = 'out'; document.body.append(el);
    await mod.default.render({model, el});
}"""


@pytest.fixture
def bridge():
    b = KernelBridge()
    yield b
    b.close()


def test_widget_front_end_drag_a_slider_and_the_kernel_moves_the_path(bridge):
    from playwright.sync_api import sync_playwright
    from testkit import launch_chromium

    bridge.execute(SCENE_CODE)
    assert bridge.comm_id and set(bridge.state) >= {"_esm", "surface", "controls", "params", "runs"}
    sent = []
    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 900, "height": 700})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("request", lambda r: errors.append(f"request {r.url}") if not r.url.startswith(("blob:", "data:")) else None)
        page.expose_function("toKernel", lambda text: (sent.append(json.loads(text)), bridge.send_update(json.loads(text))))
        page.evaluate(FAKE_MODEL, [bridge.state, bridge.state["_esm"], bridge.state.get("_css", "")])
        path = page.locator("polyline.ll-path[data-run='1']")
        before = path.get_attribute("points")
        assert len(before.split()) == 61
        slider = page.locator("input[data-opt='1'][data-param='momentum']")
        output = page.locator("label.ll-slider:has(input[data-opt='1'][data-param='momentum']) output")
        assert output.inner_text() == "0.7"
        # Drag the momentum slider's thumb from 0.7 to about 0.2.
        box = slider.bounding_box()
        y = box["y"] + box["height"] / 2
        page.mouse.move(box["x"] + 8 + (box["width"] - 16) * 0.7 / 0.999, y)
        page.mouse.down()
        for f in (0.6, 0.45, 0.3, 0.2):
            page.mouse.move(box["x"] + 8 + (box["width"] - 16) * f / 0.999, y, steps=3)
        page.mouse.up()
        shown = page.evaluate("() => window.__model.get('params')[1].momentum")
        assert 0.15 < shown < 0.25 and float(output.inner_text()) == pytest.approx(shown, rel=5e-3)
        assert sent and sent[-1]["params"][1]["momentum"] == shown
        # The kernel runs the engine and sends the paths back; the page draws them.
        last = None
        for state in bridge.updates(timeout=30):
            if state and "runs" in state:
                last = state
                page.evaluate("(s) => window.__model.apply(s)", state)
            if last and page.evaluate("() => window.__model.get('params')[1].momentum") == shown and \
                    float(bridge.execute("print(w.params[1]['momentum'])")) == shown:
                break
        assert last is not None, "the kernel sent no runs"
        for state in bridge.updates(timeout=1):  # the last replies, if any are still on their way
            if state and "runs" in state:
                page.evaluate("(s) => window.__model.apply(s)", state)
        after = path.get_attribute("points")
        assert after != before
        kernel_end = json.loads(bridge.execute("import json; print(json.dumps(w.runs[1]['points'][-1]))"))
        import losslab as ll

        expected = ll.Scene("quadratic", lambda_1=1, lambda_2=20, rotation=30).start(-2, -0.5).add("gd", lr=0.09) \
            .add("momentum", lr=0.04, momentum=shown).run(60)[1]
        assert kernel_end == pytest.approx(expected.points[-1].tolist(), abs=1e-11)
        x0, x1, y0, y1 = bridge.state["surface"]["view"]
        ex, ey = after.split()[-1].split(",")
        assert float(ex) == pytest.approx((kernel_end[0] - x0) / (x1 - x0) * 380, abs=0.06)
        assert float(ey) == pytest.approx(380 - (kernel_end[1] - y0) / (y1 - y0) * 380, abs=0.06)
        # The scene as the slider left it, back in the kernel.
        url = bridge.execute("print(w.scene.to_url())")
        assert f"momentum:lr=0.04,momentum={shown!r}," in url
        page.screenshot(path=os.environ.get("LOSSLAB_WIDGET_SHOT", "/dev/null") if os.environ.get("LOSSLAB_WIDGET_SHOT") else None)
        assert errors == []
        browser.close()
