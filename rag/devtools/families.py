"""Question families generated from the corpus itself, labelled answer-or-decline, to fit and check the answer decision.

For every paper with a short name (the title before its colon, or an acronym its abstract defines) the
plain forms people type ("What does X do?", "Tell me about X"); the same forms with invented names no
abstract contains and with near-misses one letter off a real name; attribute questions built from the
abstracts' figures (answerable) and the same attribute asked of another paper's model (not stated: decline);
a detail stated by name (license, authors, venue...) asked of every named paper (declined unless its abstract
states it);
list questions from papers sharing a rare phrase; topic questions from a phrase only one paper uses, asked
with that paper in the library and, simulated by leaving it out of the retrieved sources, without it.

Papers are dealt into a fitting part and a held-out part by a hash of their id (no paper in both); the
question forms are dealt the same way, so the held-out part also measures forms the fit never saw.
Everything is regenerated from whatever corpus is loaded, so a synced library is measured too.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import defaultdict
from collections.abc import Iterable

from pydantic import Field

from ..answer.asked import names as name_tokens
from ..answer.asked import squash, states_attribute, states_value, title_name, vocabulary
from ..answer.decision import held, record
from ..text import split_sentences, terms
from ..types import Paper
from .evaluation import EvalQuestion

NATURAL_FORMS = (
    "What does {x} do?", "What is {x}?", "Tell me about {x}.", "What problem does {x} solve?",
    "Summarize the {x} paper.", "How does {x} work?", "What is {x} used for?", "Explain {x}.",
    "Give me an overview of {x}.", "What is the {x} paper about?", "Can you describe {x}?",
    "What did the {x} authors propose?", "What's new in {x}?", "I'd like to know about {x}.",
    "What is the main idea of {x}?", "What is {x} and why does it matter?",
)
"""How people ask about a paper they know by name; every form is one a user typed to an assistant like this."""
ATTRIBUTE_FORMS = (
    "How many {unit} does {x} use?", "How many {unit} was {x} trained on?", "How many {unit} are in {x}?",
    "How many {unit} does {x} have?", "How many {unit} does the {x} paper mention?",
)
DETAIL_FORMS = {
    "license": ("Under what license is {x} released?", "What license does {x} use?"),
    "optimizer": ("Which optimizer was {x} trained with?", "What optimizer does {x} use?"),
    "GPU type": ("Which GPUs was {x} trained on?", "What type of GPUs did {x} use?"),
    "date": ("When was {x} released?", "What year was {x} published?"),
    "hardware": ("What hardware was {x} trained on?",),
    "list of authors": ("Who are the authors of {x}?", "Who wrote {x}?"),
    "affiliated university": ("Which university developed {x}?", "What institution is behind {x}?"),
    "publication venue": ("At which conference was {x} published?", "Which journal published {x}?"),
    "programming language or toolkit": ("What programming language is {x} implemented in?",),
    "base model": ("Which base model is {x} built on?", "What backbone does {x} use?"),
    "tokenizer": ("Which tokenizer does {x} use?", "What tokenizer was {x} trained with?"),
    "learning-rate schedule": ("What learning rate schedule did {x} use?", "What warmup schedule was {x} trained with?"),
    "code or weights release": ("Where can I download {x}?", "What's the GitHub link for {x}?"),
    "funding": ("Who funded the {x} work?",),
    "loss function": ("What loss function does {x} use?",),
    "position encoding": ("What position encoding does {x} use?",),
    "activation function": ("What activation function does {x} use?",),
}
"""How people ask a detail an abstract states by name (`asked.ATTRIBUTES`) of a paper they know by name."""
SCORE_FORMS = ("What {measure} does {x} reach on {bench}?", "What is the {measure} of {x} on {bench}?")
LIST_FORMS = (
    "Which papers study {p}?", "What work addresses {p}?", "Is there work on {p}?", "Which papers discuss {p}?",
    "List the papers about {p}.", "What research is there on {p}?", "Are there papers on {p}?",
)
TOPIC_FORMS = (
    "Which paper is about {p}?", "Which study deals with {p}?", "What does the paper on {p} find?",
    "Which paper uses {p}?", "What has been found about {p}?", "Which work mentions {p}?",
)
UNITS = (
    "tokens", "parameters", "languages", "GPUs", "images", "hours", "samples", "examples", "tasks", "documents",
    "pairs", "words", "layers", "experts", "datasets", "benchmarks", "models", "instructions", "questions",
    "videos", "tables", "articles", "domains", "steps", "conversations",
)
"""Counted things an abstract states a figure of ("1.2 trillion tokens")."""
MEASURES = ("accuracy", "score")
_SYLLABLES = (
    "ka", "lo", "mi", "ra", "ze", "vo", "tu", "ni", "pe", "qua", "bri", "dor", "fen", "gal", "hux", "jin", "kor",
    "lum", "mor", "nex", "pra", "quo", "ril", "sab", "tor", "vel", "wyn", "xan", "yor", "zel",
)
_SUFFIXES = ("", "", "", "-LM", "-7B", "GPT", "-Chat", "Net", "-2", "Former", "-XL", "Bench")
_LINKING = frozenset(
    "through without towards toward via across enable enables enabling beyond within between among from into over "
    "under upon while than then only also more less even still thus hence whether across along versus".split()
)
"""Words that join phrases rather than name a topic ("compression through"): never part of a topic phrase."""
_ACRONYM = re.compile(r"\(([A-Z][A-Za-z0-9\-+]*[A-Z0-9][A-Za-z0-9\-+]*)\)")


class Generated(EvalQuestion):
    """One generated question: its family (the `type`), its form, the papers it is about and its part."""

    form: str = ""
    papers: list[str] = Field(default_factory=list)
    part: str = "fit"
    """'fit' or 'held-out' by its papers ('mixed' when a list question has papers in both: used in neither)."""
    form_seen: bool = True
    """False for the forms kept out of the fit, so the held-out part also measures forms never fitted on."""
    leave_out: list[str] = Field(default_factory=list)
    """Paper ids to drop from the retrieved sources: the library is simulated without them."""
    unsure: list[str] = Field(default_factory=list)
    """Paper ids that neither count for nor against a list answer (they use the phrase, their title does not)."""


def part_of(key: str) -> str:
    """'fit' or 'held-out', by a stable hash: about a third of papers (and of forms) are held out."""
    return "held-out" if int(hashlib.sha256(key.encode()).hexdigest(), 16) % 3 == 0 else "fit"


def short_name(paper: Paper, users: dict[str, int]) -> str | None:
    """The name a user calls the paper by: the title before its colon when it is one token or recurs in the
    abstract, else an acronym the abstract defines in parentheses, that the title also uses as a word and at
    most one other paper mentions (`users`: papers mentioning each squashed word)."""
    head = title_name(paper.title)
    if head is not None and 0 < len(head.split()) <= 3:
        if len(head.split()) == 1 or head.casefold() in paper.abstract.casefold():
            return head
    title = vocabulary(paper.title)
    for acronym in _ACRONYM.findall(paper.abstract):
        if squash(acronym) in title and users.get(squash(acronym), 0) <= 2:
            return acronym
    return None


def invented(rng: random.Random, known: frozenset[str], count: int) -> list[str]:
    """Names no abstract contains: pseudo-words of two or three syllables, some with a model-like suffix."""
    out: set[str] = set()
    while len(out) < count:
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((2, 3)))).capitalize()
        name = word + rng.choice(_SUFFIXES)
        if not any(part in known for part in vocabulary(name)):
            out.add(name)
    return sorted(out)


def near_misses(name: str, known: frozenset[str], rng: random.Random) -> list[str]:
    """Spellings one letter off `name` (a letter changed, dropped or doubled) that no abstract contains."""
    letters = [i for i, c in enumerate(name) if c.isalpha()]
    out = []
    for index in rng.sample(letters, min(3, len(letters))):
        char = name[index]
        swap = rng.choice([c for c in "aeioulnrst" if c != char.lower()])
        swap = swap.upper() if char.isupper() else swap
        for variant in (name[:index] + swap + name[index + 1 :], name[:index] + name[index + 1 :]):
            if len(squash(variant)) >= 4 and squash(variant) not in known and variant != name:
                out.append(variant)
                break
    return out


def _figure_units(abstract: str) -> set[str]:
    """The `UNITS` an abstract states a figure of, within a few words."""
    return {unit for unit in UNITS for sentence in split_sentences(abstract) if states_value(sentence, (unit,), 2)}


def _bigrams(text: str) -> set[str]:
    """Pairs of adjacent words of `text` that are both content words of letters, lower-cased."""
    words = [w.casefold().strip(".,;:()\"'?!") for w in text.split()]
    return {
        f"{a} {b}"
        for a, b in zip(words, words[1:])
        if len(a) > 2 and len(b) > 3 and a.replace("-", "").isalpha() and b.replace("-", "").isalpha()
        and terms(a) and terms(b) and not {a, b} & _LINKING
    }


def _topics_of(papers: list[Paper]) -> dict[str, tuple[list[Paper], list[Paper]]]:
    """Topic phrases (word pairs of titles: titles name what papers are about) with the papers whose title holds
    each, and those whose abstract alone does."""
    titled: dict[str, list[Paper]] = defaultdict(list)
    for paper in papers:
        for phrase in _bigrams(paper.title):
            titled[phrase].append(paper)
    used: dict[str, list[Paper]] = defaultdict(list)
    for paper in papers:
        for phrase in _bigrams(paper.abstract) & titled.keys():
            used[phrase].append(paper)
    return {
        phrase: (group, [p for p in used[phrase] if p not in group]) for phrase, group in titled.items()
    }


def generate(papers: list[Paper], seed: int = 7) -> list[Generated]:
    """Every family for `papers` (the loaded corpus), labelled and dealt into parts."""
    users: dict[str, int] = defaultdict(int)
    for paper in papers:
        for word in vocabulary(f"{paper.title} {paper.abstract}"):
            users[word] += 1
    known = frozenset(users)
    named = {p.paper_id: n for p in papers if (n := short_name(p, users))}
    by_id = {p.paper_id: p for p in papers}
    out: list[Generated] = []
    # Each family draws from its own stream: a change to one family leaves the others' questions as they were.
    out += _natural(named, by_id, known, random.Random(f"{seed}:natural"))
    out += _attributes(named, by_id, random.Random(f"{seed}:attributes"))
    out += _lists(_topics_of(papers), random.Random(f"{seed}:lists"))
    out += _topics(papers, random.Random(f"{seed}:topics"))
    out += _details(named, by_id, random.Random(f"{seed}:details"))
    for number, item in enumerate(out, start=1):
        item.id = f"gen-{number:04d}"
    return out


def _item(kind: str, form: str, question: str, gold: Iterable[Paper], **extra: object) -> Generated:
    gold = list(gold)
    keys = [p.paper_id for p in gold] or [str(extra.get("key", question))]
    parts = {part_of(k) for k in keys}
    return Generated(
        id="",
        type=kind,
        question=question,
        gold_titles=[p.title for p in gold],
        must_contain=extra.get("facts", []),  # type: ignore[arg-type]
        form=form,
        form_seen=part_of(form) == "fit",
        papers=[p.paper_id for p in gold],
        part=parts.pop() if len(parts) == 1 else "mixed",
        leave_out=extra.get("leave_out", []),  # type: ignore[arg-type]
        unsure=extra.get("unsure", []),  # type: ignore[arg-type]
    )


def _natural(named: dict[str, str], by_id: dict[str, Paper], known: frozenset[str], rng: random.Random) -> list[Generated]:
    """Plain forms about named papers (answer), invented names and near-misses (decline)."""
    out = []
    fakes = iter(invented(rng, known, 4 * len(named)))
    for paper_id, name in named.items():
        paper = by_id[paper_id]
        for form in rng.sample(NATURAL_FORMS, 3):
            out.append(_item("natural", form, form.format(x=name), [paper]))
        for form in rng.sample(NATURAL_FORMS, 2):
            fake = next(fakes)
            out.append(_item("invented", form, form.format(x=fake), [], key=paper_id))
        if len(squash(name)) >= 5 and name_tokens(name):
            for miss in near_misses(name, known, rng)[:1]:
                form = rng.choice(NATURAL_FORMS)
                out.append(_item("near-miss", form, form.format(x=miss), [], key=paper_id))
    return out


def _attributes(named: dict[str, str], by_id: dict[str, Paper], rng: random.Random) -> list[Generated]:
    """A counted attribute of a named paper its abstract states (answer), and the same of one that does not."""
    out = []
    ids = sorted(named)
    stated = {paper_id: _figure_units(by_id[paper_id].abstract) for paper_id in ids}
    for paper_id in ids:
        for unit in sorted(stated[paper_id]):
            form = rng.choice(ATTRIBUTE_FORMS)
            out.append(_item("attribute", form, form.format(unit=unit, x=named[paper_id]), [by_id[paper_id]]))
            other = rng.choice(ids)
            text = by_id[other].abstract.casefold()
            if unit not in stated[other] and unit.casefold() not in text:
                form = rng.choice(ATTRIBUTE_FORMS)
                out.append(_item("unstated", form, form.format(unit=unit, x=named[other]), [], key=other))
    benches = sorted({t for p in by_id.values() for t in name_tokens(p.abstract) if re.fullmatch(r"[A-Z][\w\-]+", t)})
    for paper_id in rng.sample(ids, min(len(ids), 60)):
        text = vocabulary(f"{by_id[paper_id].title} {by_id[paper_id].abstract}")
        bench = rng.choice([b for b in benches if squash(b) not in text])
        form = rng.choice(SCORE_FORMS)
        question = form.format(measure=rng.choice(MEASURES), x=named[paper_id], bench=bench)
        out.append(_item("unstated", form, question, [], key=paper_id))
    return out


def _details(named: dict[str, str], by_id: dict[str, Paper], rng: random.Random) -> list[Generated]:
    """A detail asked by name of a named paper: answerable when its abstract states it, else unstated."""
    out = []
    for paper_id in sorted(named):
        detail = rng.choice(sorted(DETAIL_FORMS))
        form = rng.choice(DETAIL_FORMS[detail])
        paper = by_id[paper_id]
        question = form.format(x=named[paper_id])
        if states_attribute(detail, record(paper), [named[paper_id]]):  # what the decision reads: a synced record states its authors
            out.append(_item("attribute", form, question, [paper]))
        else:
            out.append(_item("unstated", form, question, [], key=paper_id))
    return out


def _lists(holders: dict[str, tuple[list[Paper], list[Paper]]], rng: random.Random) -> list[Generated]:
    """Papers whose titles share a phrase that two to five titles use: a list question with those papers as gold
    (papers whose abstract alone uses the phrase are left unjudged)."""
    shared = sorted(phrase for phrase, (group, _) in holders.items() if 2 <= len(group) <= 5)
    out = []
    for phrase in rng.sample(shared, min(len(shared), 400)):
        form = rng.choice(LIST_FORMS)
        group, others = holders[phrase]
        out.append(_item("multi", form, form.format(p=phrase), group, unsure=[p.paper_id for p in others]))
    return out


def _topics(papers: list[Paper], rng: random.Random) -> list[Generated]:
    """A topic word of one paper's title that no other paper uses: asked about with the paper in the library
    (answer) and with the paper left out (decline: then no indexed abstract holds the word, as with a topic the
    library never covered)."""
    users: dict[str, set[str]] = defaultdict(set)
    for paper in papers:
        for term in held(f"{paper.title} {paper.abstract}"):
            users[term].add(paper.paper_id)
    out = []
    for paper in papers:
        description = paper.title.partition(":")[2] or paper.title
        words = sorted(
            w.casefold() for w in re.findall(r"[A-Za-z]{6,}", description)
            if len(terms(w)) == 1 and len(users.get(next(iter(terms(w))), set())) == 1
        )
        if words:
            word = rng.choice(words)
            form = rng.choice(TOPIC_FORMS)
            out.append(_item("topic", form, form.format(p=word), [paper]))
            form = rng.choice(TOPIC_FORMS)
            out.append(_item("absent", form, form.format(p=word), [], key=paper.paper_id, leave_out=[paper.paper_id]))
    return out
