"""SOLID self-seeding, in stages that each write an artifact in the run folder and resume from it.

    entity_types.json   the LLM lists entity types
    entities.jsonl      entity names per (type, initial letter), one line per request; or an
                        external list (``--seeds``) taken in a seeded order
    attributes.json     attributes per entity type
    backgrounds.jsonl   a background document per entity; "N/A" (the model does not know it) drops it
    seeds.jsonl         finished seeds: name, type, attribute, background, conversation starter

Names pass a noise filter (numbers, 1-2 character junk, overlong names, duplicates, refusals).
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Callable, Iterable, Sequence

from solid_bench.errors import UserError
from solid_bench.llm.base import Request
from solid_bench.schema import Seed

from .prompts import ATTRIBUTES, BACKGROUND, ENTITY_NAMES, ENTITY_NAMES_MORE, ENTITY_TYPES, STARTER
from .runfolder import append_jsonl, read_jsonl, write_json_atomic

LETTERS = "ABCDEFGHIJKLMNOPRSTW"
DEFAULT_TYPES = ("Software Product", "Programming Language", "Operating System", "Device", "Web Browser",
                 "Video Game", "City", "Company", "Musician", "Sports Team")
DEFAULT_ATTRIBUTES = ("price", "installation", "compatibility", "features", "history", "support")
REFUSALS = ("i'm sorry", "i'm glad", "i'm ready", "i am ready", "i am sorry", "as an ai", "i cannot", "i can't", "sure", "here are", "here is",
            "note:", "i don't", "i do not", "unfortunately", "certainly")
NA_MARKERS = ("n/a", "i don't know", "i do not know", "not familiar", "i'm not aware", "i am not aware",
              "i'm sorry", "i am sorry", "as an ai", "no information")
_SENTENCE_WORDS = ("is", "are", "was", "were", "type", "entities", "names", "list", "start", "starts", "letter",
                   "here", "these", "those", "which", "that")
_NOT_ATTRIBUTES = ("attribute", "attributes", "example", "examples", "entity", "type")
#: What makes a text ask something: a question mark, or a request or question phrase. In
#: MSDialog-IntentPred train, 58% of the utterances with a question intent (OQ, RQ, CQ, FQ) contain
#: "?", and 76.6% match this pattern (OQ 81%, CQ 74%, FQ 82%, RQ 55%); a third of the other
#: utterances match it too, so it tells an asking text from a plain statement, not intents apart.
ASKS = re.compile(r"\?|\b(how (do|can|could|would|should|to)|is there|are there|"
                  r"any (idea|ideas|suggestion|suggestions|help|advice|solution|way)|anyone|anybody|"
                  r"please (help|advise|let me know|tell|explain|check|confirm|provide|send|try)|can you|could you|"
                  r"would you|i (need|want|would like) to know|i('m| am) (wondering|looking for|searching for|curious)|"
                  r"interested in (knowing|learning|finding out)|(love|like) to (know|learn|understand|find out)|"
                  r"appreciate (any |some |your )?(help|assistance|advice|input|guidance)|(have|got) an? (\w+ )?question|"
                  r"(trying|want|need) to (figure out|find out|understand)|"
                  r"wonder(ing)? (if|whether|how|why|what)|let me know|need (some )?help|help me|what (is|are|should|can)|"
                  r"why (is|does|do|can)|where (is|can|do)|which|whether)\b", re.I)
_SENTENCE_END = re.compile(r"[.!](?=\s|$)")
_BULLET = re.compile(r"^\s*(?:[-*•]+|\(?\d+[.)]|[a-zA-Z][.)](?=\s))\s*")


def clean_item(line: str) -> str:
    """One list item without bullet, numbering, quotes, markup or trailing punctuation."""
    line = _BULLET.sub("", line.strip()).replace("**", "").strip()
    line = line.split(" - ", 1)[0].split(": ", 1)[0] if len(line.split()) > 6 else line
    return line.strip(" \t\"'`.,;:").strip()


def noise_reason(name: str, max_chars: int = 60, max_words: int = 6) -> str | None:
    """Why ``name`` is noise (a number, 1-2 characters, overlong, a refusal), or None if it is fine."""
    low = name.lower()
    if len(name) <= 2:
        return "too_short"
    if re.search(r"[.!?]\s", name) or name.count(",") >= 2 or low.startswith(("i'm", "i am ", "i ", "hello", "hi ")):
        return "not_a_name"  # a sentence or a list, not one name
    if re.search(r"[,-]\s*[A-Za-z]$", name):
        return "fragment"  # "Artist - O": a type and a letter, not a name
    if sum(ch.isdigit() for ch in name) > len(name) / 2 or not any(ch.isalpha() for ch in name):
        return "number"
    if len(name) > max_chars or len(name.split()) > max_words:
        return "too_long"
    if any(low.startswith(r) for r in REFUSALS) or "as an ai" in low:
        return "refusal"
    if not any(ch.isupper() or ch.isdigit() for ch in name) or any(f" {w} " in f" {low} " for w in _SENTENCE_WORDS):
        return "not_a_name"  # a sentence or a fragment of one, not a proper name
    return None


def parse_list(text: str, seen: set[str] | None = None, exclude: Iterable[str] = (), **limits) -> list[str]:
    """The clean, distinct, non-noise items of a one-per-line list; ``seen`` (lower-cased) spans calls;
    items equal to or containing a word of ``exclude`` (lower-cased) are dropped."""
    seen = set() if seen is None else seen
    exclude = {e.lower() for e in exclude}
    out = []
    lines = [line for line in re.split(r"\n|;", text) if line.strip()]
    if len(lines) == 1 and lines[0].count(",") >= 2:  # "A, B, C": a list on one line
        lines = lines[0].split(",")
    for raw in lines:
        item = clean_item(raw)
        if not item or noise_reason(item, **limits):
            continue
        if exclude and (item.lower() in exclude or any(w in exclude for w in re.split(r"[\s,]+", item.lower()))):
            continue  # the type's own name ("Device", "Device, T") is no entity of that type
        if item.lower() in seen:
            continue
        seen.add(item.lower())
        out.append(item)
    return out


def is_na(text: str) -> bool:
    """True when the model says it does not know the entity (or says nothing)."""
    low = " ".join(text.lower().split())
    return not low or low.startswith(("n/a", "na.", "na ")) or low == "na" or any(m in low[:80] for m in NA_MARKERS)


def clip_words(text: str, n: int) -> str:
    """The first ``n`` words of ``text`` (whitespace-normalised)."""
    return " ".join(text.split()[:n])


def foreign_script(text: str) -> bool:
    """True when ``text`` contains CJK, kana or Hangul characters (a small model drifting out of English)."""
    return any("\u3040" <= ch <= "\u30ff" or "\u3400" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af" for ch in text)


def clean_starter(text: str, entity: str = "") -> str:
    """The opening post up to its first question, without quotes or a label. A post with no "?" that
    asks in words ("I need help with ...", "I want to know ...", see ``ASKS``) is kept up to the end of
    the sentence that asks; one that asks nowhere, or stops mid-sentence there, gives ''. Also ''
    if it is an assistant's reply ("How can I help you?"), if it leaves English or, when ``entity``
    is given, if it does not name it."""
    text = " ".join(text.strip().strip("\"'").split())
    if foreign_script(text):
        return ""
    for prefix in ("Question:", "User:", "Q:"):
        if text.lower().startswith(prefix.lower()):
            text = text[len(prefix):].strip().strip("\"'")
    if "?" in text:
        text = text[: text.index("?") + 1]
    else:
        asks = ASKS.search(text)
        end = _SENTENCE_END.search(text, asks.end()) if asks else None
        text = text[: end.end()] if end else ""
    text = text.strip("\"' ")
    low = text.lower()
    if len(text.split()) < 3 or low.startswith(REFUSALS) or "help you" in low or "assist you" in low:
        return ""
    names = {w for w in re.findall(r"\w+", entity.lower()) if len(w) >= 3}
    if names and not names & set(re.findall(r"\w+", low)):
        return ""
    return text


def template_starter(attribute: str, entity_name: str) -> str:
    """The conversation starter used when the model gave no usable question (a counted fallback)."""
    return f"What can you tell me about the {attribute} of {entity_name}?"


def load_seed_file(path: Path) -> list[dict]:
    """Entities from ``--seeds``: a JSONL of seed fields, or a JSON array of "name<TAB>type" strings.

    Read through ``solid_bench.inputs`` (strict UTF-8; errors name the file and line). A file with
    no seed in it is refused, so a run never starts from an empty list.
    """
    from solid_bench.inputs import iter_jsonl, parse_json, read_text

    path = Path(path)
    out = []
    try:
        text = read_text(path)
        if text.lstrip().startswith("["):
            for i, item in enumerate(parse_json(text, str(path))):
                if not isinstance(item, str) or "\t" not in item or not item.split("\t", 1)[0].strip():
                    raise UserError(f"{path}: item {i} is not a \"name<TAB>type\" string.")
                name, etype = item.split("\t", 1)
                out.append({"entity_name": " ".join(name.split()), "entity_type": etype.strip()})
        else:
            for lineno, obj in iter_jsonl(path):
                if not isinstance(obj, dict) or not str(obj.get("entity_name", "") or "").strip():
                    raise UserError(f"{path}:{lineno}: each seed needs an 'entity_name'.")
                out.append({k: str(obj.get(k, "") or "").strip() for k in Seed.__dataclass_fields__})
        if not out:
            raise UserError(f"{path}: the file holds no seeds; list at least one entity.")
    except UserError as e:
        raise UserError(f"--seeds {e}") from None
    return out


class SelfSeeder:
    """Runs the seeding stages over a backend, resuming from the artifacts in ``folder``."""

    def __init__(self, backend, folder: Path, meter=None, seed: int = 0, batch_size: int = 8,
                 n_types: int = 10, names_per_request: int = 5, n_attributes: int = 8,
                 seed_file: Path | None = None, max_new_tokens: int = 80, temperature: float = 0.7,
                 max_barren: int = 3, type_samples: int = 3, exclude_names: Iterable[str] = (), name_rounds: int = 5):
        self.backend, self.folder, self.meter, self.seed = backend, Path(folder), meter, seed
        self.folder.mkdir(parents=True, exist_ok=True)
        self.batch_size, self.n_types, self.k = max(1, batch_size), n_types, names_per_request
        self.n_attributes, self.max_new_tokens, self.temperature = n_attributes, max_new_tokens, temperature
        self.external = load_seed_file(seed_file) if seed_file else None
        self.max_barren, self.type_samples, self.name_rounds = max_barren, type_samples, name_rounds
        self.stats = {"na_dropped": 0, "starter_template_fallback": 0, "names_filtered": 0}
        self.exclude = {name.lower() for name in exclude_names}  # entities that must not be seeds (e.g. a training corpus's)

    # -- plumbing -------------------------------------------------------------------------
    def _ask(self, stage: str, requests: Sequence[Request]) -> list[str]:
        texts: list[str] = []
        for i in range(0, len(requests), self.batch_size):
            chunk = list(requests[i:i + self.batch_size])
            completions = self.backend.complete(chunk)
            if self.meter is not None:
                self.meter.add(f"seeding.{stage}", completions)
            texts.extend(c.text for c in completions)
        return texts

    def _req(self, messages, key: str, max_new_tokens: int | None = None) -> Request:
        # a seed per request, from what it asks for: the answer does not depend on its batch-mates,
        # so a resumed stage asks exactly what an uninterrupted one would have asked
        rseed = random.Random(f"{self.seed}:{key}").randrange(2**31)
        return Request(messages, max_new_tokens=max_new_tokens or self.max_new_tokens,
                       temperature=self.temperature, seed=rseed)

    # -- stages ---------------------------------------------------------------------------
    def entity_types(self) -> list[str]:
        """Stage 1: entity types (entity_types.json)."""
        path = self.folder / "entity_types.json"
        if path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))["types"]
        # a small model's one list is a lottery (generic "Person", "Animal" one time, forum-like types the next):
        # ask a few times and keep the types named most often
        raws = self._ask("entity_types", [self._req(ENTITY_TYPES.messages(k=self.n_types), f"types:{i}")
                                          for i in range(self.type_samples)])
        counts: dict[str, int] = {}
        spelling: dict[str, str] = {}
        for raw in raws:
            for t in parse_list(raw, max_words=4):
                spelling.setdefault(t.lower(), t)
                counts[t.lower()] = counts.get(t.lower(), 0) + 1
        types = [spelling[k] for k in sorted(counts, key=lambda k: -counts[k])][: self.n_types]  # stable: ties keep first order
        raw = "\n---\n".join(raws)
        source = "llm"
        if len(types) < 2:  # a model this weak cannot list types: say so in the artifact
            types, source = list(DEFAULT_TYPES), "default (the model listed fewer than 2 usable types)"
        write_json_atomic(path, {"types": types, "source": source, "raw": raw})
        return types

    def attributes(self, types: Iterable[str]) -> dict[str, list[str]]:
        """Stage 3: attributes per entity type (attributes.json), asked only for new types."""
        path = self.folder / "attributes.json"
        table = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        todo = sorted({t for t in types if t not in table})
        if todo:
            raws = self._ask("attributes", [self._req(ATTRIBUTES.messages(k=self.n_attributes, entity_type=t), f"attr:{t}")
                                            for t in todo])
            for t, raw in zip(todo, raws):
                attrs = parse_list(raw, max_words=4, exclude=[t, *t.split(), *_NOT_ATTRIBUTES])[: self.n_attributes]
                table[t] = {"attributes": attrs or list(DEFAULT_ATTRIBUTES), "source": "llm" if attrs else "default"}
            write_json_atomic(path, table)
        return {t: v["attributes"] for t, v in table.items()}

    def _more_entities(self, want: int) -> int | None:
        """Stage 2: append about ``want`` new entities to entities.jsonl; how many came, None when
        no requests are left."""
        path = self.folder / "entities.jsonl"
        done = read_jsonl(path)
        seen = {e["entity_name"].lower() + "\t" + e["entity_type"] for r in done for e in r["entities"]}
        if self.external is not None:
            order = list(range(len(self.external)))
            random.Random(self.seed).shuffle(order)
            start = sum(r.get("taken", 0) for r in done)
            if start >= len(order):
                return None
            take = order[start:start + max(want, 1)]
            ents = []
            for j in take:
                e = self.external[j]
                key = e["entity_name"].lower() + "\t" + e.get("entity_type", "")
                if noise_reason(e["entity_name"]) or key in seen or e["entity_name"].lower() in self.exclude:
                    self.stats["names_filtered"] += 1
                    continue
                seen.add(key)
                ents.append(e)
            append_jsonl(path, [{"request": f"file:{start}", "taken": len(take), "entities": ents}])
            return len(ents)
        round_, todo = self._name_requests(done)
        if not todo:
            return None
        todo = todo[: max(1, -(-want // self.k))]
        key = (lambda t, letter: f"{t}|{letter}") if round_ == 1 else (lambda t, letter: f"{t}|{letter}|{round_}")
        raws = self._ask("entity_names", [self._req(
            ENTITY_NAMES.messages(k=self.k, entity_type=t, letter=letter) if round_ == 1 else
            ENTITY_NAMES_MORE.messages(k=self.k, entity_type=t, letter=letter, known=", ".join(known)),
            f"names:{key(t, letter)}") for t, letter, known in todo])
        records = []
        for (t, letter, _known), raw in zip(todo, raws):
            names_seen = {s.split("\t")[0] for s in seen if s.endswith("\t" + t)} | self.exclude
            names = parse_list(raw, seen=names_seen, exclude=[t, *t.split()])
            self.stats["names_filtered"] += max(0, len(raw.splitlines()) - len(names))
            seen |= {n.lower() + "\t" + t for n in names}
            records.append({"request": key(t, letter), "raw": raw,
                            "entities": [{"entity_name": n, "entity_type": t} for n in names]})
        self.stats["name_rounds"] = max(self.stats.get("name_rounds", 0), round_)
        append_jsonl(path, records)
        return sum(len(r["entities"]) for r in records)

    def _name_requests(self, done: list[dict]) -> tuple[int, list[tuple[str, str, list[str]]]]:
        """The lowest round not finished and its name requests, in a seed-shuffled order: (type, letter,
        names said before for the pair). Round 1 asks every (type, letter) pair; round r > 1 asks a pair
        again, naming what it said before, while its round r - 1 brought a name it had not said (up to
        ``name_rounds`` rounds). No requests left: (0, [])."""
        said: dict[tuple[str, str], list[list[str]]] = {}
        for rec in done:
            t, _, rest = rec["request"].partition("|")
            said.setdefault((t, rest.split("|")[0]), []).append(parse_list(rec.get("raw", "")))
        pairs = [(t, letter) for t in self.entity_types() for letter in LETTERS]
        nxt: dict[tuple[str, str], int] = {}
        for pair in pairs:
            rounds = said.get(pair, [])
            r = len(rounds) + 1
            new = {n for names in rounds for n in names} - {n for names in rounds[:-1] for n in names}
            if r == 1 or (r <= self.name_rounds and new):
                nxt[pair] = r
        if not nxt:
            return 0, []
        first = min(nxt.values())
        random.Random(self.seed if first == 1 else f"{self.seed}:names:{first}").shuffle(pairs)  # round 1: the order of old runs
        return first, [(t, letter, list(dict.fromkeys(n for names in said.get((t, letter), []) for n in names)))
                       for t, letter in pairs if nxt.get((t, letter)) == first]

    def _backgrounds(self, enough: Callable[[list[dict]], bool] = lambda backgrounds: False) -> list[dict]:
        """Stage 4: a background per entity (backgrounds.jsonl), a batch at a time in list order until
        ``enough(backgrounds so far)``; N/A answers are kept there, marked. Entities listed beyond that wait
        in entities.jsonl for a later, larger run (a background is a long answer). The stop is checked on
        what is written, so a run killed mid-stage resumes to the same backgrounds."""
        path = self.folder / "backgrounds.jsonl"
        have = read_jsonl(path)
        known = {(b["entity_name"], b["entity_type"]) for b in have}
        ents = [e for r in read_jsonl(self.folder / "entities.jsonl") for e in r["entities"]
                if (e["entity_name"], e.get("entity_type", "")) not in known and e["entity_name"].lower() not in self.exclude]
        given = [e for e in ents if e.get("background")]
        ask = [e for e in ents if not e.get("background")]
        new = [{**e, "background": e["background"], "na": False} for e in given]
        append_jsonl(path, new)
        # one backend call at a time, each written as it returns: a stage of hours with a large model
        # loses at most one batch when it is killed (each request's seed comes from its key, not its batch)
        for i in range(0, len(ask), self.batch_size):
            if enough(have + new):
                break
            chunk = ask[i:i + self.batch_size]
            raws = self._ask("background", [self._req(BACKGROUND.messages(entity_name=e["entity_name"],
                                                                          entity_type=e.get("entity_type") or "thing"),
                                                      f"bg:{e['entity_name']}|{e.get('entity_type', '')}",
                                                      max_new_tokens=2 * self.max_new_tokens) for e in chunk])
            done = []
            for e, raw in zip(chunk, raws):
                na = is_na(raw)
                done.append({**e, "entity_type": e.get("entity_type", ""), "background": "" if na else clip_words(raw, 150),
                             "na": na, "raw": raw})
            append_jsonl(path, done)
            new += done
        return have + new

    def run(self, n: int, max_rounds: int = 50) -> list[Seed]:
        """At least ``n`` seeds when the sources allow (fewer when they run out); resumable."""
        path = self.folder / "seeds.jsonl"
        seeds = [Seed(**r) for r in read_jsonl(path)]
        rounds = barren = 0
        while len(seeds) < n and rounds < max_rounds:
            rounds += 1
            done = {(s.entity_name, s.entity_type) for s in seeds}
            short = n - len(seeds)
            backgrounds = self._backgrounds(lambda bgs, done=done, short=short: sum(self._usable(b, done) for b in bgs) >= short)
            self.stats["na_dropped"] = sum(b["na"] for b in backgrounds)
            pending = [b for b in backgrounds if self._usable(b, done)]
            if not pending:
                got = self._more_entities(int((n - len(seeds)) * 1.5) + 1)
                if got is None:
                    break
                barren = barren + 1 if got == 0 else 0
                if barren >= self.max_barren:  # the model lists no usable names: stop asking
                    self.stats["stopped"] = f"{barren} rounds of entity requests gave no usable name"
                    break
                continue
            seeds.extend(self._starters(pending[: n - len(seeds)]))  # no starters beyond the n seeds asked for
        # counted over seeds.jsonl, not this process's calls: a resumed run reports the earlier sessions' fallbacks too
        self.stats["starter_template_fallback"] = sum(s.starter == template_starter(s.attribute, s.entity_name) for s in seeds)
        return seeds

    def _usable(self, background: dict, done: set) -> bool:
        """A background a new seed can take: known to the model, not seeded yet, not excluded."""
        b = background
        return not b["na"] and (b["entity_name"], b["entity_type"]) not in done and b["entity_name"].lower() not in self.exclude

    def _starters(self, pending: list[dict]) -> list[Seed]:
        """Stage 5: attribute choice and conversation starter; appends finished seeds to seeds.jsonl."""
        attrs = self.attributes(b["entity_type"] for b in pending if not b.get("attribute"))
        chosen = []
        for b in pending:
            attr = b.get("attribute") or random.Random(f"{self.seed}:{b['entity_name']}").choice(
                attrs.get(b["entity_type"]) or list(DEFAULT_ATTRIBUTES))
            chosen.append((b, attr))
        out = []
        for i in range(0, len(chosen), self.batch_size):  # written a backend call at a time, as backgrounds
            part = chosen[i:i + self.batch_size]
            ask = [(b, a) for b, a in part if not b.get("starter")]
            raws = self._ask("starter", [self._req(STARTER.messages(entity_name=b["entity_name"], entity_type=b["entity_type"] or "thing",
                                                                    attribute=a, background=clip_words(b["background"], 80)),
                                                   f"starter:{b['entity_name']}|{b['entity_type']}", max_new_tokens=100)
                                         for b, a in ask])
            starters = {id(b): clean_starter(r, b["entity_name"]) for (b, _), r in zip(ask, raws)}
            done = []
            for b, a in part:
                starter = b.get("starter") or starters.get(id(b), "")
                if not starter:
                    starter = template_starter(a, b["entity_name"])
                    # a template starter keeps the entity (it is real and known); the drop is counted
                done.append(Seed(b["entity_name"], b["entity_type"], a, b["background"], starter))
            append_jsonl(self.folder / "seeds.jsonl", [s.to_dict() for s in done])
            out += done
        return out
