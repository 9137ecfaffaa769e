"""'did you mean ...?': the one suggester for every name a user can mistype
(symbols, spaces, spec options, tasks, targets, strategies)."""
from __future__ import annotations

import difflib
from typing import Iterable, Mapping


def did_you_mean(word: str, options: Iterable[str], aliases: Mapping[str, str] | None = None) -> str:
    """A hint naming what `word` may stand for: the name it is a known alias of
    (another tool's word for the same thing, e.g. 'cnn' for 'conv') and the
    closest spelling among `options`; '' when nothing is close."""
    found = []
    if aliases and word.lower() in aliases:
        found.append(aliases[word.lower()])
    found += [c for c in difflib.get_close_matches(word, list(options), n=1, cutoff=0.6) if c not in found]
    return f"did you mean {' or '.join(repr(f) for f in found)}?" if found else ""


def choices_hint(word: str, options: Iterable[str]) -> str:
    """'did you mean ...?' when a name is close, else the whole list to choose from."""
    names = sorted(options)
    return did_you_mean(word, names) or (f"choose from: {', '.join(names)}" if names else "")


def with_hint(word: str, options: Iterable[str], listing: str) -> str:
    """'did you mean ...? ' (when one is close) followed by `listing`."""
    close = did_you_mean(word, options)
    return f"{close} {listing}" if close else listing
