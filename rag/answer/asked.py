"""What a question asks for: the kind of answer, the measured thing's words, the names it mentions.

Shared by the answer decision (is the asked thing in the abstracts at all?) and the extractive scorer (which
sentence carries it?). The word lists name kinds of questions and sentences, never one question.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from ..text import fold, split_sentences
from .english import english

AnswerType = Literal["quantity", "list", "cause", "method", "finding", "work", "definition", "overview", "lookup"]

MEASURES = (
    "score|scores|size|sizes|rate|rates|rating|ratings|accuracy|accuracies|throughput|rank|number|count|"
    "percentage|share|fraction|proportion|ratio|speed|speedup|latency|cost|budget|length|dimension|dimensions|"
    "perplexity|amount|reduction|improvement|gain|win rate|window"
)
"""Nouns naming a measured value: "what MMLU *score*", "what *size* of backbone"."""
_PHRASE_WORD = r"(?!(?:does|do|did|is|are|was|were|the|papers|works|studies)\b)[\w\-@]+\s+"
"""A word inside "what ... score": not a verb, not "papers" (a multi-paper question)."""
_VALUE_VERBS = r"reach|reached|reaches|achieve|achieved|achieves|score|scored|scores|attain|attained|obtain|obtained"
_MEASURE_OF = rf"\bwhat(?:'s| is) the\s+((?:[\w\-@]+\s+){{0,2}}?)(?:{MEASURES})\s+of\b"
_MEASURE_OWNED = (
    rf"\bwhat(?:'s| is| was| are| were)\s+(?:the\s+)?[\w\-.]+['’]s?\s+((?:[\w\-@]+\s+){{0,2}}?)(?:{MEASURES})\b"
)
"""A measure owned by what is named: "What is HLLM's MMLU score?" measures MMLU."""

_QUANTITY = re.compile(
    r"\bhow (?:many|much|large|big|long|fast|often|small|accurate|precise)\b|\bby how\b|"
    rf"\b(?:what|which)\s+(?:{_PHRASE_WORD}){{0,3}}?(?:{MEASURES})\b|"
    rf"\bwhat\s+(?:is|was|are|were)\s+the\s+(?:{_PHRASE_WORD}){{0,2}}?(?:{MEASURES})\b|"
    rf"\bwhat\b.{{0,60}}\b(?:does|do|did)\b.{{0,60}}\b(?:{_VALUE_VERBS})\b|{_MEASURE_OF}|{_MEASURE_OWNED}",
    re.I,
)
_COUNTED_LIST = re.compile(
    r"\b(?:what|which|name|list)\s+(?:are\s+)?(?:the\s+)?(?:two|three|four|five|six|several|main|key)\b", re.I
)
_LIST = re.compile(
    r"\b(?:what|which)\s+(?:are|were)\s+the\s+(?:\w+\s+){0,2}?(?:components|modules|stages|steps|categories|parts|"
    r"elements|ingredients|types|kinds|sources|languages|tasks|models)\b|"
    r"\b(?:which|what)\s+(?:kinds|types|sorts|categories)\s+of\b|"
    r"\b(?:which|what)\s+(?:\w+\s+){0,2}?(?:components|modules|stages|steps|categories|parts|elements|ingredients)\b",
    re.I,
)
_DEFINITION = re.compile(
    r"^\W*(?:what|who)\s+(?:is|are|was|were)\s+(?:the\s+|an?\s+)?(?:['\"‘“]|[\w\-]+\s*(?:[,?]|$))|"
    r"\bwhat (?:does|do) [\w\-' ]+ (?:mean|stand for|refer to)\b",
    re.I,
)
_CAUSE = re.compile(r"\bwhy\b|\bwhat (?:causes|caused|explains|makes)\b|\breason\b", re.I)
_WORK = re.compile(
    r"^\s*(?:is there|are there|has anyone|have (?:any|researchers|people)|does any|do any|is anyone)\b|"
    r"\b(?:which|what) (?:study|paper|work)\b",
    re.I,
)
_METHOD = re.compile(r"\bhow (?:does|do|did|can|could|is|are|was|were|should|would)\b|\bin what way\b|\bby what\b", re.I)
_FINDING = re.compile(
    r"^\s*(?:does|do|did|is|are|was|were|can|could|has|have|had|will|would)\b|"
    r"\bwhat (?:happens|did \w+ find|do \w+ find)\b|"
    r"\b(?:effect|impact|finding|findings|conclude|turned out|best|better|most effective)\b",
    re.I,
)
_OVERVIEW = re.compile(
    r"^\W*(?:(?:can|could|would) you\s+)?(?:please\s+)?(?:tell me (?:more )?about|summari[sz]e|explain|describe|"
    r"give (?:me )?(?:an? |the )?(?:overview|summary|rundown|gist)|(?:i'd|i would) like to know about|what about)\b|"
    r"^\W*what (?:does|do|did) .{1,60}\b(?:do|does|propose|offer|contribute)\W*$|"
    r"^\W*what(?:'s| is| are)? (?:the )?(?:main |key |core |big |basic )?(?:idea|point|contribution|gist)s? "
    r"(?:of|behind|in)\b|^\W*what(?:'s| is) (?:the )?(?:deal|story|scoop) (?:with|behind|on)\b|^\W*what(?:'s| is) up with\b|"
    r"^\W*what (?:should|do|would|must) (?:i|we|you) (?:need to )?know about\b|"
    r"^\W*(?:(?:can|could) you\s+)?(?:walk me through|break down|fill me in on|catch me up on|brief me on)\b|"
    r"\b(?:in a nutshell|in (?:plain|simple) (?:words|terms|english))\W*$|"
    r"^\W*(?!(?:how|what|why|which|when|where|who|is|are|was|were|does|do|did)\b)[\w\-.+ ]{1,40} explained\W*$|"
    r"^\W*(?:a\s+)?(?:quick |short |brief )?(?:overview|summary|rundown|gist|highlights) of\b|"
    r"^\W*remind me (?:what|about)\b|\b(?:main |key )?takeaways?\b|"
    r"^\W*what (?:problem|problems|issue|gap|challenge)s? (?:does|do|did) .{1,60}\b(?:solve|address|tackle)|"
    r"^\W*what(?:'s| is) (?:the )?.{1,60}? (?:paper |work |study )?about\W*$|^\W*what(?:'s| is) new in\b|"
    r"^\W*what is .{1,60}? used for\W*$|^\W*what(?:'s| is) .{1,60}? good for\W*$|"
    r"^\W*why (?:is|are|was|does|do|would|should) .{1,60}? (?:a big deal|important|significant|interesting|notable|"
    r"novel|useful|relevant|matters?)\W*$|^\W*what(?:'s| is) (?:so )?(?:special|different|unique|novel|interesting) "
    r"about\b|^\W*what makes .{1,60}? (?:special|different|unique|novel|interesting)\W*$|"
    r"^\W*what(?:'s| is) (?:the )?(?:significance|importance) of\b|"
    r"^\W*what(?:'s| is| are)\s+(?:the\s+)?[\w\-.+]*(?-i:[A-Z])[\w\-.+]*(?:\s+[a-z][\w\-]*){0,3}\W*$|"
    r"^\W*what(?:'s| is| are)\s+[\w\-.+]+\W*$|"
    r"\bwhat(?:'s| is) (?:it|the point)\b|^\W*(?:how does|how do) \S+(?: \S+)? work\W*$|\bhow does (?:it|this) work\W*$",
    re.I,
)
_TYPE_TESTS: list[tuple[AnswerType, re.Pattern]] = [
    ("overview", _OVERVIEW), ("cause", _CAUSE), ("work", _WORK), ("list", _COUNTED_LIST), ("quantity", _QUANTITY),
    ("list", _LIST), ("definition", _DEFINITION), ("method", _METHOD), ("finding", _FINDING),
]
"""Tried in order; the first that matches names the answer type ("why ... how often" asks a cause)."""

_MANY = re.compile(
    r"^\W*(?:(?:and|so|ok|okay|then)\W+)?(?:which|what|list|name|find|show me|are there|is there|have there been|"
    r"has anyone|have (?:any|researchers|people)|does any|do any|any)\b.{0,40}?\b(?:papers|works|studies|articles|"
    r"publications|work|research|surveys|reviews)\b|^\W*(?:list|name|find|show me)\b|"
    r"\b(?:which|what)\s+(?:papers|studies|articles|publications)\W*$|"
    r"(?<!how many )(?<!the )(?<!this )(?<!that )\b(?:papers|studies|articles|publications|surveys|reviews)\s+"
    r"(?:on|about|that|which|using|with|for|in|[a-z]+ing)\b|"
    r"\bwho\s+(?:else\s+)?(?:has|have)\s+(?:\w+ly\s+)?(?:worked|written|published|looked|studied|explored|"
    r"investigated|examined|tried|proposed|done|tackled|addressed|built|evaluated|measured|analy[sz]ed)\b|"
    r"\bwhat\s+(?:has|have)\s+been\s+(?:done|published|written)\b|"
    r"^\W*(?:anything|what(?:'s| is) out there)\s+(?:on|about)\b|"
    r"\b(?:summari[sz]e|overview of)\s+(?:the\s+)?(?:research|literature|work)\s+(?:on|about)\b",
    re.I,
)
"""Questions after papers: "Which papers...", "Is there work on...", "papers on X?", "Who has worked on X?"."""
_MANY_THINGS = re.compile(
    r"^\W*(?:which|what)\s+(?:[\w\-]+\s+){0,2}?(?:approaches|methods|models|systems|datasets|corpora)\b", re.I
)
_REFERS = re.compile(r"\b(?:it|its|they|their|them|this paper|the paper)\b", re.I)
"""Words pointing at one paper already in view ("Which models did they train?"): a follow-up, not a list."""
_KINDS = r"approaches|methods|techniques|strategies|frameworks|models|systems|datasets|corpora|benchmarks"
_MANY_EXIST = re.compile(
    rf"^\W*(?:are there|have there been)\b.{{0,40}}?\b(?:{_KINDS}|comparisons|evaluations|analyses|surveys|efforts|"
    rf"attempts)\b|\b(?:{_KINDS})\s+(?:have|had)\s+been\s+"
    rf"(?:proposed|developed|introduced|suggested|released|published|built)\b|"
    rf"\b(?:{_KINDS})\s+exist\b|"
    rf"^\W*(?:what|which)\s+are\s+(?:the\s+)?(?:main\s+|different\s+|existing\s+|known\s+)?(?:{_KINDS})\s+(?:to|for)\b",
    re.I,
)
"""Questions after things that exist in the plural ("Are there comparisons of...", "What methods have been proposed
to..."): a list, whatever names they use ("...in an LLM's pretraining data")."""
_COMPARE = re.compile(
    r"^\W*comparing\b|^\W*(?:(?:please|can you|could you)\s+)?(?:compare|contrast)\b|"
    r"\bhow (?:does|do|did|would|will) .{1,80}\b(?:compare|contrast)\b|"
    r"\bhow (?:do|did) .{1,80} and .{1,80} (?:differ|each|both)\b|"
    r"\bdiffer(?:ence|ences)? between\b|\bdiffers? from\b|\bvs\.?\s|\bversus\b",
    re.I,
)
"""A request to compare ("Compare X and Y", "How does X compare to Y", "X vs Y"); not a study that compares ("the
analysis comparing LoRA against full fine-tuning", "a comparison of architectures", "What does Tree-of-Code compare
against?"): that is one paper; nor a model asked to compare ("asking an LLM to compare two documents")."""
_CALENDAR = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
}
_FOCUS = re.compile(
    r"\b(?:what|which)\s+(?!(?:is|are|was|were|does|do|did|has|have|had|can|could)\b)((?:[\w\-]+\s+){0,3}?[\w\-]+)"
    r"(?=\s+(?:is|are|was|were|does|do|did|has|have|had|can|could|turned|helped|worked|make|makes|made)\b)",
    re.I,
)
_NOT_FOCUS = {
    "kind", "kinds", "type", "types", "sort", "sorts", "of", "in", "the", "a", "an", "new", "other", "main", "key",
    "two", "three", "four", "five", "six", "several", "papers", "paper", "works", "studies", "study",
}
_TOKEN = re.compile(r"[^\s,;:?!()\[\]{}'\"“”]+")
_GENERIC_SUFFIX = re.compile(
    r"-(style|like|based|generated|parameter|scale|sized|level|specific|free|aware|only|"
    r"(?:fine-?|pre)?tuned?|(?:fine-?|pre)?trained|finetuned?|augmented|enhanced|powered|driven|guided|inspired|centric)$",
    re.I,
)
"""What a name may be joined to that is no part of it ("BERT-based", "LoRA-finetune", "LLM-augmented")."""
_HOW_MANY = re.compile(
    r"\bhow (?:many|much)\s+((?:[\w\-]+\s+){0,3}?)"
    r"(?=(?:did|does|do|is|are|was|were|in|of|for|on|per|and|has|have|had|can|could|would|will)\b|[?,])|"
    r"\bhow (?:many|much)\s+((?:[\w\-]+\s+){1,3}?)(?=[a-z]+ed\b)",
    re.I,
)
_MEASURE_PHRASE = re.compile(
    rf"\b(?:what|which)\s+((?:{_PHRASE_WORD}){{0,3}}?)({MEASURES})\b"
    r"(?:\s+of\s+(?:the\s+)?((?:[\w\-]+\s+){0,2}?[\w\-]+)(?=\s+(?:does|do|did|is|are|was|were|in|of|for|on)\b|[?,]))?"
    rf"|\bwhat(?:'s| is) the\s+((?:[\w\-@]+\s+){{0,2}}?)({MEASURES})\s+of\b",
    re.I,
)
_MEASURE_ON = re.compile(
    rf"\b(?:{MEASURES}|scored)\s+(?:on|in)\s+(?:the\s+)?([\w\-.]*[A-Z0-9][\w\-.]*)",
)
"""A measure taken on a named benchmark ("score on MMLU", "accuracy on GSM8K"): the benchmark is what is measured."""
_MEASURE_CHANGE = re.compile(
    r"\bhow much (?:does|do|did|can|could|would|will)\b.{1,60}?\b(?:lower|reduce|cut|improve|increase|raise|boost|"
    r"decrease|save|shrink|drop)s?\s+(?:[\w\-]+\s+){0,2}?(perplexity|accuracy|latency|memory|loss|flops|cost|time|"
    r"throughput|speed|size|length)\b",
    re.I,
)
"""A change in a measure ("How much does Mix-LN lower perplexity?", "how much can SLTrain cut memory"): the measure
is what must be stated with a figure."""
_IN_UNITS = re.compile(r"\bin ((?:[a-z\-]+\s+){0,2}?[a-z\-]+)(?= and\b|[,?]| (?:in|to|for|on|per)\b|$)")
_DURATION = re.compile(
    r"\bhow long (?:did|does|do|will|would|was|were)\b.{0,60}\b(?:take|train|trained|training|pre-?train\w*|run|"
    r"fine-?tun\w*)\b|\bhow much (?:wall[- ]?clock |training |gpu )?time\b",
    re.I,
)
"""How long something took ("How long did it take to train X?"): a duration in hours, days or weeks."""
_DATA_SIZE = re.compile(
    r"\b(?:how (?:big|large)|what size)\s+(?:is|was|are|were)\s+(?:the|their|its|this|that)\s+(?:[\w\-.]+\s+){0,2}?"
    r"(?:dataset|corpus|corpora|data|training set)\b",
    re.I,
)
"""The size of a data set ("How big was the dataset they trained it on?"): a count of tokens, pairs, documents..."""
_ACCURACY = re.compile(r"\bhow (?:accurate|precise)\b", re.I)
"""How accurate something is ("How accurate is the COD prediction?"): a share, in %."""
_COST = re.compile(r"\bhow much (?:did|does|do|would|will|could)\b.{0,40}\bcost\b", re.I)
_FUNCTION_WORDS = {
    "the", "a", "an", "of", "more", "fewer", "less", "new", "its", "their", "this", "that", "them", "total", "overall",
}
UNIT_SPELLINGS = {
    "gigabytes": ("gb", "gigabyte"), "terabytes": ("tb", "terabyte"), "megabytes": ("mb", "megabyte"),
    "percentage": ("%", "percent"), "percent": ("%",), "share": ("%", "percent"), "fraction": ("%", "percent"),
    "proportion": ("%", "percent"), "parameters": ("b", "m", "billion", "million", "param"),
    "times": ("x", "×", "fold"), "seconds": ("s", "second"), "hours": ("h", "hour"), "days": ("day",),
    "duration": ("hours", "hour", "h", "days", "day", "weeks", "week", "minutes", "months"),
    "dollars": ("$", "usd", "dollar"), "cost": ("$", "usd", "dollar", "cost", "budget"),
    "money": ("$", "usd", "dollar", "cost", "budget"), "budget": ("$", "usd", "dollar", "budget"),
    "faster": ("x", "×", "fold", "times", "%", "speedup", "speed-up"), "speedup": ("x", "×", "fold", "times", "%"),
    "models": ("llms", "lms"), "accuracy": ("%",), "points": ("%", "+", "bleu", "pp"),
    "improvements": ("%", "x", "+"), "gains": ("%", "x", "+"),
    "data": ("tokens", "tb", "gb", "words", "documents", "samples", "examples", "pairs", "instructions", "images"),
    "compute": ("hours", "hour", "days", "flops", "flop", "petaflop", "pf", "zettaflop", "$", "usd"),
}
"""How a unit a question spells out is written beside a figure in an abstract ("gigabytes" → "40GB", "points" →
"+8.81", "9.3 BLEU", "how much data" → "1T tokens", "how much compute" → "442 A100-40G GPU hours")."""
_FIGURE = re.compile(r"^([~≈<>+])?\d[\d,.]*(%|x|×|k|m|b|t|gb|tb|mb|h|s)?$")
_NUMBER_WORDS = frozenset(
    "two three four five six seven eight nine ten eleven twelve fifteen twenty thirty forty fifty hundred hundreds "
    "thousand thousands million millions billion billions trillion trillions dozen dozens".split()
)
"""Figures spelled out ("ten popular LLMs", "four music understanding tasks"); "one" is left out ("one of the")."""


