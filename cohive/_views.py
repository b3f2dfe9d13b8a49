"""The keys(), values() and items() views of a Map, and the ABC registrations.

The views are the standard collections.abc ones (set operations included);
only iteration is redirected to the Map's native iterators, so that no view
looks a key up twice.
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterator, KeysView, Mapping, Sequence, ValuesView
from cohive._cohive import FrozenList, Map

# typing is imported for the type checker only: every worker interpreter
# imports this module, and typing would add ~2 ms to its start.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    _KeysView = KeysView[Any]
    _ValuesView = ValuesView[Any]
    _ItemsView = ItemsView[Any, Any]
else:
    _KeysView, _ValuesView, _ItemsView = KeysView, ValuesView, ItemsView


class MapKeysView(_KeysView):
    __slots__ = ()

    def __repr__(self) -> str:
        return f"cohive.MapKeysView({list(self)!r})"


class MapValuesView(_ValuesView):
    __slots__ = ()

    def __iter__(self) -> Iterator[Any]:
        return self._mapping._iter_values()  # type: ignore[attr-defined, no-any-return]

    def __repr__(self) -> str:
        return f"cohive.MapValuesView({list(self)!r})"


class MapItemsView(_ItemsView):
    __slots__ = ()

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        return self._mapping._iter_items()  # type: ignore[attr-defined, no-any-return]

    def __repr__(self) -> str:
        return f"cohive.MapItemsView({list(self)!r})"


Mapping.register(Map)
Sequence.register(FrozenList)
