"""A whole generation run: seeds -> plans -> instructions -> dialogs (continuous batches) into a run folder.

Used by ``solid-bench generate`` and by the ``solid`` corpus. Resumable (plan ids already written
are skipped), stops cleanly at a token budget, and can estimate calls and tokens without any LLM.
"""

from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from solid_bench.errors import UserError

from .instructions import InstructionBook
from .plans import iter_plans, sequence_pool
from .registry import GENERATORS
from .runfolder import RunFolder
from .seeding import SelfSeeder, load_seed_file


@dataclass(frozen=True)
class GenerationConfig:
    """Everything a generation run depends on; validated once, here."""

    out: str
    n: int = 100
    method: str = "solid"
    backend: str = "transformers"
    model: str | None = None
    base_url: str | None = None
    batch_size: int = 8
    seed: int = 0
    seeds_file: str | None = None
    max_turns: int | None = None
    min_count: int = 1
    budget_tokens: int | None = None
    cache: bool = True
    max_new_tokens: int = 80
    temperature: float = 0.7
    retries: int = 2
    history: int = 20
    names_per_request: int = 5
    backend_options: dict = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if self.n < 1:
            raise UserError(f"--n must be at least 1, got {self.n}.")
        if self.batch_size < 1:
            raise UserError(f"--batch-size must be at least 1, got {self.batch_size}.")
        if self.max_turns is not None and self.max_turns < 1:
            raise UserError(f"--max-turns must be at least 1, got {self.max_turns}.")
        if self.budget_tokens is not None and self.budget_tokens < 1:
            raise UserError(f"--budget-tokens must be positive, got {self.budget_tokens}.")
        if self.retries < 0:
            raise UserError(f"--retries must be 0 or more, got {self.retries}.")
        if self.names_per_request < 1:
            raise UserError(f"--names-per-request must be at least 1, got {self.names_per_request}.")
        if self.seed < 0:
            raise UserError(f"--seed must be 0 or more, got {self.seed}.")
        if self.max_new_tokens < 1:
            raise UserError(f"--max-new-tokens must be at least 1, got {self.max_new_tokens}.")
        if self.min_count < 1:
            raise UserError(f"--min-count must be at least 1, got {self.min_count}.")
        from solid_bench.llm import BACKENDS

        BACKENDS.get(self.backend)  # an unknown backend fails here, with suggestions

    def check_seeds_file(self) -> None:
        """Read the ``--seeds`` file now, so that a bad or empty list fails before any output exists."""
        if self.seeds_file:
            load_seed_file(Path(self.seeds_file))

    def identity(self) -> dict[str, Any]:
        """The settings a resumed run must share with the first one (not n, budget, batch size, cache)."""
        keep = ("method", "backend", "model", "seed", "seeds_file", "max_turns", "min_count", "max_new_tokens",
                "temperature", "retries", "history", "names_per_request")
        return {k: getattr(self, k) for k in keep}


#: While generating, manifest.json is rewritten at most this often (it is always written at the end,
#: and on an interrupt); counts are rebuilt from dialogs.jsonl and rejected.jsonl on every resume.
MANIFEST_SECONDS = 2.0


def public_config(config: GenerationConfig) -> dict[str, Any]:
    """The config as manifest.json records it: server URLs without credentials or query strings."""
    from solid_bench.llm.urls import public_urls

    out = asdict(config)
    out["base_url"] = public_urls(config.base_url)
    options = dict(out["backend_options"])
    if isinstance(options.get("base_url"), str):
        options["base_url"] = public_urls(options["base_url"])
    out["backend_options"] = options
    return out


def open_llm(config: GenerationConfig, folder: Path):
    """The backend named in ``config``, wrapped in the SQLite cache of the run folder when asked."""
    options = dict(config.backend_options)
    if config.base_url:
        options["base_url"] = config.base_url
    if config.backend == "transformers":
        options.setdefault("batch_size", config.batch_size)
    if config.cache:
        try:
            from solid_bench.llm.cache import open_backend
        except ImportError:  # the cache module is optional for the generator
            open_backend = None
        if open_backend is not None:
            return open_backend(config.backend, config.model, cache_path=folder / "llm-cache.sqlite", **options)
    from solid_bench.llm import create_backend

    return create_backend(config.backend, config.model, **options)