ATTRIBUTES: dict[str, tuple[re.Pattern, re.Pattern]] = {
    "license": (
        re.compile(r"\blicen[cs](?:e|es|ed|ing)\b", re.I),
        re.compile(r"licen[cs]|\bapache\b|creative commons|\bcc[- ]by\b|\bmit\b|\bgpl\b", re.I),
    ),
    "optimizer": (
        re.compile(r"\boptimi[sz]ers?\b", re.I),
        re.compile(r"optimi[sz]er|\badam\w*|\bsgd\b|\badafactor\b|\blion\b|\bsophia\b|\blamb\b", re.I),
    ),
    "GPU type": (
        re.compile(
            r"\b(?:which|what)\s+(?:kinds?|types?|models?|makes?)\s+of\s+(?:gpus?|accelerators?|chips?)\b|"
            r"\b(?:which|what)\s+gpus?\b",
            re.I,
        ),
        # "4timesRTX 3090": a count's lost LaTeX \times glued to the GPU's name, as some abstracts store it.
        re.compile(
            r"\b[ahvlt]\d{2,3}\b|\b[ah]800\b|\bascend\b|\btpu|\bmi\d{3}|(?:\b|(?<=\dtimes))rtx\b|\bgeforce\b|"
            r"\btesla\b",
            re.I,
        ),
    ),
    "date": (
        re.compile(
            r"^\W*when\s+(?:was|were|did|is|will)\b.{0,80}\b(?:release|released|publish|published|introduce|"
            r"introduced|launch|launched|announce|announced|come out|came out|appear|appeared)\b|"
            r"\b(?:what|which)\s+(?:year|date|month)\b",
            re.I,
        ),
        re.compile(
            r"\b(?:19[5-9]\d|20[0-3]\d)\b|\b(?:january|february|march|april|june|july|august|september|october|"
            r"november|december)\b",
            re.I,
        ),
    ),
    "hardware": (
        re.compile(
            r"\bhardware\b|\b(?:which|what)\s+(?:kind of\s+|type of\s+)?(?:gpus?|tpus?|npus?|accelerators?|chips?|"
            r"cluster|servers?)\b",
            re.I,
        ),
        re.compile(
            r"\b(?:gpus?|tpus?|npus?|cpus?|chips?|servers?|processors?)\b|\b[ahv]\d00\b|\b[ah]800\b|\bascend\b|"
            r"accelerator|cluster|hardware|supercomputer",
            re.I,
        ),
    ),
    "list of authors": (
        re.compile(
            r"^\W*who\s+(?:are|were|is|was)\s+(?:the\s+|its\s+|their\s+)?authors?\b|^\W*who\s+(?:wrote|authored)\b|"
            r"\b(?:name|list)\s+the\s+authors\b|\bwritten\s+by\s+whom\b|\bhow many (?:authors|people) (?:wrote|authored)\b",
            re.I,
        ),
        re.compile(r"\bet al\b|^Authors:", re.I | re.M),
    ),
    "affiliated university": (
        re.compile(r"\b(?:which|what)\s+(?:universit(?:y|ies)|institutions?|research (?:lab|group)s?)\b", re.I),
        re.compile(r"universit|institut|college|academ(?:y|ia)|laborator|\blabs?\b", re.I),
    ),
    "developing company": (
        re.compile(r"\b(?:which|what)\s+(?:compan(?:y|ies)|organi[sz]ations?|firms?|startups?|corporations?)\b", re.I),
        re.compile(
            r"\b(?:inc|corp|ltd|llc|gmbh)\b|\.ai\b|\b(?:google|deepmind|meta|facebook|microsoft|openai|anthropic|nvidia|"
            r"alibaba|baidu|huawei|tencent|bytedance|amazon|apple|ibm|salesforce|samsung|sensetime|zhipu|jd|ant group|"
            r"company|corporation|industry|industrial)\b",
            re.I,
        ),
    ),
    "publication venue": (
        re.compile(
            r"\b(?:which|what)\s+(?:conference|venue|journal|workshop)\b|"
            r"\b(?:published|accepted|presented|appear(?:ed)?)\s+(?:at|in)\s+(?:which|what)\b",
            re.I,
        ),
        re.compile(
            r"\b(?:ACL|EMNLP|NAACL|EACL|COLING|NeurIPS|NIPS|ICLR|ICML|AAAI|IJCAI|CVPR|ICCV|ECCV|SIGIR|KDD|LREC|"
            r"TACL|JMLR|WMT\d*)\b|(?i:\bconference\b|\bjournal\b|\bworkshop\b|\bproceedings\b|\bshared task\b|"
            r"\baccepted (?:at|to|by|in)\b)"
        ),
    ),
    "base model": (
        re.compile(
            r"\b(?:which|what)\s+(?:[\w-]+\s+){0,2}?(?:base|backbone|foundation|underlying|pre-?trained|starting|initial)"
            r"\s+(?:[\w-]+\s+)?(?:models?|llms?|lms?|networks?|checkpoints?)\b|\b(?:which|what)\s+(?:[\w-]+\s+){0,2}?"
            r"backbones?\b|\b(?:fine-?tuned|initiali[sz]ed|built|based|continued)\s+(?:on top of|upon|on|from)\s+"
            r"(?:which|what)\b|"
            # "Which model was X initialized from?": the preposition at the end.
            r"\b(?:which|what)\s+(?:[\w-]+\s+){0,3}?(?:models?|llms?|lms?|checkpoints?)\b[^?]{0,80}"
            r"\b(?:(?:fine-?tuned|initiali[sz]ed|built|based|continued|derived|adapted)\s+(?:on top of|upon|on|from)|"
            r"trained\s+from)\s*\?",
            re.I,
        ),
        re.compile(
            r"\b(?:llama|qwen|mistral|mixtral|gpt|bert|roberta|t5|mt5|bloom|bloomz|opt|falcon|gemma|phi|vicuna|palm|pali|"
            r"glm|chatglm|baichuan|internlm|yi|deepseek|pythia|clip|vit|blip|flan|bart|xlm|llava|claude|gemini|olmo|"
            r"minicpm|stablelm|tinyllama|electra|deberta|whisper|alpaca|starcoder|wizardlm|siglip|internvl|rwkv|mamba|"
            r"mpt|ernie|pangu|wav2vec)(?:[-.]?\d[\w.-]*)?\b|\b[A-Za-z]{2,}[\w.]*-?\d[\w.-]*\b",
            re.I,
        ),
    ),
    "tokenizer": (
        re.compile(
            r"\b(?:which|what)\s+(?:kinds?\s+of\s+|types?\s+of\s+|sorts?\s+of\s+)?tokeni[sz](?:ers?|ation)\b|"
            r"\btokeni[sz]ers?\s+(?:does|did|do|is|was|are|were)\b",
            re.I,
        ),
        re.compile(r"tokeni[sz]|\bBPE\b|byte[- ]pair|sentencepiece|wordpiece|\bvocabular", re.I),
    ),
    "learning-rate schedule": (
        re.compile(
            r"\b(?:learning[- ]rate|lr|warm-?up)\s+(?:schedules?|schedulers?|strateg(?:y|ies)|polic(?:y|ies)|phases?)\b|"
            r"\b(?:which|what)\s+(?:kinds?\s+of\s+|types?\s+of\s+)?warm-?ups?\b",
            re.I,
        ),
        re.compile(r"warm-?up|re-?warm|schedul|\bcosine\b|\bdecay|learning[- ]rates?\b", re.I),
    ),
    "code or weights release": (
        re.compile(
            r"\bwhere\s+(?:can|could|do|does|should)\s+(?:i|we|one|you)\s+(?:download|get|find|access)\b|"
            r"\bhow\s+(?:can|could|do|does|should)\s+(?:i|we|one|you)\s+(?:download|access)\b|"
            r"\bgithub\b|\b(?:code|weights|checkpoints?|model)\s+(?:link|url|repo(?:sitory)?)\b|"
            r"\b(?:is|are)\s+(?:[\w.-]+\s+){1,4}?open[- ]sourced?\s*\?",
            re.I,
        ),
        re.compile(
            r"github|https?://|hugging ?face|open[- ]sourc|\brelease|\bavailable at\b|\bmake (?:\w+ )?available\b|"
            r"\b(?:code|models?|weights|checkpoints?|data(?:sets?)?|resources?)\b[\w\s,]{0,30}?\b(?:is|are|will be|"
            r"have been)\s+(?:made\s+)?(?:publicly\s+|freely\s+|openly\s+)?available\b",
            re.I,
        ),
    ),
    "funding": (
        re.compile(r"\bwho\s+(?:funded|funds|sponsored|paid for|financed)\b|\bfunding\b|\bfunded by\b", re.I),
        re.compile(r"\bfund|\bgrant|\bsponsor|\bsupported by\b", re.I),
    ),
    "loss function": (
        re.compile(
            r"\b(?:which|what)\s+(?:kinds?\s+of\s+|types?\s+of\s+)?(?:training\s+)?loss(?:\s+functions?\b|"
            r"\s+(?:does|did|do|is|was|are|were)\b)",
            re.I,
        ),
        re.compile(r"\bloss|objective|contrastive|cross-entropy|likelihood|divergence", re.I),
    ),
    "position encoding": (
        re.compile(
            r"\b(?:which|what)\s+(?:kinds?\s+of\s+|types?\s+of\s+)?(?:positional|position)\s+"
            r"(?:encodings?|embeddings?)\b",
            re.I,
        ),
        re.compile(r"position|\brope\b|rotary|\balibi\b", re.I),
    ),
    "activation function": (
        re.compile(
            r"\b(?:which|what)\s+(?:kinds?\s+of\s+|types?\s+of\s+)?activation(?:\s+functions?\b|"
            r"\s+(?:does|did|do|is|was)\b)",
            re.I,
        ),
        re.compile(r"activation|\brelu|\bgelu|swiglu|\bsilu|\bswish", re.I),
    ),
    "programming language or toolkit": (
        re.compile(
            r"\b(?:programming language|toolkit|software framework|framework|library)\b.{0,60}\b(?:implemented|written|"
            r"coded)\b|"
            r"\b(?:implemented|coded|programmed)\s+in\s+(?:which|what)\b|"
            r"\b(?:which|what)\s+(?:[\w-]+\s+){0,2}?programming languages?\b",
            re.I,
        ),
        re.compile(
            r"\bpython\b|\bpytorch\b|\btensorflow\b|\bjax\b|c\+\+|\bjava\b|\brust\b|\bcuda\b|\btriton\b|"
            r"\bmindspore\b|\bpaddle|\bimplemented in\b|\bwritten in\b|\bjavascript\b|\btypescript\b|\bgolang\b|"
            r"\bc#|\bphp\b|\bruby\b|\bkotlin\b|\bscala\b|\bhaskell\b|\bfortran\b|\bverilog\b|\bsql\b|\bracket\b|"
            r"\bjulia\b|\blua\b|\bocaml\b|"
            r"\bprogramming languages? (?:such as|including|like)\b|\b\d+\s+programming languages\b",
            re.I,
        ),
    ),
}
"""Details a question asks by name and an abstract states by name when it states them: how a question asks
each one, and how an abstract says it ("released under the Apache 2.0 license", "trained with AdamW", "on 2048
Ascend 910 processors", "accepted at ACL", "continual pre-training using the Qwen2 models"). Asked of a paper
whose abstract says none of it, the question is declined ("What tokenizer does InfLLM use?", "Where can I download
SPDF?": probes of twenty such details over random papers were answered from any sentence). A list of authors is
stated by a synced paper's record ("Authors: ..."), never by an abstract. Not companies: abstracts name them by name
("a joint effort between Microsoft and NVIDIA"), an open list."""


