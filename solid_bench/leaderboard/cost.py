"""Generation cost of the synthetic training data: totals, per 1,000 dialogs, and dollars."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ..errors import UserError

HUMAN_SOURCES = ("human", "msdialog", "mantis")


@dataclass(frozen=True)
class Prices:
    """Optional prices that turn generation cost into dollars (GPU time or API tokens, not both)."""

    per_gpu_hour: float | None = None
    per_1k_prompt_tokens: float | None = None
    per_1k_completion_tokens: float | None = None

    def __post_init__(self) -> None:
        token = (self.per_1k_prompt_tokens, self.per_1k_completion_tokens)
        if (token[0] is None) != (token[1] is None):
            raise UserError("Give both --price-per-1k-prompt-tokens and --price-per-1k-completion-tokens, or neither.")
        if self.per_gpu_hour is not None and token[0] is not None:
            raise UserError("Price generation either by GPU hour or by tokens, not both; drop one of the price options.")
        for value in (self.per_gpu_hour, *token):
            if value is not None and value < 0:
                raise UserError(f"Prices must not be negative, got {value}.")

    @property
    def given(self) -> bool:
        return self.per_gpu_hour is not None or self.per_1k_prompt_tokens is not None

    def describe(self) -> str:
        """How dollars were computed, for captions ('' when no price was given)."""
        if self.per_gpu_hour is not None:
            return f"$ = generation seconds / 3600 x ${self.per_gpu_hour:g} per GPU hour"
        if self.per_1k_prompt_tokens is not None:
            return (
                f"$ = prompt tokens / 1000 x ${self.per_1k_prompt_tokens:g} + completion tokens / 1000 x "
                f"${self.per_1k_completion_tokens:g}"
            )
        return ""

    def dollars(self, cost: Mapping[str, Any]) -> float | None:
        """Dollars for a cost record (prompt_tokens, completion_tokens, seconds); None without prices."""
        if self.per_gpu_hour is not None:
            return float(cost.get("seconds", 0.0)) / 3600.0 * self.per_gpu_hour
        if self.per_1k_prompt_tokens is not None:
            return (
                float(cost.get("prompt_tokens", 0)) / 1000.0 * self.per_1k_prompt_tokens
                + float(cost.get("completion_tokens", 0)) / 1000.0 * (self.per_1k_completion_tokens or 0.0)
            )
        return None


def _spec_synthetic_size(spec: str) -> int | None:
    sizes = []
    for part in spec.split("+"):
        name, _, sample = part.partition("@")
        if name.strip() in HUMAN_SOURCES:
            continue
        size = sample.partition(":")[0]
        if not size.isdigit():
            return None
        sizes.append(int(size))
    return sum(sizes)


def synthetic_dialogs(summary: Mapping[str, Any] | None, spec: str) -> int | None:
    """Number of synthetic training dialogs: from the corpus summary (mixture parts too), else from 'solid@500'."""
    if summary:
        parts = (summary.get("provenance") or {}).get("parts")
        if parts:
            return sum(int(p.get("n_dialogs", 0)) for p in parts if p.get("synthetic"))
        if "n_dialogs" in summary and "synthetic" in summary:
            return int(summary["n_dialogs"]) if summary["synthetic"] else 0
    return _spec_synthetic_size(spec)


COST_COLUMNS = (
    "gen_dialogs", "marginal_tokens", "marginal_seconds", "marginal_usd", "all_in_tokens", "all_in_seconds", "all_in_usd",
    "marginal_tokens_per_1k", "marginal_seconds_per_1k", "marginal_usd_per_1k",
    "all_in_tokens_per_1k", "all_in_seconds_per_1k", "all_in_usd_per_1k",
)  # fmt: skip


def split_cost(cost: Mapping[str, Any] | None) -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]:
    """(marginal, all-in) cost records of a Result's ``generation_cost``.

    Current Results hold ``{"marginal": {...}, "all_in": {...}}``; a flat record (schema 1) is the
    all-in figure when its dialogs carried a run's all-in share, else the marginal one."""
    if not cost:
        return None, None
    if "marginal" in cost or "all_in" in cost:
        return cost.get("marginal"), cost.get("all_in")
    return (None, cost) if cost.get("all_in_dialogs") else (cost, None)


def cost_columns(cost: Mapping[str, Any] | None, prices: Prices) -> dict[str, float | None]:
    """Totals and per-1,000-dialog figures of the marginal and the all-in generation cost
    (tokens = prompt + completion, seconds, dollars)."""
    out: dict[str, float | None] = dict.fromkeys(COST_COLUMNS)
    for name, rec in zip(("marginal", "all_in"), split_cost(cost)):
        if not rec:
            continue
        tokens = float(rec.get("prompt_tokens", 0)) + float(rec.get("completion_tokens", 0))
        seconds = float(rec.get("seconds", 0.0))
        usd = prices.dollars(rec)
        n = rec.get("dialogs")
        per = 1000.0 / float(n) if n else None
        out["gen_dialogs"] = int(n) if n else out["gen_dialogs"]
        out[f"{name}_tokens"], out[f"{name}_seconds"], out[f"{name}_usd"] = tokens, seconds, usd
        out[f"{name}_tokens_per_1k"] = tokens * per if per else None
        out[f"{name}_seconds_per_1k"] = seconds * per if per else None
        out[f"{name}_usd_per_1k"] = usd * per if (per and usd is not None) else None
    return out
