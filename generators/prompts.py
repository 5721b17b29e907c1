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
    "List {k} types of named entities that people ask about on community question-answering and technical help "
    "forums, such as \"Web Browser\" or \"Smartphone Model\" (give other types than these two). Write one type "
    "per line, one to three words each, with no numbering and nothing else.",
)

ENTITY_NAMES = Template(
    "entity_names",
    "You name real, well-known entities.\nAnswer with names only.",
    "List {k} well-known entities of type \"{entity_type}\" whose names start with the letter {letter}. "
    "Write one name per line, no numbering, no explanations.",
)

#: A later round of ENTITY_NAMES for the same type and letter, once every (type, letter) pair has been
#: asked (10 types x 20 letters x 5 names give about 700 usable seeds from a 1.5B model). The same system
#: prompt: it is the same stage.
ENTITY_NAMES_MORE = Template(
    "entity_names_more",
    ENTITY_NAMES.system,
    "Other than {known}: list {k} more well-known entities of type \"{entity_type}\" whose names start with the "
    "letter {letter}. Write one name per line, no numbering, no explanations.",
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
    "Write a short background document (three to five sentences) with facts about {entity_name}, a "
    "{entity_type}. Answer N/A only if you have never heard of {entity_name}.",
)

#: The starter is the thread's opening post, written by the model as a forum user.
STARTER = Template(
    "starter",
    "You write the opening post of a new thread on a community help forum.\nThe post is written by a user "
    "who needs help, in plain English, and ends with their question.",
    "Topic: {entity_name} ({entity_type}).\nBackground: {background}\n\nWrite the opening post of a user "
    "who has a question about the {attribute} of {entity_name}: one or two sentences about their situation, "
    "then the question. Mention {entity_name} by name. Write only the post.",
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

#: Turn prompts share their prefix across one dialog's turns: a fixed system message, then the seed
#: (entity, attribute, background) and the transcript so far, and only then what changes from turn to
#: turn (who speaks next and the instruction). Turn t+1's prompt therefore starts with turn t's prompt
#: up to the end of its transcript, so an engine that caches prompts (llama.cpp's server slots, the
#: transformers backend's prefix cache) prefills only the newest utterance and the new instruction.
TURN = Template(
    "turn",
    "You write the next message of a conversation on a technical help forum.\nA user asks for help and a "
    "support agent answers. You write one message at a time, as the person named at the end of the request, "
    "and the message must do what the instruction says. Write only the message text: no name, no role, no "
    "quotes, no notes, and no answer to this request itself.",
    "Topic: {entity_name} ({entity_type}), in particular its {attribute}.\nBackground: {background}\n\n"
    "Conversation so far:\n{transcript}\n\n"
    "Write the next message, by the {speaker}. It must do this: {instruction}\n"
    "Write one to three sentences.",
)

SPEAKERS = {"user": "user who asked for help", "agent": "support agent"}
TRANSCRIPT_NAMES = {"user": "User", "agent": "Agent"}
NO_TRANSCRIPT = "(nothing yet: this is the first message)"


def transcript(history: list[tuple[str, str]]) -> str:
    """The dialog so far, one "User: ..." / "Agent: ..." line per utterance (a stable, growing prefix)."""
    return "\n".join(f"{TRANSCRIPT_NAMES[speaker]}: {text}" for speaker, text in history) or NO_TRANSCRIPT


def turn_messages(history: list[tuple[str, str]], role: str, **fields: object) -> tuple[tuple[str, str], ...]:
    """Chat messages for the next utterance by ``role``: the fixed system message, then one user message
    with the seed, the transcript of ``history`` and, last, the speaker and the instruction."""
    fields = {**fields, "speaker": SPEAKERS[role], "transcript": transcript(history)}
    return TURN.messages(**fields)


TEMPLATES: dict[str, Template] = {
    t.name: t for t in (ENTITY_TYPES, ENTITY_NAMES, ENTITY_NAMES_MORE, ATTRIBUTES, BACKGROUND, STARTER, MERGE, TURN)
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
