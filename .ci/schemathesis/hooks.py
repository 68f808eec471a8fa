"""Formats the API document names that JSON Schema cannot spell out, for schemathesis."""

import sys

import schemathesis
from hypothesis import strategies as st

# The coverage phase walks the nested arrays of a heartbeat's body deeper than Python's
# default recursion limit allows.
sys.setrecursionlimit(20_000)

# A player name: 1 to 24 letters, digits, spaces, '_' or '-' of one writing system, with a
# letter or digit, as the server's rules take it (see crates/arcade-domain/src/name.rs). A
# regular expression cannot say "one writing system after NFKC", so the document calls it the
# format `player-name` and the names are drawn here: Latin, Cyrillic, Greek, Han and Devanagari.
_SCRIPTS = [
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyzéñøß",
    "АБВГДЕЖЗИЙКЛМНОПабвгдежзийклмноп",
    "ΑΒΓΔΕΖΗΘαβγδεζηθ",
    "山田太郎花子竜星",
    "अआइईउऊकखगघ",
]


@st.composite
def _player_name(draw):
    letters = draw(st.sampled_from(_SCRIPTS))
    first = draw(st.sampled_from(letters + "0123456789"))
    rest = draw(st.text(alphabet=letters + "0123456789_-", max_size=22))
    spaced = draw(st.booleans()) and len(rest) > 1
    if spaced:
        cut = draw(st.integers(min_value=1, max_value=len(rest) - 1))
        rest = rest[:cut] + " " + rest[cut:]
    return first + rest


schemathesis.openapi.format("player-name", _player_name())
