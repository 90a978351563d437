"""Numba kernels for the Connect family: gravity drops, k-in-a-row detection and random playouts.

Board layout (shared with ``connect.py``): int8 [h*w], cell = row * w + col with row 0 the TOP row, -1 empty,
otherwise the owner's player index. ``heights``: int8 [w], stones in each column; a stone dropped in column c
lands on row ``h - 1 - heights[c]``.
"""

from __future__ import annotations

import numba
import numpy as np

from app.games._rng import below

EMPTY = -1


@numba.njit(cache=True, inline="always")
def _run(board, r, c, dr, dc, player, h, w):
    """Stones of ``player`` in a line from (r, c) exclusive, stepping (dr, dc)."""
    count = 0
    r += dr
    c += dc
    while 0 <= r < h and 0 <= c < w and board[r * w + c] == player:
        count += 1
        r += dr
        c += dc
    return count


@numba.njit(cache=True, nogil=True)
def completes_line(board, r, c, player, h, w, k):
    """Whether ``player``'s stone on (r, c) is part of at least ``k`` in a row (any of the four directions)."""
    if 1 + _run(board, r, c, 0, 1, player, h, w) + _run(board, r, c, 0, -1, player, h, w) >= k:
        return True
    if 1 + _run(board, r, c, 1, 0, player, h, w) >= k:  # nothing can lie above the newest stone
        return True
    if 1 + _run(board, r, c, 1, 1, player, h, w) + _run(board, r, c, -1, -1, player, h, w) >= k:
        return True
    return 1 + _run(board, r, c, 1, -1, player, h, w) + _run(board, r, c, -1, 1, player, h, w) >= k


@numba.njit(cache=True, nogil=True)
def drop(board, heights, col, player, h, w, k):
    """Copies of (board, heights) after ``player`` drops a stone in ``col``, and whether it made k in a row.

    The column must not be full; the inputs are not modified.
    """
    b = board.copy()
    hs = heights.copy()
    r = h - 1 - hs[col]
    b[r * w + col] = player
    hs[col] += 1
    return b, hs, completes_line(b, r, col, player, h, w, k)


@numba.njit(cache=True, nogil=True)
def encode(board, to_move, num_players, h, w):
    """float32 [num_players + 1, h, w] planes as ``ConnectGame.encode`` documents them, in one pass."""
    planes = np.zeros((num_players + 1, h, w), dtype=np.float32)
    for i in range(h * w):
        r = i // w
        c = i - r * w
        v = board[i]
        if v != EMPTY:
            planes[(v - to_move + num_players) % num_players, r, c] = 1.0
        planes[num_players, r, c] = 1.0
    return planes


@numba.njit(cache=True, nogil=True)
def random_winners(board, heights, to_move, moves, num_players, h, w, k, count, seed):
    """int8 [count]: the winner (-1 for a full-board draw) of ``count`` uniformly random continuations.

    ``moves`` is the number of stones already on the board; each step picks uniformly among non-full columns.
    """
    b = np.empty(h * w, dtype=np.int8)
    hs = np.empty(w, dtype=np.int64)
    open_cols = np.empty(w, dtype=np.int64)
    out = np.empty(count, dtype=np.int8)
    state = np.uint64(seed)
    for g in range(count):
        b[:] = board
        n_open = 0
        for c in range(w):
            hs[c] = heights[c]
            if heights[c] < h:
                open_cols[n_open] = c
                n_open += 1
        player = to_move
        winner = -1
        for _ in range(h * w - moves):
            state, j = below(state, n_open)
            c = open_cols[j]
            r = h - 1 - hs[c]
            b[r * w + c] = player
            hs[c] += 1
            if hs[c] == h:
                n_open -= 1
                open_cols[j] = open_cols[n_open]
            if completes_line(b, r, c, player, h, w, k):
                winner = player
                break
            player += 1
            if player == num_players:
                player = 0
        out[g] = winner
    return out
