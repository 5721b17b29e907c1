"""A small generic plugin registry: decorator registration, package discovery, entry points."""

from __future__ import annotations

import importlib
import pkgutil
import types
from typing import Any, Callable, Generic, TypeVar

from .errors import UserError, did_you_mean

T = TypeVar("T")


def member_problems(cls: Any, required: tuple[str, ...], hooks: tuple[str, ...] = (), base: str = "") -> list[str]:
    """What a plugin class lacks of its contract, one phrase per kind of gap (empty: nothing).

    ``required`` members the plugin defines itself; ``hooks`` come from the contract's base class
    ``base`` unless the plugin defines them. A ``description``, when required, must be one line.
    """
    if not isinstance(cls, type):
        return [f"{cls!r} is not a class; register the class itself"]
    problems = []
    missing = [m for m in required if not hasattr(cls, m)]
    if missing:
        problems.append(f"it lacks {', '.join(missing)} (required)")
    lacking = [m for m in hooks if not hasattr(cls, m)]
    if lacking:
        problems.append(f"it lacks {', '.join(lacking)}: subclass {base} for the defaults")
    desc = getattr(cls, "description", "")
    if "description" in required and "description" not in missing and not (isinstance(desc, str) and desc.strip() and "\n" not in desc):
        problems.append("its description must be one non-empty line")
    return problems


def contract_error(kind: str, name: str, cls: Any, problems: list[str]) -> TypeError:
    """The TypeError a registration check raises: the plugin, its class and every problem, in one sentence."""
    where = f"{cls.__module__}.{cls.__qualname__}" if isinstance(cls, type) else repr(cls)
    return TypeError(f"{kind} {name!r} ({where}) does not follow the {kind} contract: " + "; ".join(problems) + ".")


class Registry(Generic[T]):
    """Names -> plugins. Duplicate names are an error; unknown names suggest close ones.

    ``package`` is imported module by module on first lookup so that each plugin file registers
    itself (modules whose name starts with ``_`` are helpers and are skipped); ``entry_point_group``
    lets outside packages join, each entry point naming a plugin or a module that registers its
    plugins when imported. Heavy imports belong inside the plugins' methods, so discovery stays
    cheap. ``check(name, plugin)``, when given, vets every plugin as it is registered and raises
    TypeError naming what the plugin lacks, so a broken plugin fails where it is defined.
    """

    def __init__(self, kind: str, package: str | None = None, entry_point_group: str | None = None,
                 check: Callable[[str, T], None] | None = None):
        self.kind = kind
        self.package = package
        self.entry_point_group = entry_point_group
        self.check = check
        self._items: dict[str, T] = {}
        self._discovered = package is None and entry_point_group is None

    def register(self, name: str) -> Callable[[T], T]:
        """Class decorator: ``@REGISTRY.register("name")``."""

        def deco(obj: T) -> T:
            self.add(name, obj)
            return obj

        return deco

    def add(self, name: str, obj: T) -> None:
        """Register ``obj`` under ``name``; the same object twice is a no-op, another is an error."""
        existing = self._items.get(name)
        if existing is not None and existing is not obj:
            if getattr(existing, "__qualname__", None) == getattr(obj, "__qualname__", None) and getattr(
                existing, "__module__", None
            ) == getattr(obj, "__module__", None):
                self._items[name] = obj  # the same module re-imported (e.g. importlib.reload)
                return
            raise ValueError(f"{self.kind} {name!r} is registered twice ({existing!r} and {obj!r})")
        if self.check is not None:
            self.check(name, obj)
        try:
            obj.registered_name = name  # type: ignore[attr-defined]
        except (AttributeError, TypeError):
            pass
        self._items[name] = obj

    def _discover(self) -> None:
        if self._discovered:
            return
        self._discovered = True
        if self.package:
            pkg = importlib.import_module(self.package)
            for info in pkgutil.iter_modules(pkg.__path__):
                if not info.name.startswith("_"):
                    importlib.import_module(f"{self.package}.{info.name}")
        if self.entry_point_group:
            from importlib.metadata import entry_points

            for ep in entry_points(group=self.entry_point_group):
                obj: Any = ep.load()  # a module registers its plugins as it is imported
                if not isinstance(obj, types.ModuleType) and obj not in self._items.values():
                    self.add(ep.name, obj)

    def names(self) -> list[str]:
        """All registered names, sorted."""
        self._discover()
        return sorted(self._items)

    def get(self, name: str) -> T:
        """The plugin called ``name``; a UserError with suggestions when there is none."""
        self._discover()
        if name not in self._items:
            raise UserError(
                f"Unknown {self.kind} {name!r}.{did_you_mean(name, self.names())} "
                f"Known: {', '.join(self.names()) or 'none'}."
            )
        return self._items[name]

    def items(self) -> list[tuple[str, T]]:
        """(name, plugin) pairs, sorted by name."""
        self._discover()
        return sorted(self._items.items())

    def __contains__(self, name: str) -> bool:
        self._discover()
        return name in self._items
