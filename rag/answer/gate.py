"""The abstention gate, run before any backend (LLM ones included): is this a question the abstracts can answer?

Two checks. `refusal_reason` reads the request alone, before a model sees it: jokes, chit-chat, coding
tasks and instructions to set the papers aside are not questions about the indexed papers.
`abstain_reason` weighs the retrieved evidence: a question about "GCG" cannot be answered from abstracts
that never say "GCG"; one asking an attribute of an entity (a score on a benchmark, a size, a count)
only from an abstract that names the entity and states a figure beside the attribute.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..text import split_sentences
from .asked import Asked, mentioned, naming, read, states_value, vocabulary

if TYPE_CHECKING:
    from ..types import Source

_LEAD_IN = r"^\W*(?:(?:ok(?:ay)?|hey|hi|so|now|please|just|and|but)\W+)*(?:(?:can|could|would|will) you\s+)?(?:please\s+)?"
_SET_ASIDE = re.compile(
    r"\b(?:ignore|disregard|forget|skip|set aside|never ?mind)\b.{0,30}\b(?:papers?|sources?|abstracts?|context|"
    r"documents?|instructions?|index|corpus|citations?)\b|"
    r"\b(?:your own|(?:use|using|from|based on|rely on|draw on)\s+your(?:\s+general|\s+prior)?)\s+"
    r"(?:knowledge|opinion|views?|experience|memory|training)\b|"
    + _LEAD_IN + r"(?:use|answer (?:from|with|using)|rely on|draw on)\s+(?:general|world|prior|common)\s+knowledge\b|"
    r"\bwithout (?:using|looking at|citing|reading|the)\b.{0,20}\b(?:papers?|sources?|abstracts?)\b|"
    r"\b(?:don't|do not|no need to)\s+(?:use|cite|consult|rely on|look at)\b.{0,20}\b(?:papers?|sources?|abstracts?)\b|"
    r"\bwhat do you (?:think|feel|believe)\b|\byour (?:favou?rite|opinion)\b|"
    + _LEAD_IN + r"(?:pretend|role-?play|act as|imagine you)\b",
    re.I,
)
_CREATIVE = re.compile(
    _LEAD_IN + r"(?:tell|write|compose|make up|give|sing|share|invent)\b.{0,25}\b(?:joke|poem|story|song|haiku|"
    r"limerick|riddle|rap|pun|fairy tale|bedtime story)s?\b|\b(?:tell|know) (?:me )?(?:a|any) (?:good |funny )?jokes?\b",
    re.I,
)
_CODING = re.compile(
    _LEAD_IN + r"(?:write|implement|code|debug|fix|refactor|optimi[sz]e|generate|create|give me|show me)\b.{0,40}"
    r"\b(?:code|function|script|program|class|snippet|regex|query|unit tests?|dockerfile|makefile|"
    r"(?:in|using) (?:python|rust|javascript|typescript|java|c\+\+|c#|go|sql|bash|ruby|php|kotlin|swift))\b|```",
    re.I,
)
_SMALL_TALK = re.compile(
    r"^\W*(?:hi|hello|hey|yo|thanks|thank you|thx|cheers|bye|goodbye|good (?:morning|afternoon|evening|night)|"
    r"how are you(?: doing)?|how's it going|what's up|who are you|what are you|what is your name|what's your name|"
    r"are you (?:a bot|human|there)|nice to meet you)(?:\W+(?:there|again|so much|today|papertrail|bot))*\W*$",
    re.I,
)
_TASK = re.compile(
    _LEAD_IN + r"(?:translate|calculate|compute|convert|proofread|spell|solve|conjugate)\b(?!.{0,40}\b(?:paper|abstract)s?\b)",
    re.I,
)
_REQUESTS = [
    (_SET_ASIDE, "it asks to set the indexed papers aside"),
    (_CREATIVE, "it asks for entertainment, not about the papers"),
    (_CODING, "it is a coding task, not a question about the papers"),
    (_SMALL_TALK, "it is small talk"),
    (_TASK, "it is a task to do, not a question about the papers"),
]
def refusal_reason(question: str) -> str | None:
    """Why `question` is not a question about the indexed papers (None when it is): read before any model."""
    return next((reason for pattern, reason in _REQUESTS if pattern.search(question)), None)


def abstain_reason(question: str, sources: list[Source], min_dense_score: float) -> str | None:
    """Why the sources cannot answer `question`, or None when a backend should try."""
    if not sources:
        return "no indexed paper matches the question"
    if max(source.dense_score for source in sources) < min_dense_score:
        return "no indexed abstract is close to the question"
    asked = read(question)
    texts = [vocabulary(f"{source.title} {source.abstract}") for source in sources]
    missing = [name for name in asked.names if not any(mentioned(words, name) for words in texts)]
    if missing:
        return f"the abstracts never mention {', '.join(missing)}"
    if asked.answer_type == "quantity":
        return _unstated(asked, sources)
    modifiers = [word for word in asked.focus[:-1] if not any(mentioned(words, word) for words in texts)]
    return f"the abstracts never mention {', '.join(modifiers)}" if modifiers else None


def _unstated(asked: Asked, sources: list[Source]) -> str | None:
    """Why no abstract naming the question's entities states a figure beside the asked attribute (None if one does)."""
    for source in naming(sources, asked.names):
        if any(states_value(sentence, asked.units) for sentence in split_sentences(source.abstract)):
            return None
    attribute = " ".join(asked.units) or "a figure"
    return f"no abstract naming {', '.join(asked.names) or 'the subject'} states {attribute}"