LINK = re.compile(r"https?://\S+|\bwww\.\S+")
"""A link: its words are not the text's ("github.com/.../MedAgents" does not say what MedAgents does,
"youtube.com/watch?v=GYT-65HZwus" names no model)."""


def states_attribute(attribute: str, text: str, names: Iterable[str] = ()) -> bool:
    """`text` says something of the asked `attribute` (a key of `ATTRIBUTES`) besides the question's `names`: the
    model "MechGPT" is no base model of MechGPT's."""
    text = LINK.sub(" ", text)
    for name in names:
        text = re.sub(re.escape(name), " ", text, flags=re.I)
    return bool(ATTRIBUTES[attribute][1].search(text))


@dataclass(frozen=True)
class Asked:
    """One question's reading: what kind of answer it wants, the measured thing's words, the names it uses."""

    answer_type: AnswerType
    units: tuple[str, ...]
    """Words of the measured thing ("hours" in "how many GPU hours", "MMLU" in "what MMLU score")."""
    names: tuple[str, ...]
    """Acronyms and coined names ("GEB-1.3B", "MMLU"): what the question is about."""
    focus: tuple[str, ...]
    """The asked-for thing of a what/which question, its head last: ("watermarking", "scheme")."""
    many: bool = False
    """It asks for papers ("which papers", "is there work on") or compares them: every relevant paper is named."""
    attribute: str | None = None
    """A detail abstracts state in so many words when they state it at all ("license", "date"): `ATTRIBUTES`."""
    compares: bool = False
    """It asks to compare ("X vs Y", "How do X and Y each..."): the works it names are the papers to list."""
    phase: str | None = None
    """"training" or "inference" when the question asks about one of them only: a figure of the other does not
    answer it (`other_phase`)."""


