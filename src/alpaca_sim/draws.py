"""Keyed uniform draws: a number in [0, 1) that is a pure function of a few integers.

The market's per-step spread and the fill models' choices (which paper fill is partial, how much
a wholesaler improves an order) are drawn this way, keyed on (seed, step) or (seed, the order's
client_order_id), so a draw never depends on how many other draws came before it or on when
anything happened: the same seed gives the same spread at a step and the same choice for an
order of the same client_order_id, however often anyone looked at anything else.
The mixing function is splitmix64's finaliser (Steele, Lea and Flood, "Fast splittable
pseudorandom number generators", OOPSLA 2014), cheap in pure Python (a few integer operations).
"""

import hashlib

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_UNIT = float(1 << 53)


def _mix(value: int) -> int:
    z = (value + _GOLDEN) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def text_key(text: str) -> int:
    """A 64-bit key for `text`, the same in every process (unlike the salted built-in hash)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def keyed_unit(*keys: int) -> float:
    """A uniform draw in [0, 1) determined by `keys` alone."""
    state = 0
    for key in keys:
        state = _mix(state ^ (key & _MASK))
    return (state >> 11) / _UNIT
