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

#: The starter is role-play too: the model, as the user, answers "what is your question?".
STARTER = Template(
    "starter",
    "You are a user on a help forum who needs help with {entity_name} (a {entity_type}).\nBackground: {background}",
    "Hello! What is your question about the {attribute} of {entity_name}? Ask it in one sentence.",
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

#: Turn prompts are role-play: the model speaks as {persona}; the dialog so far is given as chat
#: messages (the other party as "user", the speaker's own messages as "assistant"), and
#: ``user`` below is the nudge appended when the last message is not the other party's.
TURN = Template(
    "turn",
    "Role-play a help-forum conversation.\nYou are {persona}. The conversation is about {entity_name} "
    "({entity_type}), in particular its {attribute}.\nBackground: {background}\n"
    "Your next message must do this: {instruction}\nWrite only your message, one to three sentences.",
    "Write your next message now. {instruction}",
)

PERSONAS = {"user": "a user who asked for help", "agent": "a helpful support agent answering the user"}


def turn_messages(history: list[tuple[str, str]], role: str, **fields: object) -> tuple[tuple[str, str], ...]:
    """Chat messages for the next utterance by ``role``: system persona, then the history from the
    speaker's point of view (consecutive messages of one party joined), then a nudge if needed."""
    fields = {**fields, "persona": PERSONAS[role]}
    out = [("system", TURN.system.format(**fields))]
    for speaker, text in history:
        chat_role = "assistant" if speaker == role else "user"
        if out[-1][0] == chat_role:
            out[-1] = (chat_role, out[-1][1] + "\n\n" + text)
        else:
            out.append((chat_role, text))
    if out[-1][0] != "user":
        out.append(("user", TURN.user.format(**fields)))
    return tuple(out)


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
        head = t.system.split("\n", 1)[0]
        if head == first or ("{" in head and first.startswith(head.split("{", 1)[0])):
            return name
    return None
