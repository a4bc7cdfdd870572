#!/usr/bin/env python3
"""Regenerate the committed gRPC stubs in hyperspace/_proto from the project's proto.

    python scripts/gen_proto.py            # rewrite hyperspace/_proto/hyperspace_pb2*.py(i)
    python scripts/gen_proto.py --check    # exit 1 when the committed stubs are stale

Needs grpcio-tools (the version pinned in pyproject.toml's `test` extra: the generated code
records the protobuf and grpcio versions it was made with). tests/test_stubs.py runs the
same generation into a temporary directory and compares.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

SDK_DIR = Path(__file__).resolve().parent.parent  # sdk/python
REPO_ROOT = SDK_DIR.parent.parent
PROTO_DIR = REPO_ROOT / "proto" / "proto"
PROTO_FILE = "hyperspace.proto"
STUB_DIR = SDK_DIR / "hyperspace" / "_proto"
GENERATED = ("hyperspace_pb2.py", "hyperspace_pb2.pyi", "hyperspace_pb2_grpc.py")


def generate(out_dir: Path, proto_dir: Path = PROTO_DIR) -> list[Path]:
    """Runs protoc (from grpcio-tools) into `out_dir` and makes the imports package-relative."""
    from grpc_tools import protoc  # imported here: only needed to regenerate
    import grpc_tools

    include = Path(grpc_tools.__file__).resolve().parent / "_proto"
    args = [
        "grpc_tools.protoc",
        f"-I{proto_dir}",
        f"-I{include}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        str(proto_dir / PROTO_FILE),
    ]
    if protoc.main(args) != 0:
        raise RuntimeError(f"protoc failed: {' '.join(args)}")
    grpc_file = out_dir / "hyperspace_pb2_grpc.py"
    text = grpc_file.read_text(encoding="utf-8")
    fixed, n = re.subn(
        r"^import hyperspace_pb2 as ", "from . import hyperspace_pb2 as ", text, flags=re.M
    )
    if n != 1:
        raise RuntimeError("unexpected grpc stub layout: could not fix the hyperspace_pb2 import")
    grpc_file.write_text(fixed, encoding="utf-8")
    return [out_dir / name for name in GENERATED]


def stale_files(committed_dir: Path = STUB_DIR) -> list[str]:
    """Names of committed stubs that differ from a fresh generation (empty when up to date)."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(Path(tmp))
        stale = []
        for path in fresh:
            committed = committed_dir / path.name
            if not committed.exists() or committed.read_bytes() != path.read_bytes():
                stale.append(path.name)
        return stale


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale stubs")
    args = parser.parse_args()
    if args.check:
        stale = stale_files()
        for name in stale:
            print(f"stale: hyperspace/_proto/{name}")
        return 1 if stale else 0
    for path in generate(STUB_DIR):
        print(f"wrote {path.relative_to(SDK_DIR)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
