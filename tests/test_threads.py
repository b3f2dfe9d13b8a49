"""Many threads reading one Map and deriving versions from it at the same time."""

import itertools
import random
import threading
from concurrent.futures import ThreadPoolExecutor

import cohive

N_KEYS = 20_000


def worker(shared: cohive.Map, seed: int, rounds: int) -> int:
    rng = random.Random(seed)
    checked = 0
    mine = shared
    for _ in range(rounds):
        i = rng.randrange(N_KEYS)
        assert shared[f"k{i}"] == {"i": i, "s": str(i)}
        mine = mine.set(f"k{i}", ("t", seed, i))
        assert mine[f"k{i}"] == ("t", seed, i)
        victim = f"k{rng.randrange(N_KEYS)}"
        if victim in mine:
            mine = mine.delete(victim)
            assert victim not in mine
        with mine.mutate() as mm:
            mm[("seed", seed)] = i
            mine = mm.finish()
        for key, value in itertools.islice(shared.items(), 5):
            assert shared[key] == value
        checked += 1
    return checked


def test_threads_share_and_derive_without_corruption() -> None:
    shared = cohive.Map({f"k{i}": {"i": i, "s": str(i)} for i in range(N_KEYS)})
    start = threading.Barrier(8, timeout=30)

    def run(seed: int) -> int:
        start.wait()  # all threads inside the loop together
        return worker(shared, seed, 4000)

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(run, seed) for seed in range(8)]
        assert [f.result(timeout=120) for f in futures] == [4000] * 8
    # The shared Map was never changed by anyone's derived versions.
    assert len(shared) == N_KEYS
    assert all(shared[f"k{i}"] == {"i": i, "s": str(i)} for i in range(0, N_KEYS, 97))


def test_threads_dropping_the_last_reference_concurrently() -> None:
    for _ in range(20):
        base = cohive.Map({i: [i] * 3 for i in range(2000)})
        views = [base[i] for i in range(2000)]
        barrier = threading.Barrier(4, timeout=30)

        def drop(part: list[object]) -> None:
            barrier.wait()
            part.clear()

        parts = [views[i::4] for i in range(4)]
        del views, base
        threads = [threading.Thread(target=drop, args=(p,)) for p in parts]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
            assert not t.is_alive()
