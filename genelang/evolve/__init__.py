"""Evolution: `search.py` on `driver.py` over the subpackages spec/, genome/,
strategies/, estimators/, execution/ and run/ (README, Layout).

`genelang.evolve` is both this package and the function that runs a search:
importing any `genelang.evolve.*` module makes Python bind the package to the
name `evolve` on `genelang`, which would otherwise shadow the function (a
`genelang.load_run(...)` made a later `genelang.evolve(spec)` fail). So the
package itself is callable."""
import sys
import types


class _CallablePackage(types.ModuleType):
    def __call__(self, *args, **kwargs):
        """`genelang.evolve(spec, ...)`: `genelang.evolve.search.run_search`."""
        from genelang.evolve.search import run_search
        return run_search(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
