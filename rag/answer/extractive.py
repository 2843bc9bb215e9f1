"""The offline answer: verbatim sentences of the retrieved abstracts, picked for the question, each cited.

Each sentence gets a score, the sum of a few named features times their `WEIGHTS`; the best sentence
of the top paper leads the answer, and further sentences follow only while they add question terms the
answer does not cover yet, within the word budget. The weights are fit by k-fold cross-validation on
eval/dev.jsonl (`python -m rag.devtools.tuning`).

Own code: llama-index's extractive pieces (SentenceEmbeddingOptimizer and kin) trim context for an
LLM; none writes a cited answer of whole sentences.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from itertools import takewhile

from ..settings import Settings
from ..text import split_sentences, terms
from ..types import Citation, Source, Turn
from . import Draft, Request, register
from .decision import CONTEXT_WEIGHT, FORM_WORDS, held, name_terms, weights_of
from .asked import (
    LINK, Asked, kept, named_in, names, read, squash, states_attribute, states_value, title_name, vocabulary,
)

_FIGURE = re.compile(r"(?<![\w\-.])\d")
_WE = r"we (?:(?:then|also|further|first|here|now|next|thus|therefore|hence|\w+ly) )?"
""""We", and an adverb it may take before its verb ("We then present GeoLLM", "we further propose")."""
_CUES = {
    "list": re.compile(
        r"(?:[^,]+,){2}|\(\s*(?:1|i|a)\s*\)|\b1\)|\bfirst(?:ly)?\b.*\bsecond\b|:\s*\w+[^.]*,|"
        r"\b(?:two|three|four|both)\b[^.;]{0,80}\band\b",
        re.I,
    ),
    "cause": re.compile(
        r"\b(?:because|due to|since|as a result|caused? by|stems? from|attribut\w+ to|owing to|leads? to|results? in|"
        rf"arises?|reasons?|explains?|root|{_WE}(?:find|found|show|observe|identify|reveal))\b",
        re.I,
    ),
    "method": re.compile(
        rf"\b(?:{_WE}(?:propose|introduce|present|develop|design|use|employ|leverage|train)|by \w+ing|via|through|"
        r"consists? of|comprises?|framework|mechanism|approach)\b",
        re.I,
    ),
    "finding": re.compile(
        rf"\b(?:{_WE}(?:find|found|show|observe|demonstrate|reveal|discover)|"
        r"results? (?:show|indicate|suggest|demonstrate)|"
        r"outperform\w*|improv\w+|surpass\w*|significant\w*|effective\w*|consistent\w*|better|worse|fails?)\b",
        re.I,
    ),
    "work": re.compile(
        rf"\b(?:{_WE}(?:propose|introduce|present|develop|build|release|design)|"
        r"this (?:paper|work) (?:proposes|introduces|presents)|called|named|dubbed)\b",
        re.I,
    ),
    "definition": re.compile(
        rf"\b(?:{_WE}(?:call|term|name|define|refer to)|(?:is|are) (?:called|termed|defined as|known as)|refers? to|"
        r"i\.e\.|namely|which (?:is|are)|denot\w+)\b",
        re.I,
    ),
    "lookup": re.compile(
        rf"\b(?:{_WE}(?:propose|introduce|present|call|term|name)|"
        r"called|termed|named|dubbed|such as|including|except)\b",
        re.I,
    ),
}
"""What a sentence carrying each kind of answer says (quantity: a figure, see `_answer_type`)."""
_OWN_WORK = re.compile(
    r"\b(?:we(?! (?:are|have) (?:witness|seen?\b|seeing))|our|here|"
    r"this (?:paper|work|study|report|technical report|article|survey|review|thesis|note))\b",
    re.I,
)
"""A sentence about the paper's own work: "we", or the paper naming itself ("This report introduces TechGPT-2.0");
not the field's "we" ("Consequently, we are witnessing the development of enormous models"), which left that
sentence leading an overview (fact hit dev9 +.004, no answer elsewhere changed)."""
_DEFINES = re.compile(r"\([A-Z][\w+%-]*\)|\b(?:called|named|dubbed|termed)\s+[A-Z]")
"""A sentence coining a name: "we propose Power Normalization (PN)", "a new method called LongPO"."""
_BOILERPLATE = re.compile(
    r"\b(?:code|data|models?|weights|dataset|benchmark)s? (?:(?:is|are|will be) )?(?:made )?(?:publicly |openly )?"
    r"(?:available|released)\b|https?://|github|\bwe hope\b|sheds? light|future (?:work|research)",
    re.I,
)
STATED_FIGURE = 0.35
"""The least share of the question's weight a sentence counts as holding when it states the asked figure in the asked
unit ("15 million figure-caption pairs" for "How big was the dataset they trained it on?", a follow-up whose words
the sentence does not use): lead fact hit dev4 .692 -> .720, the other eight sets unchanged (.2 moves one
question, .5 the same three)."""
LIST_NAMING = 0.1
"""What a list line's sentence gains for bringing in the paper's own work by name ("we propose LM-Infinite, a..."):
a tie-breaker among sentences on the question's terms (list facts named on the nine sets 46 -> 50 of 83; .25 and
.5 name as many, with more changes elsewhere)."""
LINE_WORDS = 70
"""A list line's words at most when it quotes two sentences (fact hit dev9-dev13 +.008 to +.025; 55 words gains less,
90 no more)."""
_ANNOUNCES = re.compile(r"\b(?:two|three|four|five|six|several)\s+(?:[\w-]+\s+)?[\w-]+s\s*[.:]$", re.I)
"""A short sentence ending on a count of things ("... on two findings.", "FuseChat comprises two main stages.")."""
ANNOUNCING_WORDS = 14
"""The longest sentence read as only announcing the next ones."""
_ASKS = re.compile(
    r"\?$|\bwe (?:\w+ )?(?:explore|investigate|examine|study|ask|analy[sz]e|test|evaluate|check|assess)\w* "
    r"(?:the question of )?(?:whether|if|how|why)\b",
    re.I,
)
"""A sentence posing a question the next sentence answers ("Finally, we explore whether widely used regularization
can alleviate multi-epoch degradation.")."""
_REFERS_BACK = re.compile(
    r"^(?:each|these|both|all|the (?:two|three|four|five|six))\s+(?:of (?:these|the)\s+)?([\w-]+)", re.I
)
"""A sentence opening on the things the one before it listed ("Each component is implemented by a single LLM")."""
_LEANS = re.compile(
    r"^(?:it|its|they|their|such|(?:this|these)(?!\s+(?:paper|work|study|research|article|report|technical|survey|"
    r"review|thesis|note|letter|position|tutorial)\b))\b",
    re.I,
)
"""A sentence opening on what the one before it said ("This approach entails masking a wrong answer", "It enables
federated tuning"): alone it does not say what it is about."""
_SPELLED_OUT = re.compile(r"((?:[\w-]+\s+){1,8})\(([A-Z][A-Za-z-]*[A-Z])s?\)")
"""An acronym the abstract spells out before it: "large language models (LLMs)"."""
_BEST = re.compile(
    r"\b(?:came|come|comes|ended up|finished|is|was)\s+(?:out\s+)?on\s+top\b(?!\s+of)|"
    r"\btop[- ](?:scor|perform|rank)\w*|\b(?:won|winner|wins)\b",
    re.I,
)
"""A question asking which did best in other words ("which model came out on top?"): abstracts say "best"."""
NAMED_ENUMERATION = 0.05
"""What a sentence answering "which Xs" loses, as a tie-breaker, for naming one of them or only enumerating, shared
among the names when it enumerates several: "... further train data-augmented models like SIMCSE, SNCSE, and SynCSE"
and "three prominent chat LLMs ..., namely NH2-Mixtral-8x7B, NH2-Solar-10.7B, and OpenChat-3.5-7B" lead, not a
sentence naming one (lead fact hit dev4 .746 -> .762; fact hit dev10 +.012, dev12 +.011, dev18 +.012; no set
lower)."""
_FIRST_ITEM = re.compile(r"(?:^|[\s:;,])\(?(?:1|i)\)\s", re.I)
_LATER_ITEM = re.compile(r"^\W*\(?(?:[2-9]|ii|iii|iv|v|vi)\)", re.I)
_PROPOSES = re.compile(r"\b(?:propos|introduc|present|suggest|develop|offer|came up with|come up with)\w*", re.I)
"""A question asking what a paper brings in ("What fix does The Curse of Depth paper propose?")."""
_BRINGS = re.compile(
    rf"\b{_WE}(?:propose|introduce|present|develop|design|call|term|name)\b|\b(?:called|named|dubbed|termed)\b", re.I
)
"""A sentence bringing a work of the paper's in by name: "we propose LayerNorm Scaling", "a novel method we call"."""
_OPENING_ITEM = re.compile(r"^\W*\(?(?:1|i)\)\s", re.I)
"""A sentence that is a list's first item, the list announced by the sentence before it ("... through two main
strategies. 1) Direct prompting: ...")."""
_OVERVIEW_CUES = frozenset({"work", "method", "definition"})
"""What a sentence answering "what does X do / tell me about X" says: what the work is, does or is called."""


@dataclass(frozen=True)
class Weights:
    """How much each feature of a sentence counts; chosen from k-fold cross-validation on eval/dev.jsonl."""

    rare_terms: float
    """Share of the question's IDF weight found in the sentence."""
    answer_type: float
    """The sentence carries the asked kind of answer (a figure beside the asked unit, a list, a cause, a method...),
    counted in proportion to `rare_terms`: the kind of answer on the question's subject."""
    background: float
    """Background before the abstract's first "we", or boilerplate (code available...): rarely the answer."""


WEIGHTS = Weights(rare_terms=1.0, answer_type=3.2, background=-0.8)


@dataclass(frozen=True)
class Sentence:
    """One sentence of an abstract with what scoring needs, computed once per abstract."""

    index: int
    text: str
    words: int
    terms: frozenset[str]
    """Its stemmed words, hyphenated ones also split and joined ("state-of-the-art" holds "state" and "art"), and
    neighbours joined ("data sets" holds "dataset"): as the decision reads an abstract (`decision.held`)."""
    background: float
    preamble: bool
    """It comes before the abstract's first sentence about its own work: the field's problem, restated ("LLMs are
    notoriously token-hungry during pre-training"). It shares a question's words, not its answer."""
    cues: frozenset[str]
    names: frozenset[str]
    """Coined names and acronyms in the sentence, squashed ("OLMo" → "olmo")."""
    announces: bool
    """It only announces what the next sentences say ("We base these steps on two findings."): alone, it tells
    nothing."""
    opens_list: bool
    """It begins a numbered list ("four training stages: 1) ...; 2) ..."), or the next sentence is its first item."""
    continues_list: bool
    """It goes on with a numbered list begun before it ("3) multi-task fine-tuning stage, ...", or "1) Direct
    prompting: ..." after the sentence announcing the list)."""
    asks: bool
    """It poses a question the next sentence answers (`_ASKS`)."""
    leans: bool
    """It opens on what the sentence before it said (`_LEANS`), so that sentence comes with it."""
    spelled: frozenset[str]
    """The kinds of thing its acronyms name, as the abstract spells them out ("a frozen LLM, Vicuna": model): "which
    model" asks for what it names."""


@dataclass(frozen=True)
class Features:
    """One sentence's features for one question, named as their `Weights`."""

    rare_terms: float
    answer_type: float
    background: float

    def score(self, weights: Weights) -> float:
        """The weighted sum of the features."""
        return sum(getattr(self, f.name) * getattr(weights, f.name) for f in fields(self))


@dataclass(frozen=True)
class Candidate:
    """A sentence of one source, scored for the question."""

    source: Source
    sentence: Sentence
    features: Features
    score: float


@dataclass(frozen=True)
class Question:
    """The question as the scorer uses it: what it asks, and the weight of each of its stemmed terms."""

    asked: Asked
    wanted: dict[str, float]
    said: frozenset[str]
    """Every word of the question, squashed: a name it already says is not news."""
    head: frozenset[str]
    """The stem of the asked-for thing's head word ("techniqu" in "which regularization technique")."""
    proposes: bool
    """It asks what the paper proposes ("What fix does The Curse of Depth paper propose?")."""

    @property
    def total(self) -> float:
        return sum(self.wanted.values()) or 1.0


class ExtractiveBackend:
    """The offline default backend: quotes from the abstracts, no language model; earlier questions break ties."""

    name = "extractive"

    def __init__(self, settings: Settings, weights: Weights = WEIGHTS) -> None:
        self.answer_words = settings.answer.words
        self.weights = weights

    def fit(self, sources: list[Source]) -> list[Source]:
        """Every source: no context window to respect."""
        return sources

    def condense(self, question: str, history: list[Turn]) -> str:
        """Retrieve with the last questions and this one joined: no model to rewrite them."""
        return " ".join([turn.question for turn in history] + [question])

    def stream(self, request: Request) -> Iterator[str | Draft]:
        """The answer is composed at once, so it arrives as one piece."""
        context = " ".join(turn.question for turn in request.history)
        subject = request.subject or request.sources[0]
        draft = self.answer(request.question, [subject, *request.listed[1:]], request.idf, context)
        yield draft.text
        yield draft

    def answer(self, question: str, sources: list[Source], idf: Callable[[str], float], context: str = "") -> Draft:
        """Cited sentences for `question` from `sources[0]`, or for a list question one line for each of `sources`;
        words of `context` (earlier questions) weigh less than the question's own."""
        reading = weigh(question, idf, context)
        if reading.asked.many:
            wanted = weights_of(question, idf)
            return compose_list([self.line_of(reading, source, wanted) for source in sources])
        if only_named(reading, sources[0]):
            reading = replace(reading, asked=replace(reading.asked, answer_type="overview"))
        own = within(reading, sources[0])
        return self.answer_one(reading, rank(own, sources[:1], self.weights))

    def answer_one(self, question: Question, own: list[Candidate]) -> Draft:
        """The top paper's answer from its ranked sentences: for an overview ("What does ReLiK do?") after the whole
        title (what it is) unless its first sentence says the title, within the word budget; else after the paper's
        name when the question does not say it. An overview of a name the paper only uses ("What is GSM8K?" of
        LLM2LLM) is answered by the sentences naming it, as a definition is.

        Retrieval ranks papers better than single sentences do (MRR 0.97 on the dev set), so the
        answer comes from paper [1] alone: one paper cited, precision kept.
        """
        top = own[0].source
        unnamed = not any(named_in(vocabulary(top.title), name) for name in question.asked.names)
        if question.asked.answer_type == "overview":
            # The title heads it, unless the first sentence quoted says every word of it ("we propose LangSAMP
            # (Language-Script Aware Multilingual Pretraining), a method ..."): then the name alone, and the words
            # saved hold more of the abstract (fact hit dev8 +.005, dev13, dev16, dev19 +.004, no set lower).
            heading = f"{paper_name(top.title)} [{top.n}]:"
            picked = self.pick(question, own, self.answer_words - len(heading.split()))
            if not terms(top.title) <= picked[0].sentence.terms:
                heading = f"{top.title} [{top.n}]:"
                picked = self.pick(question, own, self.answer_words - len(heading.split()))
            if unnamed and question.asked.names and not any(_names_asked(question, c.sentence) for c in picked):
                # "What is GSM8K?" answered by a paper that only uses it: its sentences naming GSM8K, not an
                # overview of the paper that never says what was asked.
                plain = replace(question, asked=replace(question.asked, answer_type="definition"))
                return self.answer_one(plain, rank(within(plain, top), [top], self.weights))
            return compose(picked, heading)
        heading = f"{paper_name(top.title)} [{top.n}]:" if unnamed else ""
        return compose(self.pick(question, own, self.answer_words, len(heading.split())), heading)

    def line_of(self, question: Question, source: Source, wanted: dict[str, float]) -> list[Candidate]:
        """A list line's sentences: why the paper is listed (`why_listed`), after the first sentence that brings its
        work in by name and fits beside it in `LINE_WORDS`: what the paper does, then why it is here (the sentence
        on the question's words often only restates the problem: "we study the pretraining data detection problem",
        where "we introduce Min-K% Prob" says what the paper offers). When the reason already brings a work in, the
        paper's best-ranked other such sentence that fits follows: a study that then proposes ("we further propose a
        new pooling strategy, Multi-Layers Trainable Pooling") is named by both. A reason opening on the sentence
        before it ("This algorithm significantly speeds up ...") comes after that sentence; the items of a numbered
        list the reason begins follow it while they fit."""
        ranked = rank(question, [source], self.weights)
        best = why_listed(ranked, wanted)
        line = [*_leaned_on(best, ranked, []), best]
        words = sum(c.sentence.words for c in line)
        if words > LINE_WORDS:
            line, words = [best], best.sentence.words
        # The items of a numbered list the reason begins ("two main strategies ... 1) Direct prompting: ...").
        for index in sorted(_numbered_after(best, ranked)):
            item = next(c for c in ranked if c.sentence.index == index)
            if words + item.sentence.words > LINE_WORDS:
                break
            line.append(item)
            words += item.sentence.words
        bringing = [c for c in ranked if c not in line and _brings_in(c.sentence)]
        # After a reason that brings a work in, the best-ranked other that does and fits; else the first in the
        # abstract that fits (ADPA's sentence is too long to follow the reason, DCKD's is not).
        if not any(_brings_in(c.sentence) for c in line):
            bringing.sort(key=lambda c: c.sentence.index)
        other = next((c for c in bringing if words + c.sentence.words <= LINE_WORDS), None)
        return sorted([*line, *([other] if other else [])], key=lambda c: c.sentence.index)

    def pick(self, question: Question, own: list[Candidate], budget: int, heading: int = 0) -> list[Candidate]:
        """The best sentence first (for an overview, the work's first own one, then the method said before it), then
        those adding uncovered question terms (best first) within `budget` words; then, while the whole answer with
        its [n] markers stays within `budget`, the paper's other sentences on the question's terms (best first), then
        its other own sentences in the abstract's order, those after the lead first, while the whole answer with its
        `heading` words stays within `budget`: the words a reader allows. A sentence opening on the one before it
        ("This approach entails ...") comes after it."""
        overview = question.asked.answer_type == "overview"
        # Never the preamble, when the paper says anything of its own work: "LLM agents significantly extend the
        # capabilities of standalone LLMs" answers no question about the paper (lead fact hit +.005 to +.017 on eight
        # sets, dev7 -.008; fact hit within one question either way on each set).
        lead = next((c for c in own if not c.sentence.preamble), own[0])
        if overview:
            # What a work is and does: its first sentence about itself ("we propose...") past the background, not
            # the best-scoring one, which is often a result naming it ("Our models, dubbed IRCoder, display gains...").
            first = [c for c in own if not c.sentence.background and _OWN_WORK.search(c.sentence.text)]
            # Among them, the first to name the work as it brings it in ("we introduce Mix-LN, a novel..."), not
            # the motivation before it ("While some view this as..., we identify it as a training shortfall").
            naming = [c for c in first if _OVERVIEW_CUES & c.sentence.cues and _names_asked(question, c.sentence)]
            # When none names it (the abstract spells PowerNorm "Power Normalization (PN)"), the first to coin a name
            # for what it brings in, not the study before it ("we perform a systematic study of ...").
            working = [c for c in first if "work" in c.sentence.cues and _DEFINES.search(c.sentence.text)]
            lead = min(naming or working or first, key=lambda c: c.sentence.index, default=lead)
        # A lead opening on the sentence before it ("This approach entails masking ...") comes after that sentence.
        leaned = [c for c in _leaned_on(lead, own, []) if lead.sentence.words + c.sentence.words <= budget]
        picked = [lead, *leaned]
        words = sum(c.sentence.words for c in picked)
        covered = {t for c in picked for t in c.sentence.terms}
        if overview:
            # A lead late in the abstract ("After pretraining..., we present a new foundation model called Croc") has
            # the work's method before it ("we design a dynamically learnable prompt token pool"), in its order.
            before = (c for c in own if c.sentence.index < lead.sentence.index and c not in picked
                      and not c.sentence.background and "method" in c.sentence.cues)
            for cand in sorted(before, key=lambda c: c.sentence.index):
                if words + cand.sentence.words <= budget:
                    picked.append(cand)
                    words += cand.sentence.words
                    covered |= cand.sentence.terms
        # A numbered list the lead begins ("four training stages: 1) ...; 2) ...") goes on in the sentences after it;
        # then an overview's next sentence, the one after "we propose X", which says how X works; then the
        # best-scoring (natural questions' fact hit, dev3-dev6: .927/.875/.833/.767 -> .964/.857/.817/.833). A question
        # the abstract poses comes with the next sentence, its answer (fact hit dev6 +.007, dev13 +.004, dev14 +.003).
        going_on = _numbered_after(lead, own) | ({lead.sentence.index + 1} if lead.sentence.asks else set())
        after = lead.sentence.index + 1
        order = sorted(own, key=lambda c: (c.sentence.index not in going_on, overview and c.sentence.index != after))
        # The preamble adds the question's words but restates the problem; the paper's answer comes after it (fact
        # hit dev3 .922 -> .930, dev10 .762 -> .770, dev12-dev15 +.004 to +.008, no set lower).
        for cand in (c for c in order if c is not lead and c not in picked and not c.sentence.announces
                     and not c.sentence.preamble):
            adds = (cand.sentence.terms - covered).intersection(question.wanted)
            # An overview goes on with what the work does after its lead, however few terms it asked: best-scoring
            # first (taken in the abstract's order instead: dev4 -.006, dev5 -.013, dev7 -.008).
            follows = overview and cand.sentence.index > lead.sentence.index and not cand.sentence.background
            follows = follows or cand.sentence.index in going_on
            pair = [*_leaned_on(cand, own, picked), cand, *_answering(cand, own, picked)]
            size = sum(c.sentence.words for c in pair)
            if (adds or follows) and words + size <= budget:
                picked.extend(pair)
                words += size
                covered |= {t for c in pair for t in c.sentence.terms}
        # A sentence sharing only question words seen already often holds the answer's other half ("...utilizing an
        # English news article dataset as the underlying RAG knowledge base" after "we develop MultiHop-RAG, which
        # consists of a knowledge base..."): fact hit +.016 to +.039 on dev-dev4, p50 words still under 80.
        words = _fill((c for c in own if c.features.rare_terms > 0 and not c.sentence.background
                       and not c.sentence.announces), own, picked, words, budget)
        # Words still left go to the paper's own sentences after the lead, then before it, in the abstract's order:
        # how the work is done often shares no question word ("What does PAT do for LLMs?" then quotes "we insert
        # the innovative Hybrid Sparsification Modules"): fact hit dev3 +.016, dev11 +.012, dev8 +.005, no set lower.
        # The heading counts here, so that filling never takes an answer past the budget (else dev2 +.015 more, but
        # answer p50 80 words on dev2 and everyday).
        own_work = (c for c in own if not c.sentence.background and not c.sentence.announces)  # preamble is background
        _fill(sorted(own_work, key=lambda c: (c.sentence.index < lead.sentence.index, c.sentence.index)),
              own, picked, words, budget - heading)
        # The rest in the abstract's order, but a sentence opening on the lead right after it, beside it.
        rest = sorted(picked[1 + len(leaned):], key=lambda c: (not _opens_on(lead, c), c.sentence.index))
        return [*leaned, lead, *rest]


def _fill(candidates: Iterable[Candidate], own: list[Candidate], picked: list[Candidate], words: int,
          budget: int) -> int:
    """Adds to `picked` (holding `words` words) each of `candidates` not picked yet, after the sentence it opens on,
    while the answer with its [n] markers stays within `budget` words; returns the words picked then."""
    for cand in candidates:
        if cand in picked:
            continue
        pair = [*_leaned_on(cand, own, picked), cand]
        size = sum(c.sentence.words for c in pair)
        if words + len(picked) + size + len(pair) <= budget:
            picked.extend(pair)
            words += size
    return words


def why_listed(ranked: list[Candidate], wanted: dict[str, float]) -> Candidate:
    """The sentence showing why a paper is in a list: the scorer's best of its `ranked` sentences, counting as well
    the share of the question's weight (`wanted`, `weights_of` the question, read once for the whole list) it holds
    with hyphenated words matched split or joined ("pre-training", "pretraining"), and, a little, whether it brings
    the paper's work in by name (`LIST_NAMING`)."""
    total = sum(wanted.values()) or 1.0
    return max(ranked, key=lambda c: c.score / 2 + LIST_NAMING * _brings_in(c.sentence)
               + sum(w for t, w in wanted.items() if t in held(c.sentence.text)) / total)


def _leaned_on(cand: Candidate, own: list[Candidate], picked: list[Candidate]) -> list[Candidate]:
    """The sentence before `cand` when `cand` opens on it ("We further present ... Testset Slot Guessing" before
    "This approach entails masking a wrong answer"), unless already picked."""
    if not cand.sentence.leans:
        return []
    return [c for c in own if c.sentence.index == cand.sentence.index - 1 and c not in picked]


def _answering(cand: Candidate, own: list[Candidate], picked: list[Candidate]) -> list[Candidate]:
    """The sentence answering `cand` when it poses a question ("we explore whether regularization helps" and then
    "..., except for dropout"), unless already picked."""
    if not cand.sentence.asks:
        return []
    return [c for c in own if c.sentence.index == cand.sentence.index + 1 and c not in picked]


def _numbered_after(lead: Candidate, own: list[Candidate]) -> set[int]:
    """The sentences right after `lead` that go on with the numbered list it begins ("3) multi-task fine-tuning")."""
    if not lead.sentence.opens_list:
        return set()
    indexes = {c.sentence.index for c in own if c.sentence.continues_list}
    going_on, at = set(), lead.sentence.index + 1
    while at in indexes:
        going_on.add(at)
        at += 1
    return going_on


def _brings_in(sentence: Sentence) -> bool:
    """The sentence brings the paper's own work in by a name ("we propose Power Normalization (PN), a novel...")."""
    return bool(_OVERVIEW_CUES & sentence.cues and sentence.names and not sentence.background)


def _names_asked(question: Question, sentence: Sentence) -> bool:
    """The sentence says a name the question asks about."""
    words = vocabulary(sentence.text)
    return any(named_in(words, name) for name in question.asked.names)


def weigh(question: str, idf: Callable[[str], float], context: str = "") -> Question:
    """The question's reading and its terms weighted by rarity (IDF); earlier questions' terms weigh less."""
    wanted = {t: idf(t) for t in terms(kept(question)) - FORM_WORDS}
    wanted.update({t: CONTEXT_WEIGHT * idf(t) for t in terms(context) - FORM_WORDS if t not in wanted})
    if _BEST.search(question):
        wanted.setdefault("best", idf("best"))
    asked = read(question)
    head = frozenset(terms(" ".join(asked.focus[-1:])))
    return Question(asked, wanted, vocabulary(f"{question} {context}"), head, bool(_PROPOSES.search(question)))


def only_named(question: Question, source: Source) -> bool:
    """The question asks nothing of `source` but what its name says ("CorDA summary", "thoughts on CorDA", "eli5 HiP
    attention" of "HiP Attention: ..."): no word beyond the paper's name and frame words, no asked detail or unit.
    It asks what the work is, as "Tell me about CorDA" does, not for the one sentence holding its name."""
    asked = question.asked
    if asked.answer_type != "lookup" or asked.attribute or asked.units or asked.focus or asked.many:
        return False
    own = _title_names(asked, source)
    return bool(own) and not set(question.wanted) - own - terms(title_name(source.title) or "")


def _title_names(asked: Asked, source: Source) -> set[str]:
    """The terms of the question's names that `source`'s title carries ("TÜLU 3"): all its sentences are about them."""
    title = vocabulary(source.title)
    return name_terms(n for n in asked.names if named_in(title, n))


def within(question: Question, source: Source) -> Question:
    """The question as read inside `source`: a name its title carries ("TÜLU 3") no longer counts, since every
    sentence of the paper is about it; the question's other words tell its sentences apart (the lead then holds
    the asked facts more often: dev .770 -> .820, dev2 .656 -> .689, dev3 .712 -> .746, dev4 .593 -> .637)."""
    if question.asked.answer_type == "overview":
        return question
    said = held(source.abstract)
    if question.head and not question.head & said:
        # The paper calls the asked things otherwise ("which roles": "a planner, caller, and summarizer").
        question = replace(question, head=frozenset())
    own = _title_names(question.asked, source)
    rest = {term: weight for term, weight in question.wanted.items() if term not in own}
    if not own or not rest:
        return question
    # Only words the paper has tell its sentences apart; with none ("How big is ChineseWebText 2.0?"), the asked
    # kind of answer (a figure) alone chooses.
    return replace(question, wanted={term: weight for term, weight in rest.items() if term in said})


def rank(question: Question, sources: list[Source], weights: Weights) -> list[Candidate]:
    """Every sentence of `sources` scored for the question, best first; earlier sources win ties."""
    out = []
    for source in sources:
        for sentence in sentences(source.abstract):
            found = features(question, sentence)
            out.append(Candidate(source, sentence, found, found.score(weights)))
    return sorted(out, key=lambda c: c.score, reverse=True)


def features(question: Question, sentence: Sentence) -> Features:
    """The features of `sentence` for `question`."""
    holds = _mass(question, sentence.terms) / question.total
    share = holds if question.wanted else 1.0
    kind = _answer_type(question, sentence)
    unspoken = question.asked.answer_type == "lookup" and not question.asked.attribute and not question.head
    if kind == 1.0 and (question.asked.units or unspoken):
        share = max(share, STATED_FIGURE)  # the asked figure in the asked unit, or the asked things' enumeration
    return Features(
        rare_terms=holds,
        answer_type=kind * share,
        background=sentence.background,
    )


@lru_cache(maxsize=8192)
def sentences(abstract: str) -> tuple[Sentence, ...]:
    """The abstract's sentences with their terms, cues, names and role; cached, so each abstract is read once."""
    texts = [s.strip() for s in split_sentences(abstract) if s.strip()]
    first_own = next((i for i, text in enumerate(texts) if _OWN_WORK.search(text)), 1)
    acronyms = _acronyms(abstract)
    out = []
    for index, text in enumerate(texts):
        preamble = index < first_own
        background = preamble or index == 0 or bool(_BOILERPLATE.search(text))
        cues = frozenset(kind for kind, cue in _CUES.items() if cue.search(text))
        if _FIGURE.search(text):
            cues |= {"figure"}
        words = len(text.split())
        named = frozenset(squash(name) for name in names(text))
        following = texts[index + 1] if index + 1 < len(texts) else ""
        out.append(
            Sentence(
                index,
                text,
                words,
                frozenset(terms(unlinked := LINK.sub(" ", text)) | held(unlinked) | _called(index, texts, cues)),
                float(background),
                preamble,
                cues,
                named,
                words <= ANNOUNCING_WORDS and bool(_ANNOUNCES.search(text)),
                bool(_FIRST_ITEM.search(text)) or bool(_OPENING_ITEM.match(following)),
                bool(_LATER_ITEM.match(text)) or (index > 0 and bool(_OPENING_ITEM.match(text))),
                bool(_ASKS.search(text)),
                index > 0 and bool(_LEANS.match(text)),
                frozenset(_spelled(text, named, acronyms)),
            )
        )
    return tuple(out)


def _acronyms(abstract: str) -> dict[str, set[str]]:
    """The acronyms the abstract spells out, with the kind of thing each names, the last word spelled out ("LLM":
    model, "PN": normal), when the words before the parenthesis begin with its letters."""
    out = {}
    for words, acronym in _SPELLED_OUT.findall(abstract):
        letters = acronym.replace("-", "").lower()
        spelled = words.split()[-len(letters):]
        if len(spelled) == len(letters) and all(w[0].lower() == c for w, c in zip(spelled, letters)):
            out[acronym] = terms(spelled[-1])
    return out


def _spelled(text: str, named: frozenset[str], acronyms: dict[str, set[str]]) -> set[str]:
    """The kinds of thing the acronyms in `text` name, when it also names one (`named`, its names squashed: "a frozen
    LLM, Vicuna"), not when the acronym is all it says ("transforming a chat LLM involves two critical issues")."""
    found = [acronym for acronym in acronyms if re.search(rf"\b{re.escape(acronym)}s?\b", text)]
    own = {squash(acronym) for acronym in found}
    if not any(name.removesuffix("s") not in own for name in named):
        return set()
    return set().union(*(acronyms[acronym] for acronym in found))


def _called(index: int, texts: list[str], cues: frozenset[str]) -> set[str]:
    """What the next sentence calls the things an enumeration lists ("... into a planner, caller, and summarizer."
    then "Each component is implemented by..."): the enumeration holds that word too, so it answers "which
    components"."""
    if "list" not in cues or index + 1 >= len(texts) or not (back := _REFERS_BACK.match(texts[index + 1])):
        return set()
    return terms(back.group(1))


def _mass(question: Question, found: frozenset[str] | set[str]) -> float:
    return sum(weight for term, weight in question.wanted.items() if term in found)


def _answer_type(question: Question, sentence: Sentence) -> float:
    """1 when the sentence carries the asked kind of answer; for a figure, 0.5 when it is not beside the asked unit.

    A "which X" question is answered by a sentence naming an X: the head word of X with a name the question
    does not say ("OLMo"), a naming phrase ("we call", "such as", "except for"), or for "which Xs" an enumeration.
    An enumeration without the head word is not one of Xs: "Which datasets was MedAgents evaluated on?" is answered
    by "our results on nine data sets (MedQA, ...)", not by "a human evaluation ..., as well as ablation studies"
    (lead fact hit dev4 .708 -> .741, dev9 .694 -> .705, dev10 .648 -> .665, dev5 .747 -> .712: "which baselines"
    answered by "one ... model based on Support Vector Machines (SVMs), three ..." no longer leads).
    """
    asked = question.asked
    if asked.attribute:
        # A detail asked by name ("which tokenizer", "what hardware") is answered by the sentence that states it.
        return float(states_attribute(asked.attribute, sentence.text, asked.names))
    if asked.answer_type == "lookup":
        new_names = sentence.names - question.said
        names_something = bool(new_names) or "lookup" in sentence.cues
        # "which roles / which components": several of them, named in one enumeration with the head, answer it.
        plural = bool(asked.focus) and asked.focus[-1].casefold().endswith("s") and "list" in sentence.cues
        if not question.head:  # the paper never says the head word: its own enumeration answers
            # "What fix does X propose?": the sentence bringing a work in by name ("we propose LayerNorm Scaling"),
            # surest when it coins the name ("a novel method we call ... (RLVR)") rather than only says one.
            if question.proposes and names_something and not sentence.background and _BRINGS.search(sentence.text):
                return 1.0 if _DEFINES.search(sentence.text) else 0.75
            return float(plural and not sentence.background)
        if not (plural or names_something) or not question.head & (sentence.terms | sentence.spelled):
            return 0.0
        named = len(new_names) if plural else 0
        return 1.0 - NAMED_ENUMERATION / max(1, named)
    if asked.answer_type == "overview":
        return float(bool(_OVERVIEW_CUES & sentence.cues))
    if asked.answer_type != "quantity":
        return float(asked.answer_type in sentence.cues)
    if "figure" not in sentence.cues:
        return 0.0
    return 1.0 if asked.units and states_value(sentence.text, asked.units) else 0.5


def compose(picked: list[Candidate], heading: str = "") -> Draft:
    """The lead sentence (after `heading`, which names the paper a "which study" question asks for) with the
    sentences leaning on one another around it, then, in a paragraph of their own, the context sentences; each
    sentence followed by its source number."""
    cited = [f"{cand.sentence.text} [{cand.source.n}]" for cand in picked]
    # A lead leaning on the sentence before it ("We present TS-Guessing." then "This approach entails ..."), or
    # followed by one leaning on it, shares its paragraph with that sentence.
    size = 1 + sum(1 for _ in takewhile(lambda pair: _opens_on(*pair), zip(picked, picked[1:])))
    lead = " ".join([heading, *cited[:size]] if heading else cited[:size])
    return Draft("\n\n".join(part for part in (lead, " ".join(cited[size:])) if part), [_citation(c) for c in picked])


def _opens_on(before: Candidate, cand: Candidate) -> bool:
    """`cand` opens on `before`, the sentence right before it in the same abstract."""
    return cand.sentence.leans and cand.source is before.source and cand.sentence.index == before.sentence.index + 1


def compose_list(lines: list[list[Candidate]]) -> Draft:
    """One line for each paper: its name, the sentences of its abstract that show why it is listed, its number."""
    text = [f"- {paper_name(line[0].source.title)}: {' '.join(f'{c.sentence.text} [{c.source.n}]' for c in line)}"
            for line in lines]
    return Draft("\n".join(text), [_citation(c) for line in lines for c in line])


def _citation(cand: Candidate) -> Citation:
    """The citation of one picked sentence: its source's number and the sentence verbatim."""
    source = cand.source
    return Citation(n=source.n, paper_id=source.paper_id, title=source.title, quote=cand.sentence.text, dates=source.dates)


def paper_name(title: str) -> str:
    """What a list calls a paper: the name before its title's colon, else the whole title."""
    short = title_name(title)
    return short if short is not None and len(short.split()) <= 8 else title


@register("extractive")
def _factory(settings: Settings) -> ExtractiveBackend:
    """The offline backend."""
    return ExtractiveBackend(settings)
