"""Random streams and identifiers that are unique by construction.

Each (block, purpose) gets its own numpy stream derived from the seed, so adding a new
draw in one place never shifts the numbers drawn anywhere else, and blocks do not
depend on each other. Identifiers that must look random (userIds, anonymousIds,
messageIds) are a bijective 64-bit mix of a counter, so they never collide; a random
draw could, and a collision would silently merge two people.
"""

from __future__ import annotations

import zlib

import numpy as np
import polars as pl

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def stream(seed: int, block: int, purpose: str) -> np.random.Generator:
    """An independent generator for one purpose in one block (block -1: global)."""
    key = zlib.crc32(purpose.encode())
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, block + 1, key])))


def mix64(counter: np.ndarray, salt: str, seed: int) -> np.ndarray:
    """splitmix64's finaliser of (counter xor salt): a bijection of uint64, so distinct
    counters give distinct outputs for a given salt and seed."""
    key = np.uint64((zlib.crc32(salt.encode()) << 32) ^ (seed & 0xFFFFFFFF))
    with np.errstate(over="ignore"):
        z = counter.astype(np.uint64) ^ key
        z = z + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


def _hex_matrix(values: np.ndarray) -> np.ndarray:
    """(n, 16) uint8 ASCII hex digits of uint64 values, most significant first."""
    shifts = np.arange(60, -4, -4, dtype=np.uint64)
    nibbles = (values[:, None] >> shifts[None, :]) & np.uint64(0xF)
    return _HEX[nibbles.astype(np.intp)]


def hex_ids(counter: np.ndarray, salt: str, seed: int, prefix: str = "") -> pl.Series:
    """``prefix`` + 16 hex digits, unique per (counter, salt, seed)."""
    digits = _hex_matrix(mix64(counter, salt, seed))
    text = np.ascontiguousarray(digits).view("S16").ravel().astype("U16")
    series = pl.Series(text, dtype=pl.String)
    return (prefix + series) if prefix else series


def uuids(counter: np.ndarray, salt: str, seed: int) -> pl.Series:
    """RFC 4122 version-4 looking UUIDs; the first 64 bits alone are unique per counter."""
    high = mix64(counter, salt, seed)
    low = mix64(counter, salt + ":low", seed)
    low = (low & np.uint64(0x3FFFFFFFFFFFFFFF)) | np.uint64(0x8000000000000000)  # variant 10xx
    high = (high & np.uint64(0xFFFFFFFFFFFF0FFF)) | np.uint64(0x4000)  # version 4
    digits = np.concatenate([_hex_matrix(high), _hex_matrix(low)], axis=1)
    dash = np.full((len(counter), 1), ord("-"), dtype=np.uint8)
    parts = [digits[:, 0:8], dash, digits[:, 8:12], dash, digits[:, 12:16], dash, digits[:, 16:20], dash]
    text = np.ascontiguousarray(np.concatenate([*parts, digits[:, 20:32]], axis=1))
    return pl.Series(text.view("S36").ravel().astype("U36"), dtype=pl.String)


def block_counter(block: int, index: np.ndarray) -> np.ndarray:
    """Counters that never repeat across blocks: the block in the high bits."""
    return (np.uint64(block) << np.uint64(40)) | index.astype(np.uint64)


def stochastic_round(rng: np.random.Generator, expected: float) -> int:
    """floor(expected) plus one with probability of the remainder: unbiased counts even
    when every file alone would round to zero."""
    whole = int(np.floor(expected))
    return whole + int(rng.random() < expected - whole)
