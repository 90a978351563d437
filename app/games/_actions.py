"""Validation of action arguments, shared by the built-in games."""

from __future__ import annotations

import operator


def as_action(action: object, action_size: int) -> int:
    """``action`` as a Python int in [0, action_size), or ValueError saying what would be valid."""
    try:
        a = operator.index(action)
    except TypeError:
        raise ValueError(
            f"action must be an integer in [0, {action_size}), got {action!r} ({type(action).__name__})"
        ) from None
    if not 0 <= a < action_size:
        raise ValueError(f"action {a} is out of range: valid actions are 0..{action_size - 1}")
    return a
