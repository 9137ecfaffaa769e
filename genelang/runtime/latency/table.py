"""The latency table file: {"format": 1, "tables": {device key: {..., "entries": {name: ms}}}}.

Each device key (device, torch version, threads, batch) has its own entries;
lookups read only the current key's. Saving re-reads the file and merges, so
workers measuring at once keep each other's entries; the write is atomic."""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from genelang.atomic import atomic_write
from genelang.errors import GenelangError
from genelang.runtime.latency.config import LatencyConfig
from genelang.runtime.latency.device import DeviceKey, device_key

FORMAT = 1


class LatencyTable:
    def __init__(self, path: str | Path, key: DeviceKey):
        self.path, self.key = Path(path), key
        self.entries: dict[str, float] = self._read().get(str(key), {}).get("entries", {})

    def _read(self) -> dict:
        if not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text())
        except json.JSONDecodeError as e:
            raise ValueError(f"{self.path}: not a latency table ({e})") from None
        if data.get("format") != FORMAT:
            raise ValueError(f"{self.path}: latency table format {data.get('format')!r}, this genelang reads {FORMAT}")
        return data["tables"]

    def get(self, name: str) -> float | None:
        return self.entries.get(name)

    def add(self, measured: dict[str, float]) -> None:
        """Store new entries under this table's key (merged into the file as it is now)."""
        if not measured:
            return
        tables = self._read()
        mine = tables.setdefault(str(self.key), {**asdict(self.key), "entries": {}})
        mine["entries"].update(measured)
        self.entries = dict(mine["entries"])
        atomic_write(self.path, json.dumps({"format": FORMAT, "tables": tables}, indent=1, sort_keys=True) + "\n")

    def keys(self) -> list[str]:
        """Every device key the file holds (this one's or not)."""
        return list(self._read())


def open_table(cfg: LatencyConfig) -> LatencyTable:
    """This device's table in `cfg.table`, read fresh; an unreadable file or an
    absent device is a located error."""
    try:
        return LatencyTable(cfg.table, device_key(cfg))
    except (ValueError, LookupError) as e:
        raise GenelangError.at("latency", str(e), cfg.table, hint="fix or remove the file") from None
