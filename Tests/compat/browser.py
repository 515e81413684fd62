"""A real headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: commands
on fd 3, answers on fd 4, each JSON message ended by a NUL byte), so tests need no driver package."""

import base64
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time


class BrowserError(AssertionError):
    pass


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise BrowserError("no chromium on PATH: `make test` installs Debian's chromium package")


class Browser:
    def __init__(self, width: int = 1400, height: int = 1400):
        self.profile = tempfile.mkdtemp(prefix="stratus-chromium-")
        commands_read, self._commands = os.pipe()
        self._answers, answers_write = os.pipe()

        def plumb():
            os.dup2(commands_read, 3)
            os.dup2(answers_write, 4)

        self.proc = subprocess.Popen(
            [
                chromium_path(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--no-default-browser-check", "--hide-scrollbars", "--remote-debugging-pipe",
                f"--user-data-dir={self.profile}", f"--window-size={width},{height}", "about:blank",
            ],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=plumb, pass_fds=(3, 4),
        )
        os.close(commands_read)
        os.close(answers_write)
        self._next_id = 0
        self._answered: dict = {}
        self._lock = threading.Condition()
        self.console: "queue.Queue[dict]" = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.send("Runtime.enable", session=True)
        self.send("Page.enable", session=True)

    def _read(self):
        buffer = b""
        while True:
            chunk = os.read(self._answers, 65536)
            if not chunk:
                break
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "id" in message:
                    with self._lock:
                        self._answered[message["id"]] = message
                        self._lock.notify_all()
                elif message.get("method") in ("Runtime.exceptionThrown", "Runtime.consoleAPICalled"):
                    self.console.put(message)
        with self._lock:
            self._answered[-1] = {"error": {"message": "chromium closed its pipe"}}
            self._lock.notify_all()

    def send(self, method: str, params: dict | None = None, session: bool = False, timeout: float = 30) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._next_id not in self._answered:
                if -1 in self._answered:
                    raise BrowserError(self._answered[-1]["error"]["message"])
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise BrowserError(f"{method}: no answer within {timeout}s")
                self._lock.wait(remaining)
            answer = self._answered.pop(self._next_id)
        if "error" in answer:
            raise BrowserError(f"{method}: {answer['error']}")
        return answer.get("result", {})

    def navigate(self, url: str):
        self.send("Page.navigate", {"url": url}, session=True)

    def evaluate(self, expression: str):
        result = self.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}, session=True
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 20, what: str = ""):
        """Evaluates `expression` until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
            except BrowserError:
                value = None
            if value:
                return value
            time.sleep(0.2)
        raise BrowserError(f"not seen within {timeout}s: {what or expression} (last value {value!r})")

    def screenshot(self, path) -> bytes:
        data = base64.b64decode(self.send("Page.captureScreenshot", {"format": "png"}, session=True)["data"])
        with open(path, "wb") as file:
            file.write(data)
        return data

    def errors(self) -> list:
        """Uncaught exceptions and console errors so far."""
        found = []
        while not self.console.empty():
            message = self.console.get()
            if message["method"] == "Runtime.exceptionThrown":
                found.append(message["params"]["exceptionDetails"].get("text", "exception"))
            elif message["params"].get("type") == "error":
                found.append(" ".join(str(a.get("value", a.get("description", ""))) for a in message["params"]["args"]))
        return found

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except BrowserError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._commands)
        os.close(self._answers)
        shutil.rmtree(self.profile, ignore_errors=True)
