"""What a spec must mean beyond its types: names that exist in the registries,
pairs that fit (an estimator and the space it scores), sizes that agree.
Each rule returns (spec path, message, hint) triples, so all problems show at once."""
from __future__ import annotations

from genelang.suggest import choices_hint

Problem = tuple[str, str, str]
COSTS = ("params", "macs", "latency")     # what objectives and max_<cost> limits may name
# other tools' names for them; most NAS papers' "FLOPs" are multiply-adds
COST_SYNONYMS = {"flops": "macs", "mflops": "macs", "madds": "macs", "multiply-adds": "macs",
                 "parameters": "params", "param": "params", "latency_ms": "latency", "time": "latency"}


def semantic_errors(spec) -> list[Problem]:
    sections = {name: getattr(spec, name) for name in ("run", "task", "space", "model", "strategy",
                                                      "fitness", "execution")}
    return (section_errors(sections) + _space(spec) + _task(spec) + _estimator(spec) + _strategy_checks(spec)
            + _precision(spec) + _costs(spec) + _latency(spec))


def section_errors(s: dict) -> list[Problem]:
    """Rules that need one section only (they run even when another section is invalid)."""
    out: list[Problem] = []
    if "strategy" in s:
        out += _strategy(s["strategy"])
    if "fitness" in s:
        out += _fitness(s["fitness"])
    if "execution" in s:
        out += _execution(s["execution"])
    if "model" in s and "space" in s:
        out += _skeleton(s["space"].space, s["model"].skeleton) + _heads(s["space"].space, s["model"])
    if "task" in s and s["task"].subset is not None and isinstance(s["task"].val, int) \
            and s["task"].val >= s["task"].subset:
        out.append(("task.val", f"{s['task'].val} validation samples leave none of the subset of "
                    f"{s['task'].subset} for training", "lower task.val or raise task.subset"))
    return out


_choices = choices_hint


def _heads(space: str, model) -> list[Problem]:
    """A transformer block splits its width among its heads: caught here, not
    after the first candidate's network fails to build."""
    from genelang.compiler.transformer_space import TRANSFORMER
    from genelang.runtime.transformer import heads_mismatch
    problem = heads_mismatch(model.hidden, model.heads) if space == TRANSFORMER else None
    return [] if problem is None else [("model.heads", f"{problem} (model.hidden {model.hidden})",
                                        "give a model.hidden that model.heads divides")]


def _execution(ex) -> list[Problem]:
    from genelang.runtime.devices import missing_gpus, no_gpu_message, visible_gpus
    if ex.backend not in ("local", "ray"):
        return [("execution.backend", f"unknown backend {ex.backend!r}", "choose from: local, ray")]
    out: list[Problem] = []
    if ex.devices == "cpu" and ex.per_device is not None:
        out.append(("execution.per_device", "shares a GPU among candidates; devices is cpu",
                    "on the CPU, execution.workers says how many candidates run at once"))
    if ex.backend == "ray" and isinstance(ex.devices, list):
        out.append(("execution.devices", "with backend ray: cpu or auto (Ray chooses each candidate's GPU)",
                    "devices: auto"))
    elif isinstance(ex.devices, list):
        count = visible_gpus()
        out += [(f"execution.devices[{k}]", no_gpu_message(i, count),
                 "devices: auto uses every GPU there is (the CPU if none), cpu the CPU")
                for k, i in missing_gpus(ex.devices, count)]
    return out


def _precision(spec) -> list[Problem]:
    from genelang.runtime.devices import visible_gpus
    ex = spec.execution
    on_cpu = ex.devices == "cpu" or (ex.devices == "auto" and ex.backend == "local" and visible_gpus() == 0)
    if spec.fitness.precision == "16-mixed" and on_cpu:
        return [("fitness.precision", "16-mixed needs a GPU (fp16 autocast does not run on the CPU) and "
                 "execution.devices puts the candidates on the CPU", "use bf16-mixed on the CPU")]
    return []


def _strategy(st) -> list[Problem]:
    from genelang.evolve.strategies import strategies
    out: list[Problem] = []
    if st.name not in strategies():
        out.append(("strategy.name", f"unknown strategy {st.name!r}", _choices(st.name, strategies())))
    if st.selection not in ("tournament", "roulette"):
        out.append(("strategy.selection", f"unknown selection {st.selection!r}", "choose from: tournament, roulette"))
    if st.elitism >= st.population:
        out.append(("strategy.elitism", f"must be smaller than strategy.population ({st.population})", ""))
    return out


def _strategy_checks(spec) -> list[Problem]:
    from genelang.evolve.strategies import strategy_checks, strategy_options
    model = strategy_options(spec.strategy.name)
    if model is not None:
        found = option_errors(model, spec.strategy.options, "strategy.options")
        if found:
            return found
    check = strategy_checks(spec.strategy.name)
    return list(check(spec)) if check is not None else []


def option_errors(model, options: dict, prefix: str) -> list[Problem]:
    """A plugin's options (`strategy.options`, `fitness.options`) checked by its
    pydantic model: one problem per bad option, at `prefix.<option>`."""
    from pydantic import ValidationError
    try:
        model.model_validate(options)
    except ValidationError as err:
        out: dict[str, Problem] = {}
        for e in err.errors():
            key = str(e["loc"][0]) if e["loc"] else ""
            path = f"{prefix}.{key}" if key else prefix
            if e["type"] == "extra_forbidden":
                out.setdefault(path, (path, "unknown option", _choices(key, model.model_fields)))
            else:   # a union reports once per member: the first says enough
                out.setdefault(path, (path, e["msg"].replace("Value error, ", ""), ""))
        return list(out.values())
    return []


