"""Every prompt template of the SOLID generator in one place, each with a stable hash for the manifest.

A template is a (system, user) pair of ``str.format`` strings. The first line of each system
prompt is distinctive, so a test double (the ``fake`` backend) can tell the stages apart.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Template:
    """A named chat prompt: a system and a user message with ``{placeholders}``."""

    name: str
    system: str
    user: str

    @property
    def sha256(self) -> str:
        """Hash of the template text (system, blank line, user): changes whenever the wording does."""
        return hashlib.sha256(f"{self.system}\n\n{self.user}".encode("utf-8")).hexdigest()

    def messages(self, **fields: object) -> tuple[tuple[str, str], ...]:
        """The chat messages with ``fields`` filled in."""
        return (("system", self.system.format(**fields)), ("user", self.user.format(**fields)))


ENTITY_TYPES = Template(
    "entity_types",
    "You list kinds of entities.\nPeople ask questions about such entities on community question-answering "
    "and technical help forums.",
    "List {k} different types of entities (for example: software product, programming language, device, "
    "city, musician). Write one type per line, two or three words at most, no numbering, nothing else.",
)

ENTITY_NAMES = Template(
    "entity_names",
    "You name real, well-known entities.\nAnswer with names only.",
    "List {k} well-known entities of type \"{entity_type}\" whose names start with the letter {letter}. "
    "Write one name per line, no numbering, no explanations.",
)

ATTRIBUTES = Template(
    "attributes",
    "You list attributes of entity types.\nAn attribute is something people ask about (price, setup, "
    "compatibility, history, ...).",
    "List {k} attributes that people often ask about for an entity of type \"{entity_type}\". "
    "Write one attribute per line, one to four words, no numbering, nothing else.",
)

BACKGROUND = Template(
    "background",
    "You write short factual background documents about entities.\nIf you do not know the entity, "
    "answer exactly N/A.",
    "Write a short background document (three to five sentences) about {entity_name}, a {entity_type}. "
    "If you do not know {entity_name}, answer N/A.",
)

STARTER = Template(
    "starter",
    "You write the first message of a user on a help forum.\nThe message asks one clear question.",
    "Background: {background}\n\nWrite the first question a user would post about {entity_name} "
    "(a {entity_type}) concerning its {attribute}. Write only the question, in one or two sentences.",
)

MERGE = Template(
    "merge_instructions",
    "You merge writing instructions.\nCombine the given instructions into one instruction that asks for "
    "all of them in a single message. Answer with the merged instruction only.",
    "Instructions:\n1. Ask a question to clarify what the other person means.\n2. Give a possible answer "
    "or solution to the problem.\nMerged instruction: Ask a short clarifying question about what the "
    "other person means, and in the same message give a possible answer or solution.\n\n"
    "Instructions:\n{numbered}\nMerged instruction:",
)

TURN = Template(
    "turn",
    "You write one message of a conversation on a help forum between a user and an agent.\n"
    "Topic: {entity_name} ({entity_type}), in particular its {attribute}.\nBackground: {background}",
    "Conversation so far:\n{history}\n\nWrite the next message. You are the {role}. {instruction} "
    "Write only the message text, without a name or role in front.",
)

TEMPLATES: dict[str, Template] = {
    t.name: t for t in (ENTITY_TYPES, ENTITY_NAMES, ATTRIBUTES, BACKGROUND, STARTER, MERGE, TURN)
}


def template_hashes() -> dict[str, str]:
    """name -> sha256 of every template, for the run manifest and each dialog's meta."""
    return {name: t.sha256 for name, t in sorted(TEMPLATES.items())}


def stage_of(system_prompt: str) -> str | None:
    """The template name whose system prompt starts like ``system_prompt`` (first line), or None."""
    first = system_prompt.split("\n", 1)[0]
    for name, t in TEMPLATES.items():
        if t.system.split("\n", 1)[0] == first:
            return name
    return None
