"""The client against a real node: every call, and the digest recomputed from scrolled data."""

from __future__ import annotations

import asyncio
import json
import random
import struct

import pytest

import hyperspace
from hyperspace import Point, Query, compute_digest, diff, entry_hash

from conftest import Node
from vectors import (
    ENTRIES,
    THREE_POINT_BUCKET_0,
    THREE_POINT_BUCKET_42,
    THREE_POINT_STATE_HASH,
    THREE_POINTS,
)


def f32(x: float) -> float:
    value: float = struct.unpack("<f", struct.pack("<f", x))[0]
    return value


def recomputed(client: hyperspace.Client, collection: str, page_size: int = 100) -> hyperspace.Digest:
    """The §3 digest computed in Python from every point read back by scroll."""
    return compute_digest(client.iter_points(collection, page_size=page_size))


def test_collections_lifecycle(client: hyperspace.Client, collection_name: str) -> None:
    info = client.create_collection(collection_name, 4, "cosine")
    assert (info.name, info.dimension, info.metric, info.count) == (collection_name, 4, "cosine", 0)
    assert collection_name in [c.name for c in client.list_collections()]
    assert client.get_collection(collection_name).dimension == 4
    client.drop_collection(collection_name)
    assert collection_name not in [c.name for c in client.list_collections()]


def test_three_point_test_collection(client: hyperspace.Client, collection_name: str) -> None:
    client.create_collection(collection_name, 3, "l2")
    ack = client.upsert(collection_name, [(id, v, p) for id, v, p, _ in THREE_POINTS])
    assert ack.count == 3 and ack.logical_clock > 0

    d = client.get_digest(collection_name)
    assert d.collection == collection_name
    assert d.logical_clock == ack.logical_clock
    assert d.state_hash == THREE_POINT_STATE_HASH
    assert d.state_hash_hex == "259ed862fa02b2d2"
    assert d.count == 3 and d.bucket_counts[42] == 2 and d.bucket_counts[0] == 1
    assert d.buckets[0] == THREE_POINT_BUCKET_0 and d.buckets[42] == THREE_POINT_BUCKET_42
    assert sum(1 for b in d.buckets if b) == 2
    assert len(d.buckets) == len(d.bucket_counts) == 256

    again = recomputed(client, collection_name)
    assert again.same_content(d)
    again.logical_clock = d.logical_clock
    assert diff(d, again).in_sync

    # Each entry hash as the node lists it in its bucket.
    for id, vector, payload, expected in THREE_POINTS:
        assert (id, expected) in client.list_bucket(collection_name, id % 256)


def test_vector_7_entry_hash_on_the_node(client: hyperspace.Client, collection_name: str) -> None:
    id, vector, payload, expected = ENTRIES[3]
    client.create_collection(collection_name, 2, "l2")
    client.upsert(collection_name, [Point(id, vector, payload)])
    back = client.get(collection_name, id)
    assert back.vector == [f32(0.1), -0.0]
    assert struct.pack("<f", back.vector[1]) == struct.pack("<f", -0.0)  # sign bit kept
    assert back.payload == payload
    assert client.list_bucket(collection_name, 7) == [(7, expected)]
    assert client.get_digest(collection_name).state_hash == expected
    assert recomputed(client, collection_name).state_hash == expected


def test_u64_above_2_pow_53_round_trips(node: Node, client: hyperspace.Client, collection_name: str) -> None:
    ids = [2**53 + 1, 2**63 + 12345, 2**64 - 1]
    client.create_collection(collection_name, 2, "dot")
    client.upsert(collection_name, [(i, [1.0, 2.0], {"id_text": str(i), "max": 2**53}) for i in ids])
    for i in ids:
        p = client.get(collection_name, i)
        assert p.id == i and p.payload == {"id_text": str(i), "max": 2**53}
    assert [p.id for p in client.iter_points(collection_name)] == ids
    d = client.get_digest(collection_name)
    assert d.state_hash == recomputed(client, collection_name).state_hash
    assert d.state_hash == entry_hash(ids[0], [1.0, 2.0], {"id_text": str(ids[0]), "max": 2**53}) ^ entry_hash(
        ids[1], [1.0, 2.0], {"id_text": str(ids[1]), "max": 2**53}
    ) ^ entry_hash(ids[2], [1.0, 2.0], {"id_text": str(ids[2]), "max": 2**53})
    # The same u64 values as the REST API spells them in decimal strings.
    rest = json.loads(node.http_get(f"/api/collections/{collection_name}/digest?u64=string"))
    assert int(rest["state_hash"]) == d.state_hash
    assert [int(b) for b in rest["buckets"]] == d.buckets
    assert int(rest["logical_clock"]) == d.logical_clock
    assert rest["state_hash_hex"] == d.state_hash_hex


