"""The committed gRPC stubs must equal a fresh generation from proto/proto/hyperspace.proto."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from typing import Any

import pytest

SDK_DIR = Path(__file__).resolve().parents[1]


def _gen_module() -> Any:
    spec = importlib.util.spec_from_file_location("gen_proto", SDK_DIR / "scripts" / "gen_proto.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_proto"] = module
    spec.loader.exec_module(module)
    return module


def test_committed_stubs_are_fresh(tmp_path: Path) -> None:
    gen = _gen_module()
    assert gen.PROTO_DIR.joinpath(gen.PROTO_FILE).is_file(), f"proto not found under {gen.PROTO_DIR}"
    fresh = gen.generate(tmp_path)
    stale = []
    for path in fresh:
        committed = gen.STUB_DIR / path.name
        if not committed.is_file() or committed.read_bytes() != path.read_bytes():
            stale.append(path.name)
    if stale:
        from grpc_tools import grpc_version  # type: ignore[import-untyped]

        pytest.fail(
            f"stale stubs in hyperspace/_proto: {', '.join(stale)}. The proto changed (or the "
            f"installed grpcio-tools {grpc_version.VERSION} is not the pinned one): run "
            "`python scripts/gen_proto.py` from sdk/python with the pinned grpcio-tools, "
            "then commit the result.",
            pytrace=False,
        )


def test_stubs_import_package_relative() -> None:
    text = (SDK_DIR / "hyperspace" / "_proto" / "hyperspace_pb2_grpc.py").read_text()
    assert "from . import hyperspace_pb2" in text
    assert "\nimport hyperspace_pb2" not in text
