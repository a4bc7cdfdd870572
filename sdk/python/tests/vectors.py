"""DESIGN.md §3 test vectors."""

from typing import Any, Dict, List, Tuple


VECTOR_7_PAYLOAD: Dict[str, Any] = {
    "x": 1.0,
    "y": 1e21,
    "z": 0.000001,
    "n": -3,
    "€": [True, None, "€"],
    "😀": "a",
    "｡": "b",
}
VECTOR_7_CANONICAL = '{"n":-3,"x":1,"y":1e+21,"z":0.000001,"€":[true,null,"€"],"😀":"a","｡":"b"}'

# (id, vector, payload, entry_hash)
ENTRIES: List[Tuple[int, List[float], Dict[str, Any], int]] = [
    (42, [0.5, -1.0, 2.25], {"b": 1, "a": "x"}, 11995086230025530625),
    (0, [0.0, 0.25, 1.0], {}, 15492647471513518463),
    (298, [1.0, 2.0, 3.0], {"tag": "ü"}, 6118478708286267052),
    (7, [0.1, -0.0], VECTOR_7_PAYLOAD, 886682457369270957),
]
THREE_POINTS = ENTRIES[:3]  # the l2 collection of dimension 3
THREE_POINT_STATE_HASH = 2710841945336492754  # 0x259ed862fa02b2d2
THREE_POINT_BUCKET_0 = 15492647471513518463
THREE_POINT_BUCKET_42 = 17482455506791986093
