"""Values people actually have: how cohive classifies, freezes and rebuilds them.

The native side (src/binding/rich_freeze.c, rich_read.c) asks :func:`classify` once per type and
interpreter how a type freezes, and rebuilds read values through the
functions :func:`rich_readers` hands it.  Classes travel by name
("module:qualname"), as pickle sends them: a reader imports the class in its
own interpreter.

Registration (:func:`register`) is per interpreter, keyed by class name: an
interpreter that reads an instance of a registered class it has not
registered imports the class's module first (so registering in the module
that defines the class reaches every interpreter), and otherwise gets a
:class:`TypeError` telling it to register the class.

Data from outside the process is data, not code: loading a pickled Map
checks each class name it mentions against the process-wide set of classes
frozen or registered here, or allowed with :func:`allow`, and imports
nothing before that check passes.
"""

from __future__ import annotations

import sys

from cohive import _cohive

TYPE_CHECKING = False  # not typing's, nor functools or collections.abc: each would add to a worker's start
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

# What rich_freeze.c calls a kind, and the native instance flags (values_layout.h).
DATE, DATETIME, TIME, TIMEDELTA, DECIMAL, UUID, INSTANCE = range(1, 8)
INST_ENUM, INST_ENUM_VALUE, INST_DATACLASS, INST_NAMEDTUPLE, INST_REGISTERED = range(1, 6)
TZ_FIXED, TZ_ZONE = 1, 2

# Enums mixed with these types equal their values (IntEnum.A == 1), so they
# are keys that find, and are found by, their plain values.
_VALUE_MIXINS = (int, str, float, bytes)

# Types the native freeze handles before it would look at a registration.
_NATIVE = (type(None), bool, int, float, complex, str, bytes, tuple, frozenset, set, list, dict)

# Per interpreter: class -> (encode, decode) and "module:qualname" -> decode.
_encoders: dict[type, Callable[[Any], Any]] = {}
_decoders: dict[str, Callable[[Any], Any]] = {}
# Per interpreter: "module:qualname" -> the class, once imported.
_classes: dict[str, type] = {}


def class_name(cls: type) -> str:
    """The "module:qualname" a reader imports `cls` by; TypeError saying why if there is none."""
    from cohive import _shipping  # imported when first needed: workers pay for every import

    module, qualname = cls.__module__, cls.__qualname__
    shown = f"{module}.{qualname}"
    if "<locals>" in qualname:
        raise TypeError(
            f"{shown} is defined inside a function: cohive sends classes by name, as pickle does, "
            "and no reader could import it; define it at module level"
        )
    if module == "__main__" and getattr(sys.modules.get("__main__"), "__file__", None) is None:
        raise TypeError(
            f"{shown} was defined interactively: cohive sends classes by name, as pickle does, "
            "and no reader could import it; define it in a module"
        )
    if _shipping._lookup(sys.modules.get(module), qualname) is not cls:
        raise TypeError(f"{shown} cannot be found under its own name, so no reader could import it")
    name = f"{module}:{qualname}"
    _cohive._note_class(name)
    return name


def classify(cls: type) -> tuple[int, int, str | None, tuple[str, ...] | None, Any] | None:
    """How values of `cls` freeze: (kind, instance flags, class name, field names, encode), or None."""
    if cls in _encoders:
        return (INSTANCE, INST_REGISTERED, class_name(cls), None, _encoders[cls])
    module = getattr(cls, "__module__", "")
    if module in ("datetime", "_datetime", "_pydatetime"):
        import datetime

        kind = {datetime.date: DATE, datetime.datetime: DATETIME, datetime.time: TIME,
                datetime.timedelta: TIMEDELTA}.get(cls)
        return (kind, 0, None, None, None) if kind else None
    if module in ("decimal", "_decimal", "_pydecimal"):
        import decimal

        return (DECIMAL, 0, None, None, None) if cls is decimal.Decimal else None
    if module == "uuid":
        import uuid

        return (UUID, 0, None, None, None) if cls is uuid.UUID else None
    enum = sys.modules.get("enum")
    if enum is not None and isinstance(cls, enum.EnumMeta) and issubclass(cls, enum.Enum):
        mixed = getattr(cls, "_member_type_", object) in _VALUE_MIXINS
        return (INSTANCE, INST_ENUM_VALUE if mixed else INST_ENUM, class_name(cls), None, None)
    dataclasses = sys.modules.get("dataclasses")
    if dataclasses is not None and dataclasses.is_dataclass(cls):
        names = tuple(field.name for field in dataclasses.fields(cls))
        return (INSTANCE, INST_DATACLASS, class_name(cls), names, None)
    fields = getattr(cls, "_fields", None)
    if issubclass(cls, tuple) and isinstance(fields, tuple) and all(isinstance(f, str) for f in fields):
        return (INSTANCE, INST_NAMEDTUPLE, class_name(cls), fields, None)
    return None


