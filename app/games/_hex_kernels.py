"""Numba kernels for Hex: union-find stone placement and random playouts.

Board layout (shared with ``hex.py``): int8 [n*n], cell = row * n + col, -1 empty, 0/1 the player's stone.
Player 0 connects the top row to the bottom row; player 1 the left column to the right column. Cell (r, c)
touches (r-1, c), (r-1, c+1), (r, c-1), (r, c+1), (r+1, c-1), (r+1, c) (rows drawn shifted right as they go down).

Union-find ``parent``: int16 [n*n + 4]; the four extra nodes are the edges (TOP, BOTTOM, LEFT, RIGHT in that
order), so "connected" is one ``find`` comparison after each stone.
"""

from __future__ import annotations

import numba
import numpy as np

from app.games._rng import below

EMPTY = -1
TOP, BOTTOM, LEFT, RIGHT = 0, 1, 2, 3  # offsets past n*n


def initial_parent(n: int) -> np.ndarray:
    """int16 [n*n + 4]: every node its own set."""
    return np.arange(n * n + 4, dtype=np.int16)


@numba.njit(cache=True, inline="always")
def _find(parent, x):
    # Path halving: boards are tiny, so this alone keeps trees flat.
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@numba.njit(cache=True, inline="always")
def _union(parent, a, b):
    ra = _find(parent, a)
    rb = _find(parent, b)
    if ra != rb:
        parent[ra] = rb


@numba.njit(cache=True, inline="always")
def _join(board, parent, cell, player, r, c, n):
    if 0 <= r < n and 0 <= c < n:
        other = r * n + c
        if board[other] == player:
            _union(parent, cell, other)


@numba.njit(cache=True, nogil=True)
def place(board, parent, cell, player, n):
    """Copies of (board, parent) with ``player``'s stone on ``cell``, and whether that player is now connected.

    board int8 [n*n], parent int16 [n*n + 4]; the inputs are not modified.
    """
    b = board.copy()
    p = parent.copy()
    b[cell] = player
    r = cell // n
    c = cell - r * n
    _join(b, p, cell, player, r - 1, c, n)
    _join(b, p, cell, player, r - 1, c + 1, n)
    _join(b, p, cell, player, r, c - 1, n)
    _join(b, p, cell, player, r, c + 1, n)
    _join(b, p, cell, player, r + 1, c - 1, n)
    _join(b, p, cell, player, r + 1, c, n)
    base = n * n
    if player == 0:
        if r == 0:
            _union(p, cell, base + TOP)
        if r == n - 1:
            _union(p, cell, base + BOTTOM)
        won = _find(p, base + TOP) == _find(p, base + BOTTOM)
    else:
        if c == 0:
            _union(p, cell, base + LEFT)
        if c == n - 1:
            _union(p, cell, base + RIGHT)
        won = _find(p, base + LEFT) == _find(p, base + RIGHT)
    return b, p, won


@numba.njit(cache=True, nogil=True)
def encode(board, me, n, num_planes, swap_open):
    """float32 [num_planes, n, n] planes as ``HexGame.encode`` documents them (one pass instead of numpy ops)."""
    planes = np.zeros((num_planes, n, n), dtype=np.float32)
    for i in range(n * n):
        r = i // n
        c = i - r * n
        v = board[i]
        if v == me:
            planes[0, r, c] = 1.0
        elif v != EMPTY:
            planes[1, r, c] = 1.0
        planes[2, r, c] = 1.0
        if me == 1:
            planes[3, r, c] = 1.0
        if swap_open:
            planes[4, r, c] = 1.0
    return planes


@numba.njit(cache=True, nogil=True)
def _top_bottom_connected(b, n, stack, seen):
    """Whether player 0's stones on board ``b`` join the top row to the bottom row (flood fill)."""
    seen[:] = False
    top = 0
    for c in range(n):
        if b[c] == 0:
            seen[c] = True
            stack[top] = c
            top += 1
    while top > 0:
        top -= 1
        cell = stack[top]
        r = cell // n
        c = cell - r * n
        if r == n - 1:
            return True
        for k in range(6):
            if k == 0:
                rr, cc = r - 1, c
            elif k == 1:
                rr, cc = r - 1, c + 1
            elif k == 2:
                rr, cc = r, c - 1
            elif k == 3:
                rr, cc = r, c + 1
            elif k == 4:
                rr, cc = r + 1, c - 1
            else:
                rr, cc = r + 1, c
            if 0 <= rr < n and 0 <= cc < n:
                nb = rr * n + cc
                if b[nb] == 0 and not seen[nb]:
                    seen[nb] = True
                    stack[top] = nb
                    top += 1
    return False


@numba.njit(cache=True, nogil=True)
def random_winners(board, to_move, n, count, seed):
    """int8 [count]: the winner of ``count`` uniformly random games continued from (board, to_move).

    A random game fills the empty cells in a uniformly random order with alternating colours, and in Hex the
    first connection can never be undone or matched, so the winner of the whole filled board is the winner of
    the game: filling the board and testing once is exact, and much cheaper than a union per stone.
    """
    nn = n * n
    empties = np.empty(nn, dtype=np.int64)
    m = 0
    for i in range(nn):
        if board[i] == EMPTY:
            empties[m] = i
            m += 1
    b = np.empty(nn, dtype=np.int8)
    stack = np.empty(nn, dtype=np.int64)
    seen = np.empty(nn, dtype=np.bool_)
    out = np.empty(count, dtype=np.int8)
    state = np.uint64(seed)
    for g in range(count):
        b[:] = board
        player = to_move
        # Fisher-Yates, assigning each drawn cell to the next player as it is drawn.
        for i in range(m):
            state, j = below(state, m - i)
            j += i
            cell = empties[j]
            empties[j] = empties[i]
            empties[i] = cell
            b[cell] = player
            player = 1 - player
        out[g] = 0 if _top_bottom_connected(b, n, stack, seen) else 1
    return out
