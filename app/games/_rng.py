"""A tiny counter-based generator for numba kernels (splitmix64).

Numba kernels take a plain ``uint64`` seed drawn from the caller's ``np.random.Generator`` instead of the
Generator itself: unboxing a Generator costs ~12 µs per call, which would dominate a single rollout. Drawing the
seed with ``rng.bit_generator.random_raw()`` keeps seeded runs reproducible.

Numba's on-disk cache keys each kernel on its own module's source only: after changing this file, delete the
``__pycache__/*.nbi``/``*.nbc`` files of the kernel modules that inline it, or they keep the old code.
"""

from __future__ import annotations

import numba
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0


def draw_seed(rng: np.random.Generator) -> np.uint64:
    """A uint64 seed for a kernel, taken from ``rng`` (advances it)."""
    return np.uint64(rng.bit_generator.random_raw())


@numba.njit(cache=True, inline="always")
def next_u64(state: np.uint64) -> tuple[np.uint64, np.uint64]:
    """(new state, 64 random bits)."""
    state = state + _GOLDEN
    z = state
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return state, z ^ (z >> _S31)


@numba.njit(cache=True, inline="always")
def below(state: np.uint64, k: int) -> tuple[np.uint64, int]:
    """(new state, a uniform integer in [0, k)) for k < 2**53."""
    state, z = next_u64(state)
    return state, int((z >> _S11) * _INV53 * k)
