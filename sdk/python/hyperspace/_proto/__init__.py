"""gRPC stubs generated from proto/proto/hyperspace.proto (package hyperspace.v1).

Do not edit: regenerate with `python scripts/gen_proto.py` (tests/test_stubs.py fails when
these files are stale).
"""
