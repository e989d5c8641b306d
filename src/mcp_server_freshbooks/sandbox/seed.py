"""Deterministic seeded books (``random.Random(seed)`` only, relative to ``today``): each resource
seeds itself; this runs them in their ``seed_order`` so the shared RNG is consumed the same way
every time."""

from __future__ import annotations

import random
from collections.abc import Iterable

from .books import Books
from .resource import Resource, Seeding


def seed_books(
    books: Books,
    resources: Iterable[Resource],
    rng: random.Random,
    seed: int,
    clients: int,
    invoices: int,
    expenses: int,
    time_entries: int = 0,
) -> None:
    seeding = Seeding(books, rng, seed, clients, invoices, expenses, time_entries)
    for res in sorted(resources, key=lambda r: r.seed_order):
        if res.seed is not None:
            res.seed(seeding)
