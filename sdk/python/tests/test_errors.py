"""Failed calls raise HyperspaceError subclasses with the gRPC status and the §5 code."""

from __future__ import annotations

import socket

import grpc
import pytest

import hyperspace
from hyperspace import HyperspaceError

from conftest import API_KEY, Node


def test_unknown_collection(client: hyperspace.Client) -> None:
    with pytest.raises(hyperspace.NotFoundError) as e:
        client.get_digest("no_such_collection")
    err = e.value
    assert isinstance(err, HyperspaceError)
    assert err.code == "not_found" and err.status == grpc.StatusCode.NOT_FOUND
    assert "no_such_collection" in err.message and "not_found" in str(err)
    for call in (
        lambda: client.get_collection("no_such_collection"),
        lambda: client.upsert("no_such_collection", [(1, [1.0])]),
        lambda: client.scroll("no_such_collection"),
        lambda: client.search("no_such_collection", [1.0]),
    ):
        with pytest.raises(hyperspace.NotFoundError):
            call()


def test_wrong_dimension(client: hyperspace.Client, collection_name: str) -> None:
    client.create_collection(collection_name, 3, "l2")
    with pytest.raises(hyperspace.InvalidArgumentError) as e:
        client.upsert(collection_name, [(1, [1.0, 2.0])])
    assert e.value.code == "invalid_argument"
    assert e.value.status == grpc.StatusCode.INVALID_ARGUMENT
    assert "3" in e.value.message
    with pytest.raises(hyperspace.InvalidArgumentError):
        client.search(collection_name, [1.0, 2.0, 3.0, 4.0])
    assert client.get_digest(collection_name).count == 0


def test_invalid_input(client: hyperspace.Client, collection_name: str) -> None:
    with pytest.raises(hyperspace.InvalidArgumentError):
        client.create_collection(collection_name, 3, "manhattan")
    with pytest.raises(hyperspace.InvalidArgumentError):
        client.create_collection("bad name!", 3, "l2")
    client.create_collection(collection_name, 1, "l2")
    with pytest.raises(hyperspace.InvalidArgumentError):
        client.upsert(collection_name, [(1, [1.0], {"n": 2**53 + 1})])  # not an exact double
    with pytest.raises(hyperspace.AlreadyExistsError) as e:
        client.create_collection(collection_name, 1, "l2")
    assert e.value.code == "already_exists" and e.value.status == grpc.StatusCode.ALREADY_EXISTS
    # Caught before sending: the usual Python exceptions.
    with pytest.raises(TypeError):
        client.upsert(collection_name, [(1, [1.0], ["not", "an", "object"])])
    with pytest.raises(ValueError):
        client.upsert(collection_name, [(2**64, [1.0])])
    with pytest.raises(ValueError):
        client.upsert(collection_name, [(1, [1.0], {"x": float("nan")})])


def test_api_key(keyed_node: Node, collection_name: str) -> None:
    with keyed_node.client(api_key="wrong-key") as c:
        with pytest.raises(hyperspace.UnauthenticatedError) as e:
            c.list_collections()
    assert e.value.code == "unauthenticated"
    assert e.value.status == grpc.StatusCode.UNAUTHENTICATED
    with keyed_node.client(api_key=None) as c:
        with pytest.raises(hyperspace.UnauthenticatedError):
            c.get_digest()
    with keyed_node.client(api_key=API_KEY) as c:
        c.create_collection(collection_name, 2, "l2")
        assert c.get_digest(collection_name).count == 0


def test_unreachable_node() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        # the port is bound but not listening: connections are refused
        with hyperspace.Client(f"127.0.0.1:{port}", timeout=5) as c:
            with pytest.raises(hyperspace.UnavailableError) as e:
                c.list_collections()
    assert e.value.status == grpc.StatusCode.UNAVAILABLE
    assert e.value.code == "unavailable"


def test_bad_address() -> None:
    with pytest.raises(ValueError):
        hyperspace.Client("http://host:1/some/path")
