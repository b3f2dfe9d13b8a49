"""The keys(), values() and items() views of a Map, and the ABC registrations.

The views are the standard collections.abc ones (set operations included);
only iteration is redirected to the Map's native iterators, so that no view
looks a key up twice.  (Map and FrozenList are registered as a Mapping and a
Sequence by cohive/__init__.py; this module loads when a view is first made.)
"""

from __future__ import annotations

# collections.abc's own classes, without importing all of collections (which
# a worker interpreter would pay for).
from _collections_abc import ItemsView, KeysView, ValuesView

TYPE_CHECKING = False  # not typing's: importing typing costs a worker ~2 ms
if TYPE_CHECKING:
    from collections.abc import Iterator
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