@lru_cache(maxsize=1024)
def read(question: str) -> Asked:
    """What `question` asks for (cached: the pipeline, the decision and the answerer each read it); what it
    excludes ("(not SuperGLUE)") is no part of it."""
    question = kept(question)
    kind = next((kind for kind, pattern in _TYPE_TESTS if pattern.search(question)), "lookup")
    asked_for = tuple(focus(question))
    if kind == "finding" and asked_for:  # "which technique was effective": a technique, whatever is said of it
        kind = "lookup"
    called = [name for name in entities(question) if re.sub(r"\W", "", name).casefold() not in CHAT]
    if kind == "lookup" and called and name_only(question, called):  # "whats LongPO", "HLLM?": tell about it
        kind = "overview"
    compares = bool(_COMPARE.search(question))
    many = bool(
        _MANY.search(question)
        or compares
        or _MANY_EXIST.search(question)
        or (not called and _MANY_THINGS.search(question) and not _REFERS.search(question))
    )
    attribute = next((name for name, (asks, _) in ATTRIBUTES.items() if asks.search(question)), None)
    trains, infers = bool(_TRAINING.search(question)), bool(_INFERENCE.search(question))
    phase = "training" if trains and not infers else "inference" if infers and not trains else None
    return Asked(kind, tuple(asked_units(question)), tuple(called), asked_for, many, attribute, compares, phase)


