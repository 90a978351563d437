"""Building a pydantic model from another object's attributes of the same names (an ORM row, a dataclass).

A read model lists its fields once, in its class; the code that fills it names only what it adds or computes.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


def from_attributes(model: type[M], obj: object, **values: Any) -> M:
    """``model`` with each field read from ``obj``'s attribute of that name, except those given in ``values``.

    A field neither given nor an attribute of ``obj`` is left to its default (pydantic says if it has none)."""
    read = {n: getattr(obj, n) for n in model.model_fields if n not in values and hasattr(obj, n)}
    return model.model_validate({**read, **values})
