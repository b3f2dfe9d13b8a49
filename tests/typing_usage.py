"""Type-checked by `./dev test` (mypy --strict): the public API as users write it."""

import cohive

m: cohive.Map[str, int] = cohive.Map({"a": 1})
m2: cohive.Map[str, int] = m.set("b", 2).delete("a").update({"c": 3}, d=4)
value: int = m2["c"]
maybe: int | None = m2.get("zz")
fallback: int | str = m2.get("zz", "none")
with m2.mutate() as mm:
    mm["e"] = 5
    popped: int = mm.pop("e")
    m3: cohive.Map[str, int] = mm.finish()
merged: cohive.Map[str, int] = m3 | {"f": 6}
keys: list[str] = sorted(merged.keys())
pairs: list[tuple[str, int]] = sorted(merged.items())
fl: cohive.FrozenList[int] = cohive.FrozenList([1, 2, 3])
first: int = fl[0]
part: cohive.FrozenList[int] = fl[1:]
size: int = cohive.native_bytes()
plain: dict[str, int] = merged.thaw()
ref: cohive.Ref[cohive.Map[str, int]] = cohive.Ref("typing-example", default=merged)
current: cohive.Map[str, int] = ref.get()
version: int = ref.set(current.set("g", 7))
published: cohive.Map[str, int] = ref.update(lambda m: m.set("h", 8))
jobs: cohive.Queue[tuple[str, int]] = cohive.Queue(maxsize=10, name="typing-jobs")
jobs.put(("a", 1), timeout=1.0)
job: tuple[str, int] = jobs.get_nowait()
with cohive.Lock() as acquired:
    held: bool = acquired
ready: bool = cohive.Event().wait(timeout=0.1)
ticket: int = cohive.Counter().add(2)
blob: cohive.FrozenBytes = cohive.FrozenBytes(bytearray(b"abc"))
view: memoryview = memoryview(blob)
byte: int = blob[0]
head: bytes = blob[:2]


class Celsius:
    def __init__(self, degrees: float) -> None:
        self.degrees = degrees


cohive.register(Celsius, lambda c: c.degrees, Celsius)
cohive.allow("decimal:Decimal", Celsius)