_TRAINING = re.compile(r"\b(?:pre-?)?train\w*|\bfine-?tun\w*", re.I)
_INFERENCE = re.compile(r"\binference\b|\bdeploy\w*|\bat test time\b", re.I)


def other_phase(sentence: str, phase: str | None) -> bool:
    """The sentence is about the other phase than the one asked: "inference on 4 RTX 3090 GPUs" for "How many GPUs
    were used to pretrain GLM-130B?" states no training hardware."""
    if phase is None:
        return False
    trains, infers = bool(_TRAINING.search(sentence)), bool(_INFERENCE.search(sentence))
    return infers and not trains if phase == "training" else trains and not infers


CHAT = frozenset({"eli5", "tldr", "tl", "dr", "imo", "afaik", "fyi", "pls", "plz", "thx", "btw"})
"""Chat shorthand a question may open with ("eli5 CorDA", "TL;DR of Dolma"): how to answer, not a name."""
_FILLER = frozenset(
    "what whats what's wats wat is the a an on about info information details please deal with paper model method "
    "any more so ok okay and hi hey of".split()
) | CHAT
"""Words that ask nothing of a name by themselves: "whats the deal with LongPO", "info on HLLM please"."""


def name_only(question: str, called: list[str]) -> bool:
    """The question is a name and filler words only ("whats LongPO", "HLLM?"): it asks what the named thing is."""
    named = {squash(part) for name in called for part in [name, *parts(name)]}
    rest = [w for w in (squash(t) for t in _TOKEN.findall(question)) if w and w not in named]
    return all(w in _FILLER or w.isdigit() for w in rest)