def tz_state(value: Any, tz: Any) -> tuple[int, str | None, int | None]:
    """(TZ_FIXED or TZ_ZONE, the zone's name or key, the UTC offset in microseconds or None)."""
    import datetime

    if type(tz) is datetime.timezone:
        args = tz.__getinitargs__()  # type: ignore[attr-defined]
        kind, zone = TZ_FIXED, (args[1] if len(args) > 1 else None)
    else:
        zoneinfo = sys.modules.get("zoneinfo")
        if zoneinfo is None or type(tz) is not zoneinfo.ZoneInfo or tz.key is None:
            raise TypeError("unshareable time zone")
        kind, zone = TZ_ZONE, tz.key
    offset = value.utcoffset()
    if offset is None:
        return (kind, zone, None)
    return (kind, zone, (offset.days * 86400 + offset.seconds) * 1_000_000 + offset.microseconds)


def _zoneinfo() -> Any:
    import datetime

    if "zoneinfo" not in sys.modules and not hasattr(datetime, "datetime_CAPI"):
        # CPython 3.12 in an isolated subinterpreter: datetime is the pure-Python
        # one there, and merely trying the C _zoneinfo (which needs the C
        # datetime) breaks _zoneinfo in the main interpreter.  Use zoneinfo's
        # pure-Python twin instead.
        sys.modules.setdefault("_zoneinfo", None)  # type: ignore[arg-type]
    import zoneinfo

    return zoneinfo


# The time zones read so far: a read value's tzinfo is made once per zone.
_zones: dict[tuple[int, str | None, int | None], Any] = {}
_ZONES_KEPT = 256


def _tz(kind: int, zone: str | None, offset_us: int | None) -> Any:
    key = (kind, zone, offset_us)
    tz = _zones.get(key)
    if tz is None:
        import datetime

        if kind == TZ_ZONE:
            tz = _zoneinfo().ZoneInfo(zone)
        else:
            offset = datetime.timedelta(microseconds=offset_us or 0)
            tz = datetime.timezone(offset, zone) if zone is not None else datetime.timezone(offset)
        if len(_zones) >= _ZONES_KEPT:
            _zones.clear()
        _zones[key] = tz
    return tz


def load_class(name: str) -> type:
    """The class "module:qualname" names, imported in this interpreter (values from this process only)."""
    cls = _classes.get(name)
    if cls is None:
        from cohive import _shipping

        module, _, qualname = name.partition(":")
        shown = f"{module}.{qualname}"
        try:
            found = _shipping._lookup(_shipping.import_module(module), qualname)
        except ImportError as exc:
            raise ImportError(f"cannot rebuild a frozen {shown}: {exc}", name=module) from exc
        if not isinstance(found, type):
            raise ImportError(f"cannot rebuild a frozen {shown}: module {module!r} has no class {qualname!r}",
                              name=module)
        cls = _classes[name] = found
    return cls


def _decoder(name: str) -> Callable[[Any], Any]:
    decode = _decoders.get(name)
    if decode is None:
        load_class(name)  # importing its module may register it
        decode = _decoders.get(name)
    if decode is None:
        module, _, qualname = name.partition(":")
        raise TypeError(
            f"cannot rebuild a {module}.{qualname}: it was frozen with cohive.register, but this "
            f"interpreter has not registered it; call cohive.register({qualname}, encode, decode) here "
            "(registering in the module that defines the class does it for every interpreter)"
        )
    return decode


def rich_readers() -> tuple[Any, ...]:
    """What rich_read.c uses to rebuild values, in its order (R_DATE ... R_FOLD_KW)."""
    import datetime
    import decimal
    import uuid

    return (datetime.date, datetime.datetime, datetime.time, datetime.timedelta, datetime.timezone,
            decimal.Decimal, _tz, uuid.UUID, uuid.SafeUUID.unknown, load_class, _decoder, ("fold",))


def register(cls: type, encode: Callable[[Any], Any], decode: Callable[[Any], Any]) -> None:
    """Teach cohive a class: ``encode(obj)`` returns a shareable value, ``decode(value)`` rebuilds the object.

    Registration holds in this interpreter.  An interpreter that reads a
    registered class's value imports the class's module first, so calling
    register in the module that defines the class makes it work everywhere;
    otherwise the reader gets a TypeError asking it to register the class.
    """
    if not isinstance(cls, type):
        raise TypeError(f"register() needs a class, not {cls!r}")
    if not callable(encode) or not callable(decode):
        raise TypeError("register() needs callable encode and decode functions")
    if cls in _NATIVE or issubclass(cls, dict):
        raise ValueError(f"cohive shares {cls.__qualname__} natively; it cannot be registered")
    name = class_name(cls)
    _encoders[cls] = encode
    _decoders[name] = decode
    _classes[name] = cls
    _cohive._forget_classes()


def allow(*classes: type | str) -> None:
    """Allow pickles and other data from outside this process to name these classes.

    Give classes or "module:qualname" strings.  Classes frozen or registered
    in this process are allowed already.
    """
    for cls in classes:
        if isinstance(cls, str):
            module, colon, qualname = cls.partition(":")
            if not colon or not module or not qualname:
                raise ValueError(f"allow() needs 'module:qualname', not {cls!r}")
            _cohive._note_class(cls)
        elif isinstance(cls, type):
            class_name(cls)
        else:
            raise TypeError(f"allow() needs classes or 'module:qualname' strings, not {cls!r}")
