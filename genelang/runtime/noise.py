"""What libraries print that a user of a command did not ask for: Lightning's
banners ("GPU available", "💡 Tip: ..."), its INFO lines, deprecation and
future warnings from torch and Lightning, numerical RuntimeWarnings in
statistics whose NaN results are handled. Commands run inside `quiet()`
unless given --verbose."""
from __future__ import annotations

import contextlib
import logging
import warnings

LOGGERS = ("pytorch_lightning", "lightning", "lightning.pytorch", "lightning_fabric")


@contextlib.contextmanager
def quiet(verbose: bool = False):
    if verbose:
        yield
        return
    import pytorch_lightning  # noqa: F401  (importing it sets its loggers to INFO: quiet them after)
    loggers = [logging.getLogger(name) for name in LOGGERS]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            for category in (DeprecationWarning, FutureWarning, RuntimeWarning):
                warnings.simplefilter("ignore", category)
            warnings.filterwarnings("ignore", module=r"(pytorch_)?lightning(_fabric)?(\.|$)")
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)