_EXCLUDED = re.compile(
    r"\(\s*(?:not|excluding|except|other than)\b[^)]*\)|,\s*(?:excluding|except for|other than)\s+[^,;?()]+",
    re.I,
)
"""What a question sets aside: "(not SuperGLUE)", "(excluding surveys)", ", other than BERT" (after a comma only:
"Which methods other than LoRA reduce memory?" asks about methods that reduce memory)."""


def kept(question: str) -> str:
    """The question without what it sets aside (those words say what the answer is not about), its frame words'
    typos mended ("waht does HLLM do?", "expalin PowerNorm")."""
    return _FRAME_TYPO.sub(_mended, _EXCLUDED.sub(" ", question))


_FRAME = (
    "what", "how", "why", "who", "explain", "describe", "summarize", "summarise", "tell", "which", "does", "about",
    "overview",
)
"""The words that say how a question asks: a typo in one must not hide its form or read as a name."""
_FRAME_TYPO = re.compile(r"\b[A-Za-z]{3,10}\b")


def _mended(match: re.Match[str]) -> str:
    """A word that is no English word but one typo (a letter swapped with the next, lost, added or changed) away from
    a frame word with its first letter, as that word."""
    word = match.group(0)
    lowered = word.casefold()
    if lowered in _FRAME or english(lowered):
        return word
    close = next((f for f in _FRAME if f[0] == lowered[0] and _one_typo(lowered, f)), None)
    if close is None:
        return word
    return close.capitalize() if word[0].isupper() else close


def _one_typo(word: str, meant: str) -> bool:
    """`word` is `meant` with one letter changed, lost or added, or two neighbours swapped."""
    if len(word) == len(meant):
        diff = [i for i, (a, b) in enumerate(zip(word, meant)) if a != b]
        first, last = (diff + [0, 0])[:2]
        swapped = len(diff) == 2 and last == first + 1 and (word[first], word[last]) == (meant[last], meant[first])
        return len(diff) == 1 or swapped
    short, long = sorted((word, meant), key=len)
    return len(long) - len(short) == 1 and any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def entities(question: str) -> list[str]:
    """What the question calls by name: `names` (acronyms, model names) and capitalised words inside a sentence
    ("What does Dolma do?", "Tell me about Tower+") or opening it when no English word ("Fira: what is it?"), but for
    calendar words; each with the version written after it ("SeaLLMs 3")."""
    found = names(question)
    for sentence in re.split(r"(?<=[.?!:;])\s+", question.strip()):
        tokens = _TOKEN.findall(sentence)
        for at, token in enumerate(tokens):
            word = _GENERIC_SUFFIX.sub("", token.strip(".-"))
            # A sentence's first word is a name only when it is no English word and stands alone ("Fira: what is
            # it?", "Bailong?"), not "Tell" nor "Quantization methods for LLMs?".
            first = at == 0 and (
                len(word) < 4 or word.casefold() in CHAT or english(word)
                or not re.match(rf"\W*{re.escape(token)}\s*(?:[,:?!]|\s[-–—]\s|$)", sentence)
            )
            capital = re.fullmatch(r"[A-Z][a-z][\w\-]*\+*", word)
            if capital and not first and word.casefold() not in _CALENDAR and word not in found:
                found.append(word)
    versioned = [_versioned(name, question) for name in found]
    numbers = {name.split()[-1] for name in versioned if " " in name}
    return [name for name in versioned if name not in numbers]


_VERSION = r"\s+(\d{1,2}(?:\.\d{1,2})?)(?![\w.%×-]*\w)"
"""A bare version number after a name ("SeaLLMs 3", "Qwen 2.5"); a size ("Mistral 7B") is a name of its own."""


def _versioned(name: str, question: str) -> str:
    """The name with the version number written after it ("SeaLLMs 4"): a near-miss of "SeaLLMs 3" by one digit."""
    match = re.search(rf"(?<![\w-]){re.escape(name)}{_VERSION}", question)
    return f"{name} {match.group(1)}" if match else name


