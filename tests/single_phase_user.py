"""A module that imports a single-phase-init extension at its top (test helper)."""

import _testsinglephase  # noqa: F401


def run(ctx: object) -> None:
    pass
