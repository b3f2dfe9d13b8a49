"""The keys(), values() and items() views of a Map, and the ABC registrations.

The views are the standard collections.abc ones (set operations included);
only iteration is redirected to the Map's native iterators, so that no view
looks a key up twice.
"""

from collections.abc import ItemsView, Iterator, KeysView, Mapping, Sequence, ValuesView
from typing import Any

from cohive._cohive import FrozenList, Map


class MapKeysView(KeysView[Any]):
    __slots__ = ()

    def __repr__(self) -> str:
        return f"cohive.MapKeysView({list(self)!r})"


class MapValuesView(ValuesView[Any]):
    __slots__ = ()

    def __iter__(self) -> Iterator[Any]:
        return self._mapping._iter_values()  # type: ignore[attr-defined, no-any-return]

    def __repr__(self) -> str:
        return f"cohive.MapValuesView({list(self)!r})"


class MapItemsView(ItemsView[Any, Any]):
    __slots__ = ()

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        return self._mapping._iter_items()  # type: ignore[attr-defined, no-any-return]

    def __repr__(self) -> str:
        return f"cohive.MapItemsView({list(self)!r})"


Mapping.register(Map)
Sequence.register(FrozenList)