def focus(question: str) -> list[str]:
    """The words of the first what/which phrase but counting and kind words: "watermarking scheme" in "what
    watermarking scheme has been proposed"; empty for "which papers ..."."""
    match = _FOCUS.search(question)
    if not match or match.group(1).split()[-1].casefold() in _NOT_FOCUS:
        return []
    return [w for w in match.group(1).split() if w.casefold() not in _NOT_FOCUS]


def squash(text: str) -> str:
    """Lower-case letters (of any script: "PanGu-π" keeps its π), digits, % and a decimal point only, accents
    dropped: "TÜLU" and 'T\\"ULU' both become "tulu"; "GEB-1.3B" becomes "geb1.3b", not the "geb13b" of GEB-13B."""
    return re.sub(r"[^\w%×.]|_|(?<!\d)\.|\.(?!\d)", "", fold(text))


def title_name(title: str) -> str | None:
    """The title's part before its colon ("Mix-LN" of "Mix-LN: Unleashing..."), None when it has no colon."""
    head, colon, _ = title.partition(":")
    return head.strip() if colon else None


def parts(word: str) -> list[str]:
    """A hyphenated, slashed or versioned name's parts, squashed: "GPT-3" → ["gpt", "3"], "SeaLLMs 3" → ["seallms",
    "3"]."""
    return [p for p in (squash(x) for x in re.split(r"[-/\s]", word)) if p]


def said_together(text: str, name: str) -> bool:
    """A name ending in a version or size ("GLM-260B", "SeaLLMs 4") is not said by a text that writes its stem only
    with another one ("GLM-130B", "SeaLLMs 3"): a near-miss by a number. Said whole, or its stem said bare and the
    number standing on its own in the same sentence ("the Yi model family ... 6B and 34B" says "Yi-34B"; "GPT ... 7%
    over" no "GPT-7", nor "Bailing" one sentence and "3 benchmarks" another "Bailing-3"), it is."""
    split = parts(name)
    if len(split) < 2 or not split[0].isalpha() or not any(c.isdigit() for c in split[-1]):
        return True
    if _latin(squash(name)) in _squashed(text):
        return True
    stem = r"[\s\-]?".join(re.escape(_latin(p)) for p in split[:-1])
    if re.search(rf"(?<!\w){stem}[\s\-]?v?\d", _plain(text)):
        return False
    # Standing on its own: not another name's version ("GPT-2"), an enumeration's "(2)" nor a "5-shot".
    number = re.compile(rf"(?<![\w.(\-]){re.escape(split[-1])}(?![\w%)\-]|\.\d)", re.I)
    return any(
        number.search(sentence) and re.search(rf"(?<!\w){stem}", _plain(sentence)) for sentence in split_sentences(text)
    )


@lru_cache(maxsize=8192)
def _squashed(text: str) -> str:
    """The text squashed (`squash`) with Greek letters spelled out; cached, as abstracts recur."""
    return _latin(squash(text))


@lru_cache(maxsize=8192)
def _plain(text: str) -> str:
    """The text folded as `squash` folds it (`text.fold`), but with its spaces and hyphens kept."""
    return _latin(fold(text))


def _latin(text: str) -> str:
    """Greek letters spelled out, as abstracts often write them ("PanGu-π" as "PanGu-pi")."""
    return "".join(unicodedata.name(c).split()[-1].lower() if "GREEK" in unicodedata.name(c, "") else c for c in text)


@lru_cache(maxsize=8192)
def vocabulary(text: str) -> frozenset[str]:
    """Every word of `text`, squashed, with hyphenated compounds also split into their parts (cached: abstracts recur)."""
    words: set[str] = set()
    for token in _TOKEN.findall(text):
        words.add(squash(token))
        words.update(parts(token))
    words.discard("")
    return frozenset(words)


def named_in(words: frozenset[str], name: str) -> bool:
    """Each part of `name` is a word of the text (or its plural), or, from four characters on, inside one (`_inside`:
    "BERT" in "MentalBERT", not "Ling" in "enabling"; nor any prefix: "Phi-3" is not named by "philosophy"); an
    acronym also starts a longer one ("RL" in "RLHF"), and an acronym's plural is named by the acronym ("CNNs" by
    "CNN")."""
    acronym = name.isupper()
    whole = squash(name)
    if " " in name and len(whole) >= 4 and any(whole in w for w in words):  # "ChineseWebText2.0" says it
        return True
    if figure := _FIGURE_NAME.fullmatch(whole):
        return any(_same_figure(figure, _FIGURE_NAME.fullmatch(w)) for w in words)
    return all(
        p in words
        or f"{p}s" in words
        or (name.endswith("s") and name[:-1].isupper() and p.endswith("s") and p[:-1] in words)
        or (len(p) >= 4 and any(_inside(p, w) for w in words))
        or (acronym and any(w.startswith(p) for w in words))
        for p in parts(name)
    )


_FIGURE_NAME = re.compile(r"(\d+(?:\.\d+)?)([a-z]+)")
"""A figure with its unit run together, squashed: "20gb", "70b", "1.5t"."""


def _same_figure(asked: re.Match[str], said: re.Match[str] | None) -> bool:
    """The same number in the same unit, one abbreviated further: "20GB" is said by "20G", "13B" by "13b"."""
    if said is None or float(asked[1]) != float(said[1]):
        return False
    return asked[2].startswith(said[2]) or said[2].startswith(asked[2])


def _inside(part: str, word: str) -> bool:
    """`part` is inside `word` as a name is inside a compound: a coined word ("MentalBERT"), or an English one whose
    rest is a word too ("Southeast"), not the ending of an English word ("enabling" holds no "Ling")."""
    return part in word and (not english(word) or english(word.replace(part, "", 1)))


_SPACED_UNIT = re.compile(r"(\d)\s+([KMGTP]i?B|[KMBT])\b")
"""A figure written apart from its unit ("20 GB", "7 B"): one figure, not a number and a name "GB"."""


def names(question: str) -> list[str]:
    """Terms that name something: acronyms, model names, anything with two capitals or a digit."""
    found = []
    for token in _TOKEN.findall(_SPACED_UNIT.sub(r"\1\2", question)):
        token = _GENERIC_SUFFIX.sub("", token.strip(".-"))
        core = re.sub(r"\W", "", token)
        if len(core) >= 2 and (any(c.isdigit() for c in core) or sum(c.isupper() for c in core) >= 2):
            found.append(token)
    return found


_BETTER = frozenset({"better", "worse", "higher", "lower", "more", "less", "greater"})
"""How much better: a gain is asked, in whatever the abstract measures it ("up to a 16% improvement")."""