def _random_points(rng: random.Random, n: int, dim: int) -> list[Point]:
    words = ["alpha", "béta", "γ", "😀", 'quote"s', "tab\t", ""]
    points = []
    for i in range(n):
        id = rng.choice([rng.randrange(0, 5000), rng.randrange(2**53, 2**64)])
        payload = {
            "word": rng.choice(words),
            "n": rng.randint(-(2**53), 2**53),
            "x": rng.choice([0.1, 1e21, -0.0, 1.5e-7, 3.0, rng.random()]),
            "nested": {"list": [True, None, rng.randint(0, 9)], "€": "€"},
            "group": i % 3,
        }
        if i % 7 == 0:
            payload = {}
        vector = [rng.uniform(-1, 1) for _ in range(dim)]
        if i % 11 == 0:
            vector[0] = -0.0
        points.append(Point(id, vector, payload))
    # unique ids: the last write wins on the node, so keep only the last one here too
    return list({p.id: p for p in points}.values())


def test_digest_matches_recomputation(client: hyperspace.Client, collection_name: str) -> None:
    rng = random.Random(20261202)
    dim = 8
    client.create_collection(collection_name, dim, "l2")
    points = _random_points(rng, 1500, dim)
    for start in range(0, len(points), 500):
        client.upsert(collection_name, points[start : start + 500])
    d = client.get_digest(collection_name)
    assert d.count == len(points)
    local = compute_digest(points)  # from what we sent (f32-rounded by entry_hash)
    assert local.same_content(d)
    assert recomputed(client, collection_name, page_size=333).same_content(d)

    # Overwrite some, delete some: still equal, and diff() names the touched buckets.
    before = d
    changed = points[:20]
    client.upsert(collection_name, [Point(p.id, [0.5] * dim, {"v": 2}) for p in changed])
    gone = [p.id for p in points[20:40]]
    ack = client.delete(collection_name, gone)
    assert ack.count == len(gone)
    after = client.get_digest(collection_name)
    assert after.count == len(points) - len(gone)
    assert after.logical_clock == ack.logical_clock > before.logical_clock
    assert recomputed(client, collection_name, page_size=1000).same_content(after)
    delta = diff(before, after)
    assert not delta.comparable
    assert set(delta.buckets) == {p.id % 256 for p in points[:40]}


def test_points_scroll_search(client: hyperspace.Client, collection_name: str) -> None:
    client.create_collection(collection_name, 3, "l2")
    client.upsert(
        collection_name,
        [
            {"id": 1, "vector": [0.0, 0.0, 0.0], "payload": {"kind": "a"}},
            {"id": 2, "vector": [1.0, 0.0, 0.0], "payload": {"kind": "b"}},
            (3, [2.0, 0.0, 0.0]),
            Point(4, [3.0, 0.0, 0.0], {"kind": "b"}),
        ],
    )
    assert client.get(collection_name, 3) == Point(3, [2.0, 0.0, 0.0], {})

    page = client.scroll(collection_name, limit=2)
    assert [p.id for p in page.points] == [1, 2] and page.next_after == 2
    points, next_after = client.scroll(collection_name, after=2, limit=10)
    assert [p.id for p in points] == [3, 4] and next_after is None

    hits = client.search(collection_name, [2.9, 0.0, 0.0], top_k=2)
    assert [h.id for h in hits] == [4, 3]
    assert hits[0].payload == {"kind": "b"}
    filtered = client.search(collection_name, [0.0, 0.0, 0.0], top_k=5, filter={"kind": "b"}, ef=64)
    assert [h.id for h in filtered] == [2, 4]

    batch = client.search_batch(
        collection_name,
        [Query([0.1, 0, 0], top_k=1), {"vector": [3.0, 0, 0], "top_k": 2}, Query([0, 0, 0], 3, {"kind": "a"})],
    )
    assert [[h.id for h in r] for r in batch] == [[1], [4, 3], [1]]

    client.delete(collection_name, [1])
    with pytest.raises(hyperspace.NotFoundError):
        client.get(collection_name, 1)


def test_default_collection_and_node_info(client: hyperspace.Client) -> None:
    try:
        client.create_collection("default", 2, "cosine")
    except hyperspace.AlreadyExistsError:
        pass
    assert client.get_digest().collection == "default"
    assert client.get_digest(None).collection == "default"
    info = client.node_info()
    assert info.role == "leader" and info.node_id and info.version


def test_http_address_form(node: Node) -> None:
    with hyperspace.Client("http://" + node.grpc + "/") as c:
        assert isinstance(c.list_collections(), list)


def test_async_client(node: Node, collection_name: str) -> None:
    async def main() -> None:
        async with hyperspace.AsyncClient("http://" + node.grpc, timeout=10) as c:
            await c.create_collection(collection_name, 3, "l2")
            await c.upsert(collection_name, [(id, v, p) for id, v, p, _ in THREE_POINTS])
            d = await c.get_digest(collection_name)
            assert d.state_hash == THREE_POINT_STATE_HASH
            points = [p async for p in c.iter_points(collection_name, page_size=2)]
            assert compute_digest(points).same_content(d)
            assert [h.id for h in await c.search(collection_name, [1.0, 2.0, 3.0], top_k=1)] == [298]
            assert len(await c.search_batch(collection_name, [Query([0, 0, 0], 1)] * 3)) == 3
            with pytest.raises(hyperspace.NotFoundError) as e:
                await c.get_digest("no_such_collection_async")
            assert e.value.code == "not_found"

    asyncio.run(main())