def external_costs(config: GenerationConfig, n_seeds: int) -> dict[str, dict]:
    """Costs made outside this run folder that its corpus owes, for the all-in figure.

    ``seeding``: seeds taken from another run's ``seeding.json`` (``solid-bench seeds``), its cost
    pro-rated by the seeds this run uses. ``generator``: a trained generator's own making (its
    ``training.json`` ``cost.total``: training corpus all-in cost plus training compute), with what
    it was made from (``made_from``: base model and training corpus, which name the corpus)."""
    import json

    out: dict[str, dict] = {}
    keys = ("llm_calls", "prompt_tokens", "completion_tokens", "seconds")
    if config.seeds_file:
        record = Path(config.seeds_file).parent / "seeding.json"
        try:
            info = json.loads(record.read_text(encoding="utf-8"))
            total, made = info["cost"]["all"], int(info["seeds"])
        except (OSError, ValueError, KeyError, TypeError):
            total, made = None, 0
        if total and made > 0:
            share = min(1.0, n_seeds / made)
            out["seeding"] = {k: total.get(k, 0) * share for k in keys} | {
                "source": str(record), "seeds_used": n_seeds, "seeds_made": made, "share": round(share, 6)}
    if config.method == "solid-rl" and config.model:
        card = Path(config.model) / "training.json"
        try:
            info = json.loads(card.read_text(encoding="utf-8"))
            cost, made_from = info["cost"]["total"], dict(info.get("made_from") or {})
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            cost, made_from = None, {}
        if cost:
            out["generator"] = {k: cost.get(k, 0) for k in keys} | {"source": str(card)} | made_from
    return out


def _log(msg: str) -> None:
    print(f"[generate] {msg}", file=sys.stderr, flush=True)