def _fitness(f) -> list[Problem]:
    out: list[Problem] = []
    allowed = ["fitness", *(f"{sign}{m}" for m in COSTS for sign in ("-", ""))]
    for i, o in enumerate(f.objectives):
        if o not in allowed:
            out.append((f"fitness.objectives[{i}]", f"unknown objective {o!r}", _objective_hint(o, allowed)))
    if not f.objectives:
        out.append(("fitness.objectives", "at least one objective", "objectives: [fitness]"))
    elif f.objectives[0] != "fitness":
        out.append(("fitness.objectives[0]", "the first objective must be 'fitness' (the search's best "
                    "is the fittest; other objectives form the Pareto set beside it)", ""))
    if f.max_epochs is not None and f.max_epochs < f.epochs:
        out.append(("fitness.max_epochs", f"must be at least fitness.epochs ({f.epochs})", ""))
    return out


def _objective_hint(word: str, allowed: list[str]) -> str:
    sign, name = ("-", word[1:]) if word.startswith("-") else ("", word)
    known = COST_SYNONYMS.get(name.lower())
    if known:
        note = " (genelang counts multiply-adds, what most NAS papers call FLOPs)" if known == "macs" else ""
        return f"did you mean {sign + known!r}?{note}"
    return _choices(word, allowed)


def _space(spec) -> list[Problem]:
    from genelang.compiler.registry import ADF, MAIN, spaces
    known = spaces()
    if spec.space.space not in known:
        return [("space.space", f"unknown space {spec.space.space!r}", _choices(spec.space.space, known))]
    space = known[spec.space.space]
    out: list[Problem] = []
    for key, role in (("adf_functions", ADF), ("main_functions", MAIN)):
        names = getattr(spec.space, key)
        if names is None:
            continue
        if not names:
            out.append((f"space.{key}", "must not be empty", ""))
        allowed = space.functions(role)
        for i, n in enumerate(names):
            if n not in allowed:
                out.append((f"space.{key}[{i}]", f"{n!r} is not a {role} function of the {space.name} space",
                            _choices(n, allowed)))
    return out


def _costs(spec) -> list[Problem]:
    """Multiply-adds come from the space's cost table: objectives and limits on
    them need a space that has one."""
    from genelang.compiler.registry import spaces
    known = spaces()
    space = known.get(spec.space.space)
    if space is None or space.cost_model:
        return []
    why = f"needs a space with a cost table; the {space.name} space has none"
    hint = f"spaces with one: {', '.join(sorted(n for n, sp in known.items() if sp.cost_model))}"
    out = [(f"fitness.objectives[{i}]", f"{o!r} {why}", hint)
           for i, o in enumerate(spec.fitness.objectives) if o.lstrip("-") == "macs"]
    if spec.fitness.max_macs is not None:
        out.append(("fitness.max_macs", why, hint))
    return out


def _latency(spec) -> list[Problem]:
    """Latency is timed on image inputs, on a device that is here."""
    from genelang.compiler.registry import spaces
    f, space = spec.fitness, spaces().get(spec.space.space)
    wanted = [(f"fitness.objectives[{i}]", o) for i, o in enumerate(f.objectives) if o.lstrip("-") == "latency"]
    wanted += [("fitness.max_latency_ms", "max_latency_ms")] if f.max_latency_ms is not None else []
    if not wanted or space is None:
        return []
    if space.modality != "image":
        return [(path, f"{what!r}: latency is measured on image networks; the {space.name} space reads "
                 f"{space.modality}s", "") for path, what in wanted]
    if f.latency.device != "cpu":
        from genelang.runtime.devices import visible_gpus
        if visible_gpus() == 0:
            return [("fitness.latency.device", f"{f.latency.device}: no CUDA device here", "device: cpu")]
    return []


def _skeleton(space_name: str, skeleton: str) -> list[Problem]:
    from genelang.compiler.registry import spaces
    space = spaces().get(space_name)
    if space is None:
        return []
    try:
        space.resolve_skeleton(skeleton)
    except LookupError:
        return [("model.skeleton", f"the {space.name} space does not build skeleton {skeleton!r}",
                 _choices(skeleton, space.skeletons))]
    return []


def _task(spec) -> list[Problem]:
    from genelang.compiler.registry import spaces
    from genelang.runtime.tasks import task_names
    images, sequences = task_names("image"), task_names("sequence")
    name = spec.task.name
    if name not in images + sequences:
        return [("task.name", f"unknown task {name!r}", _choices(name, images + sequences))]
    space = spaces().get(spec.space.space)
    if space is None:
        return []
    wants = sequences if space.modality == "sequence" else images
    if name not in wants:
        kind = "image" if wants is images else "sequence"
        return [("task.name", f"{name!r} is not an {kind} task (the {space.name} space trains "
                 f"{kind} models)", f"{kind} tasks: {', '.join(wants)}")]
    return []


def _estimator(spec) -> list[Problem]:
    from genelang.evolve.estimators import estimators, fitting
    name, space = spec.fitness.estimator, spec.space.space
    known = estimators()
    if name not in known:
        return [("fitness.estimator", f"unknown estimator {name!r}", _choices(name, known))]
    if not known[name].fits(space):
        return [("fitness.estimator", f"{name!r} cannot score genomes of the {space} space",
                 f"estimators for {space}: {', '.join(fitting(space))}")]
    if known[name].options is not None:
        found = option_errors(known[name].options, spec.fitness.options, "fitness.options")
        if found:
            return found
    out = list(known[name].checks(spec)) if known[name].checks is not None else []
    from genelang.compiler.registry import spaces
    cells = getattr(spaces().get(space), "modality", None) == "image"
    if spec.fitness.inherit_weights and not (known[name].trains and cells):
        out.append(("fitness.inherit_weights", "needs a training estimator and a space of image cells",
                    "weights are inherited between trained image cells only"))
    return out
