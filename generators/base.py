"""The generator contract: the ``Generator`` Protocol, its defaults in ``BaseGenerator``, and the registration check.

``run_generation`` (``pipeline.py``) calls only the members of ``Generator``, directly, so a
registered generator has all of them: ``description`` and ``generate`` of its own, the optional
hooks from ``BaseGenerator`` unless it overrides them. A complete example: docs/generators.md.
"""

from __future__ import annotations

from itertools import islice
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterable, Iterator, Protocol

from solid_bench.registry import contract_error, member_problems

if TYPE_CHECKING:
    from solid_bench.llm.base import Backend
    from solid_bench.schema import Dialog

    from .instructions import InstructionBook
    from .plans import DialogPlan
    from .runfolder import Meter

#: What a batch of plans becomes: the accepted dialogs, and one record per rejected plan
#: (``plan_id``, ``reason`` and whatever explains it; ``cost`` when the generator metered one).
Outcome = tuple["list[Dialog]", "list[dict]"]


class Generator(Protocol):
    """Turns dialog plans into dialogs over an LLM backend.

    Required (the generator defines them):

    * ``description`` (class attribute): one line for listings.
    * ``__init__(backend, instructions, meter=None, *, seed, max_new_tokens, temperature, retries,
      history, **options)``: ``backend`` is a ``Backend`` (possibly behind the answer cache);
      ``instructions`` the run's ``InstructionBook`` (intent -> writing instruction); ``meter``
      records the cost of every backend call per stage (``meter.add(stage, completions)``).
      Options a generator does not use are accepted and ignored.
    * ``generate(plans) -> (dialogs, rejected)``: one batch of ``DialogPlan``s. A dialog's id is
      unique per plan (``<name>-<plan_id>``), its utterances carry exactly the plan's roles and
      intents, and its ``meta`` holds ``generator``, ``model``, ``plan_id`` and ``cost``. A plan that
      cannot be written is rejected with a reason, never kept with a wrong label. Every sampling
      seed depends on the run seed and the plan only, so a resumed run writes the same dialogs.

    Optional (``BaseGenerator`` gives the default):

    * ``needed_instructions(plans) -> set[(intents, role)]``: the writing instructions the plans
      need, merged by ``InstructionBook.ensure`` before generation starts. Default: none.
    * ``stream(plans, batch_size, admit=None) -> iterator of (dialogs, rejected)``: outcomes as
      dialogs finish. Default: ``generate`` on consecutive chunks of ``batch_size`` plans. No new
      plan may start once ``admit()`` returns False (a token budget); started ones are finished.
      Override it for continuous batching (``solid``).
    """

    description: ClassVar[str]

    def __init__(self, backend: Backend, instructions: InstructionBook | None, meter: Meter | None = None, *,
                 seed: int = 0, **options: Any) -> None: ...

    def generate(self, plans: list[DialogPlan]) -> Outcome: ...

    def needed_instructions(self, plans: Iterable[DialogPlan]) -> set[tuple[tuple[str, ...], str]]: ...

    def stream(self, plans: Iterable[DialogPlan], batch_size: int,
               admit: Callable[[], bool] | None = None) -> Iterator[Outcome]: ...


REQUIRED = ("description", "generate")
OPTIONAL = ("needed_instructions", "stream")


class BaseGenerator:
    """Defaults for the optional hooks of ``Generator``; subclass it and define ``description`` and ``generate``."""

    def needed_instructions(self, plans: Iterable[DialogPlan]) -> set[tuple[tuple[str, ...], str]]:
        """No writing instructions are needed."""
        return set()

    def stream(self, plans: Iterable[DialogPlan], batch_size: int,
               admit: Callable[[], bool] | None = None) -> Iterator[Outcome]:
        """``generate`` on consecutive chunks of ``batch_size`` plans, while ``admit()`` allows a new chunk."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        queue = iter(plans)
        while admit is None or admit():
            chunk = list(islice(queue, batch_size))
            if not chunk:
                return
            yield self.generate(chunk)

    def generate(self, plans: list[DialogPlan]) -> Outcome:
        raise NotImplementedError(f"{type(self).__name__} must define generate(plans)")


def check_generator(name: str, cls: type) -> None:
    """Registration check: a TypeError naming what ``cls`` lacks of the ``Generator`` contract."""
    problems = member_problems(cls, REQUIRED, OPTIONAL, "solid_bench.generators.base.BaseGenerator")
    if getattr(cls, "generate", None) is BaseGenerator.generate:
        problems.append("it does not define generate(plans)")
    if problems:
        raise contract_error("Generator", name, cls, problems)