def run_generation(config: GenerationConfig, train=None, backend=None,
                   progress: Callable[[int, int], None] | None = None, log: Callable[[str], None] = _log) -> dict:
    """Generate ``config.n`` plans into ``config.out`` (resuming); returns the final manifest.

    ``train`` is the human TRAIN corpus whose intent sequences are sampled (default: resolve
    ("human", "train")); ``backend`` overrides the one named in the config (tests).
    """
    # everything a user can get wrong is checked before the run folder is touched
    generator_cls = GENERATORS.get(config.method)
    if train is None:
        from solid_bench.corpora import resolve

        train = resolve("human", "train")
    pool = sequence_pool(train, config.max_turns, config.min_count)
    config.check_seeds_file()
    out = Path(config.out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file; name a folder for the run.")
    llm = backend if backend is not None else open_llm(config, out)
    folder = RunFolder(out)
    folder.check_config(config.identity())
    model = llm.model_id
    extra: dict[str, Any] = {"train_corpus": {"spec": train.spec, "split": train.split, "sha256": train.sha256}}
    previous = folder.read_manifest() or {}
    if previous.get("display_name"):  # written by hand (generator_names): a resume keeps it
        extra["display_name"] = previous["display_name"]
    status = "running"

    def manifest(state: str) -> dict:
        return folder.write_manifest(identity=config.identity(), config=public_config(config), model=model,
                                     status=state, extra=extra)

    try:
        manifest("running")  # the identity is on disk before any work, so a resume is checked against it
        if config.seeds_file:
            log(f"taking up to {config.n} seeds from {config.seeds_file} (a field the file leaves empty is written by {model})")
        else:
            log(f"self-seeding {config.n} seeds with {config.backend} ({model})")
        seeder = SelfSeeder(llm, folder.path, folder.meter, seed=config.seed, batch_size=config.batch_size,
                            names_per_request=config.names_per_request,
                            seed_file=Path(config.seeds_file) if config.seeds_file else None)
        seeds = seeder.run(config.n)
        extra["seeding"] = {"seeds": len(seeds), **seeder.stats}
        extra["external_costs"] = external_costs(config, len(seeds))
        if len(seeds) < config.n:
            log(f"only {len(seeds)} seeds could be made; seeds are reused in turn")

        def plans():  # made afresh on each pass, one at a time: memory stays flat in n
            return iter_plans(seeds, pool, config.n, seed=config.seed)

        book = InstructionBook(folder.path / "instructions.json")
        generator = generator_cls(llm, book, folder.meter, seed=config.seed, max_new_tokens=config.max_new_tokens,
                                  temperature=config.temperature, retries=config.retries, history=config.history)
        merged = book.ensure(generator.needed_instructions(plans()), llm, folder.meter)
        if merged:
            log(f"merged {merged} multi-intent instructions")
        total = config.n
        finished = sum(1 for p in plans() if folder.is_done(p.plan_id))
        todo = (p for p in plans() if not folder.is_done(p.plan_id))
        log(f"{finished} of {total} plans already done; generating {total - finished}, "
            f"up to {config.batch_size} at a time")
        if progress:
            progress(finished, total)
        from solid_bench.schema import dialog_to_dict

        def budget_left() -> bool:
            return config.budget_tokens is None or folder.meter.spent_tokens < config.budget_tokens

        written = time.monotonic()
        for dialogs, rejected in generator.stream(todo, config.batch_size, budget_left):
            # written as each dialog finishes: an interrupt loses at most the dialogs in flight
            folder.append([dialog_to_dict(d) for d in dialogs], rejected)
            finished += len(dialogs) + len(rejected)
            if time.monotonic() - written >= MANIFEST_SECONDS:  # the files are the truth; the manifest a summary
                manifest("running")
                written = time.monotonic()
            if progress:
                progress(finished, total)
        status = "complete" if finished >= total else "budget_reached"
        if status == "budget_reached":
            log(f"token budget {config.budget_tokens} reached ({folder.meter.spent_tokens} spent); "
                "rerun with a larger --budget-tokens to continue")
        return manifest(status)
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    except BaseException:
        status = "failed"
        raise
    finally:
        if status in ("interrupted", "failed", "running"):
            try:
                manifest("interrupted" if status == "running" else status)
            except Exception:  # the folder may be gone; the original error matters more
                pass


#: tokens per whitespace word, a typical ratio for English text under BPE tokenizers.
TOKENS_PER_WORD = 1.35
#: expected completion length in words per template (observed order of magnitude, small models).
EXPECTED_WORDS = {"entity_types": 30, "entity_names": 20, "attributes": 25, "background": 90, "starter": 25,
                  "merge_instructions": 35, "turn": 45}


def estimate(config: GenerationConfig, train, retry_rate: float = 0.15, na_rate: float = 0.3,
             names_per_request: int | None = None, n_types: int = 10, utterance_words: int = 45) -> dict:
    """Calls and tokens a run would need, from the plans alone (no LLM call; an upper bound when resuming)."""
    from solid_bench.schema import Seed

    from .instructions import SINGLE, InstructionBook
    from .prompts import ATTRIBUTES, BACKGROUND, ENTITY_NAMES, ENTITY_TYPES, MERGE, STARTER, turn_messages

    def words(template, **f) -> int:
        return sum(len(c.split()) for _, c in template.messages(**f))

    filler = " ".join(["word"] * 100)
    names_per_request = names_per_request or config.names_per_request
    n = config.n
    entities = int(n / (1 - na_rate)) + 1
    seeding_calls = {
        "entity_types": (0 if config.seeds_file else 3, words(ENTITY_TYPES, k=n_types)),
        "entity_names": (0 if config.seeds_file else -(-entities // names_per_request),
                         words(ENTITY_NAMES, k=names_per_request, entity_type="Software Product", letter="A")),
        "attributes": (n_types, words(ATTRIBUTES, k=8, entity_type="Software Product")),
        "background": (entities, words(BACKGROUND, entity_name="Name Here", entity_type="Software Product")),
        "starter": (n, words(STARTER, entity_name="Name Here", entity_type="Software Product", attribute="price",
                             background=" ".join(["word"] * 80))),
    }
    pool = sequence_pool(train, config.max_turns, config.min_count)
    dummy = Seed("Name Here", "Software Product", "price", filler, "How much does it cost?")

    def plans():  # made afresh on each pass, one at a time: n may be 10^5 or more
        return iter_plans([dummy], pool, n, seed=config.seed)

    combos = {(tuple(sorted(i)), r) for p in plans() for r, i in p.turns if len(i) > 1}
    stages: dict[str, dict] = {}
    for name, (calls, prompt_words) in seeding_calls.items():
        stages[f"seeding.{name}"] = {"llm_calls": calls, "prompt_words": calls * prompt_words,
                                     "completion_words": calls * EXPECTED_WORDS[name]}
    merge_words = words(MERGE, numbered="1. " + SINGLE[("PA", "agent")] + "\n2. " + SINGLE[("FD", "agent")])
    stages["instructions"] = {"llm_calls": len(combos), "prompt_words": len(combos) * merge_words,
                              "completion_words": len(combos) * EXPECTED_WORDS["merge_instructions"]}
    book = InstructionBook(None)
    base = sum(len(c.split()) for _, c in turn_messages([], "agent", entity_name="Name Here", entity_type="Software Product",
                                                         attribute="price", background=filler, instruction=""))
    calls = prompt_words = turns_total = 0
    for p in plans():
        turns_total += p.n_turns
        for t, (role, intents) in enumerate(p.turns):
            if t == 0 and role == "user" and intents == ("OQ",):
                continue
            instr = len(book.get(intents, role).split()) if len(intents) == 1 else 30
            calls += 1
            prompt_words += base + instr + min(t, config.history) * (utterance_words + 1)
    stages["turns"] = {"llm_calls": round(calls * (1 + retry_rate)), "prompt_words": round(prompt_words * (1 + retry_rate)),
                       "completion_words": round(calls * (1 + retry_rate) * min(EXPECTED_WORDS["turn"], config.max_new_tokens))}
    for s in stages.values():
        s["prompt_tokens"] = round(s["prompt_words"] * TOKENS_PER_WORD)
        s["completion_tokens"] = round(s["completion_words"] * TOKENS_PER_WORD)
    total = {k: sum(s[k] for s in stages.values()) for k in ("llm_calls", "prompt_tokens", "completion_tokens")}
    return {"n": n, "mean_turns": turns_total / n, "stages": stages, "total": total,
            "assumptions": {"retry_rate": retry_rate, "na_rate": na_rate, "tokens_per_word": TOKENS_PER_WORD,
                            "utterance_words": utterance_words}}
