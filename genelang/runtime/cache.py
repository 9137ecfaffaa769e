"""Caches a process keeps between candidates: the most recent values by key,
and the loaded data of tasks (a search's worker loads its task once)."""
from __future__ import annotations

from genelang.runtime.tasks import get_task


class Recent:
    """The most recent `maxsize` values made by key (0: keep nothing)."""

    def __init__(self, maxsize: int):
        self.maxsize = maxsize
        self._items: dict[tuple, object] = {}

    def get_or_make(self, key: tuple, make):
        if key in self._items:
            self._items[key] = self._items.pop(key)   # most recently used last
            return self._items[key]
        value = make()
        if self.maxsize > 0:
            self._items[key] = value
            while len(self._items) > self.maxsize:
                self._items.pop(next(iter(self._items)))
        return value

    def clear(self) -> None:
        self._items.clear()


class DataCache(Recent):
    """Loaded task data by (task, root, vectors, dataset), the most recent
    `maxsize` kept: a search's worker loads its task once. Callers control it:
    `data_cache.clear()`, or `data_cache.maxsize = 0` to keep nothing."""

    def __init__(self, maxsize: int = 4):
        super().__init__(maxsize)

    def get(self, name: str, root: str | None, vectors: str | None = None, dataset: str | None = None,
            skip_bad_images: bool = False):
        return self.get_or_make((name, root, vectors, dataset, skip_bad_images),
                                lambda: get_task(name)(root=root, vectors=vectors, dataset=dataset,
                                                       skip_bad_images=skip_bad_images))


data_cache = DataCache()