def asked_units(question: str) -> list[str]:
    """The measured thing's words: the head of "how many X", the words of "what X score (of Y)", an "in X" unit."""
    units = []
    for match in _HOW_MANY.finditer(question):
        units.extend(w for w in _content(match.group(1) or match.group(2) or "")[-1:] if w.casefold() not in _BETTER)
    for match in _MEASURE_PHRASE.finditer(question):
        first, measure, of, second, measure_of = match.groups()
        units.extend(_content(" ".join(g for g in (first, of, second) if g)))
        units.extend(m for m in (measure, measure_of) if m and m.casefold() in UNIT_SPELLINGS)
    for match in re.finditer(_MEASURE_OWNED, question, re.I):
        units.extend(_content(match.group(1)))
    for match in _MEASURE_ON.finditer(question):
        units.extend(_content(match.group(1))[-1:])
    units.extend(match.group(1).casefold() for match in _MEASURE_CHANGE.finditer(question))
    if _COST.search(question):
        units.append("cost")
    if _ACCURACY.search(question):
        units.append("accuracy")
    if _DURATION.search(question):
        units.append("duration")
    if units or _QUANTITY.search(question):
        for match in _IN_UNITS.finditer(question):
            words = _content(match.group(1))
            if words and (words[-1].endswith("s") or "per" in words or words[-1] in UNIT_SPELLINGS):
                units.append(words[-1])
    if not units and _DATA_SIZE.search(question):
        units.append("data")
    return list(dict.fromkeys(units))


def _content(phrase: str) -> list[str]:
    return [w for w in phrase.split() if w.casefold() not in _FUNCTION_WORDS]


def spellings(unit: str) -> tuple[str, ...]:
    """`unit` (its stem-like start) and the ways an abstract writes it beside a figure, squashed."""
    key = squash(unit)
    return (key[: max(3, len(key) - 2)],) + UNIT_SPELLINGS.get(key.rstrip("s") + "s", ()) + UNIT_SPELLINGS.get(key, ())


def value_words(sentence: str) -> list[str]:
    """The sentence's words, squashed, each figure ("1,200", "75%", "40GB") as "#" followed by its sign of a
    gain ("+8.81") and its unit if joined, a figure spelled out ("ten") as "#w"."""
    out = []
    for word in re.findall(r"[^\s()\[\]{};:]+", _FIGURE_HYPHEN.sub(r"\1 ", sentence)):
        # arXiv abstracts keep LaTeX's escaped percent sign ("81.8\% accuracy").
        lowered = word.replace("\\%", "%").strip(".,;:\"'“”").casefold()
        figure = _FIGURE.match(lowered)
        out.append("#" if figure else "#w" if lowered in _NUMBER_WORDS else squash(lowered))
        if figure and figure.group(1) == "+":
            out.append("+")
        if figure and figure.group(2):
            out.append(figure.group(2))
    return out


_FIGURE_HYPHEN = re.compile(
    r"(?<![\w.])(\d[\d.,]*[KMBTkmbt])-(?=(?:parameters?|tokens?|words?|images?|samples?|examples?|pairs?)\b)", re.I
)
"""A size hyphenated to what it counts ("a 3.8B-parameter model", "a 19.2B-token corpus"): read as "3.8B parameter".
Any other stays one word ("4-level relevance annotations" counts no annotators, "the 2B-size Chinese Tiny LLM" no
benchmarks)."""
_MAGNITUDES = frozenset({"k", "m", "b", "t"})
_COUNT_NOUNS = frozenset(
    "tokens words images samples examples pairs documents instructions queries passages sentences characters pages "
    "videos dialogues conversations questions problems hours steps files lines".split()
)
"""What a figure with a magnitude's letter ("32B", "1T") may count instead of parameters."""
_COUNTED = 3
"""A figure spelled out counts the thing named within this many words after it ("four music understanding tasks")."""


def states_value(sentence: str, units: tuple[str, ...], window: int = 6, names: tuple[str, ...] = ()) -> bool:
    """A figure stands in `sentence` within `window` words of one of `units` (any figure when none is asked); a
    figure spelled out only just before the unit it counts ("ten popular LLMs", not "three findings: ... Learning");
    a size after a model's name is that model's, not one of the asked `names` ("rivaling Llama 3-V 405B")."""
    words = value_words(_OTHERS_SIZE.sub(lambda m: m[0] if _asked_size(m[1], names) else m[1], sentence))
    figures = [i for i, word in enumerate(words) if word == "#"]
    spelled = [i for i, word in enumerate(words) if word == "#w"]
    if not units or not (figures or spelled):
        return bool(figures or spelled)
    wanted = [s for unit in units for s in spellings(unit)]
    near = {j for i in figures for j in range(max(0, i - window), min(len(words), i + window + 2))}
    near |= {j for i in spelled for j in range(i + 1, min(len(words), i + _COUNTED + 1))}
    # "32B tokens" counts tokens, not parameters: a magnitude's letter belongs to the count noun after it.
    counting = {j for j in range(1, len(words) - 1) if words[j] in _MAGNITUDES and words[j + 1] in _COUNT_NOUNS}
    # "reduces the dataset size to just 15M" counts the data set's examples, not parameters.
    counting |= {j for j in range(1, len(words)) if words[j] in _MAGNITUDES and _DATA_WORDS & set(words[j - 5:j - 1])}
    return any(_spelled(words[j], s) for j in near - counting for s in wanted)


_OTHERS_SIZE = re.compile(r"\b((?:[A-Za-z][\w.\-]*\s+)?[A-Za-z0-9][\w.\-]*)\s+\d+(?:\.\d+)?[BM]\b")
"""A model's name and the size after it ("Llama 3-V 405B", "BLOOM 176B", "our 7B")."""
_DATA_WORDS = frozenset({"data", "dataset", "datasets", "corpus", "corpora"})


def _asked_size(name: str, asked: tuple[str, ...]) -> bool:
    """The size after `name` is the asked model's, or stands after no name at all ("our 7B model", "a 1.3B")."""
    last = name.split()[-1]
    named = bool(re.search(r"\d|[a-z][A-Z]|^[A-Z]{2,}", last)) or not english(last)
    return not named or any(named_in(vocabulary(name), wanted) for wanted in asked)


def _spelled(word: str, spelling: str) -> bool:
    """`word` is `spelling`, or starts with it when it is longer than a symbol ("%", "b", "gb")."""
    return word == spelling or (len(spelling) > 2 and word.startswith(spelling))
