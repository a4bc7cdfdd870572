"""Fixtures: a real `hyperspace node` process per session (one open, one with an API key).

The binary is $HYPERSPACE_BIN, or target/debug/hyperspace of the repository this file lives
in (build it with `cargo build`).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import pytest

import hyperspace

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_BIN = REPO_ROOT / "target" / "debug" / "hyperspace"
API_KEY = "test-key-7f3a"


def node_binary() -> Path:
    path = Path(os.environ.get("HYPERSPACE_BIN") or DEFAULT_BIN)
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail(
            f"the node binary {path} is missing: run `cargo build` in {REPO_ROOT} "
            "(or point HYPERSPACE_BIN at a built `hyperspace` binary)",
            pytrace=False,
        )
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Node:
    process: "subprocess.Popen[bytes]"
    http: str  # http://127.0.0.1:P
    grpc: str  # 127.0.0.1:P
    api_key: Optional[str]
    data_dir: Path
    log: Path

    def client(self, api_key: Optional[str] = "<node's>") -> hyperspace.Client:
        key = self.api_key if api_key == "<node's>" else api_key
        return hyperspace.Client(self.grpc, api_key=key, timeout=10)

    def http_get(self, path: str) -> bytes:
        request = urllib.request.Request(self.http + path)
        if self.api_key:
            request.add_header("x-api-key", self.api_key)
        with urllib.request.urlopen(request, timeout=10) as response:
            body: bytes = response.read()
            return body

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def start_node(workdir: Path, api_key: Optional[str] = None, timeout: float = 20.0) -> Node:
    binary = node_binary()
    # The node reads every flag from HYPERSPACE_<FLAG> too: keep the caller's out of it.
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERSPACE_")}
    env.setdefault("RUST_LOG", "warn")
    last_error = ""
    for attempt in range(3):  # a free port can be taken by someone else before we bind it
        data_dir = workdir / f"data-{attempt}"
        log = workdir / f"node-{attempt}.log"
        http_port, grpc_port = _free_port(), _free_port()
        while grpc_port == http_port:
            grpc_port = _free_port()
        args = [
            str(binary), "node",
            "--data-dir", str(data_dir),
            "--http-addr", f"127.0.0.1:{http_port}",
            "--grpc-addr", f"127.0.0.1:{grpc_port}",
        ]
        if api_key:
            args += ["--api-key", api_key]
        with open(log, "wb") as log_file:
            process = subprocess.Popen(
                args, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
            )
        node = Node(process, f"http://127.0.0.1:{http_port}", f"127.0.0.1:{grpc_port}",
                    api_key, data_dir, log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            if _ready(node.http + "/readyz"):
                return node
            time.sleep(0.05)
        node.stop()
        last_error = log.read_text(errors="replace")[-2000:]
        if "in use" not in last_error:
            break
    pytest.fail(f"the node did not become ready; its log:\n{last_error}", pytrace=False)


@pytest.fixture(scope="session")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """An open node (no API key)."""
    n = start_node(tmp_path_factory.mktemp("node"))
    yield n
    n.stop()


@pytest.fixture(scope="session")
def keyed_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """A node started with --api-key API_KEY."""
    n = start_node(tmp_path_factory.mktemp("keyed"), api_key=API_KEY)
    yield n
    n.stop()


@pytest.fixture
def client(node: Node) -> Iterator[hyperspace.Client]:
    with node.client() as c:
        yield c


_counter = 0


@pytest.fixture
def collection_name(request: pytest.FixtureRequest) -> str:
    """A collection name unique within the session."""
    global _counter
    _counter += 1
    base = "".join(ch if ch.isalnum() else "_" for ch in request.node.name)[:40]
    return f"{base}_{_counter}"
