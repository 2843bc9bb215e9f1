"""The request gate, run before any model: is this a question about the indexed papers at all?

`refusal_reason` reads the request alone: jokes, chit-chat, coding tasks and instructions to set the papers
aside are not questions about the indexed papers. Whether the retrieved abstracts answer a question is the
answer decision's (`decision.py`).
"""

from __future__ import annotations

import re

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
