"""The answer decision as a user meets it: plain questions about held papers are answered from that paper, names the
library does not hold are declined with the reason, list questions name each paper on its own line, a date filter
that leaves out the answering paper says so; and the decision's weights are the ones its calibration chooses."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import rag
from rag.answer.asked import squash, vocabulary
from rag.answer.spelling import respelled
from rag.devtools.evaluation import EvalQuestion, format_summary, summarise
from rag.devtools.families import generate, part_of

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("question", "name"),
    [("What is GSM8K?", "GSM8K"), ("Explain ImageNet", "ImageNet"), ("Tell me about CIDEr.", "CIDEr")],
)
def test_an_overview_of_a_name_the_paper_only_uses_leads_with_the_sentence_naming_it(
    seeded: rag.Settings, question: str, name: str
) -> None:
    # No paper is about GSM8K: the answer says where the paper it comes from uses it, not what that paper is about.
    answer = rag.ask(question, settings=seeded)
    assert not answer.abstained, answer.reason
    assert name in answer.text.split("\n\n")[0], answer.text


@pytest.mark.parametrize(
    ("question", "written"),
    [
        ("Which papers use GPT-2?", r"\bGPT-?2\b(?![.\d])"),  # not GPT-3's or GPT-4's papers, nor a "GPT model"
        ("Which papers fine-tune Llama-2?", r"\bLlama[ -]?2"),
        ("Which papers report results for XLM-R?", r"\bXLM-R(?:oBERTa)?\b"),  # its full name says it too
    ],
)
def test_a_list_asking_for_a_name_lists_the_papers_that_write_it(seeded: rag.Settings, question: str, written: str) -> None:
    answer = rag.ask(question, settings=seeded)
    papers = [rag.paper(paper_id, settings=seeded) for paper_id in {c.paper_id for c in answer.citations}]
    assert len(papers) >= 3, answer.text
    assert all(re.search(written, f"{paper.title} {paper.abstract}", re.I) for paper in papers), answer.text


@pytest.mark.parametrize(
    ("question", "title"),
    [
        ("What does Dolma do?", "Dolma"),
        ("Tell me about Liger.", "Liger"),
        ("What problem does CorDA solve?", "CorDA"),
        ("Summarize the Bailong paper.", "Bailong"),
        ("Give me an overview of Holmes.", "Holmes"),
        ("How does LoLCATs work?", "LoLCATs"),
        ("Why does Liger matter?", "Liger"),
        ("What makes CorDA different?", "CorDA"),
        ("expalin CorDA", "CorDA"),  # a typo in how it asks
        ("Hwo does LoLCATs work?", "LoLCATs"),
        ("Liger: what is it, in plain words?", "Liger"),  # a name opening the question
        ("Tell me about SeaLLMs 3", "SeaLLMs 3"),  # a name with its version
        ("What is Yi-34B?", "Yi"),  # "the Yi model family ... 6B and 34B" says it
        ("what's the deal with Liger?", "Liger"),  # chat forms of "tell me about"
        ("CorDA in a nutshell", "CorDA"),
        ("walk me through LoLCATs", "LoLCATs"),
        ("Bailong explained", "Bailong"),
        ("remind me what TOP-Training is", "TOP-Training"),  # no frame word is a topic the library lacks
        ("TOP-Training - key takeaways?", "TOP-Training"),
        ("CorDA summary", "CorDA"),  # nothing asked but the name: what the work is, not one sentence holding it
        ("thoughts on Liger", "Liger"),
        ("intro to Bailong", "Bailong"),
        ("eli5 HiP attention", "HiP Attention"),  # the words of its title's name
        ("how does holmes work", "Holmes"),  # a name typed in lower case, though an English word: nothing else asked
        ("tell me about ling-lite", "Every FLOP Counts"),  # a variant typed in lower case that the library holds
        ("What is Weaver Ultra?", "Weaver"),  # a variant written apart that the library holds
        ("what does capsfusion do", "CapsFusion"),
        ("whats zhongjing", "Zhongjing"),
    ],
)
def test_a_plain_question_about_a_held_paper_is_answered_from_it(seeded: rag.Settings, question: str, title: str) -> None:
    answer = rag.ask(question, settings=seeded)
    assert not answer.abstained, answer.reason
    assert answer.citations[0].title.startswith(f"{title}:")
    # Headed by the title, or by the name alone when the first sentence says the whole title.
    assert answer.text.startswith((f"{answer.citations[0].title} [1]: ", f"{title} [1]: "))
    assert re.search(r"\b(?:we|our|this (?:paper|work))\b", answer.citations[0].quote, re.I), "it leads with what the work does"


def test_a_versioned_name_is_answered_by_a_paper_saying_it_not_one_with_its_stem_and_number_apart(
    seeded: rag.Settings,
) -> None:
    answer = rag.ask("What is GPT-2?", settings=seeded)  # no paper is GPT-2's; "ChiMed-GPT" and a "2" are not it
    assert not answer.abstained, answer.reason
    assert "GPT-2" in answer.citations[0].quote


def test_the_paper_whose_short_name_is_asked_answers_before_a_better_ranked_one_that_says_more(seeded: rag.Settings) -> None:
    for question in ("Could you explain what Chinesewebtext is?", "tell me about chinesewebtext"):  # or in lower case
        answer = rag.ask(question, settings=seeded)
        assert answer.sources[0].title.startswith("ChineseWebText 2.0:")  # retrieval ranks the sequel first
        assert answer.citations[0].title.startswith("Chinesewebtext:")


@pytest.mark.parametrize(("question", "name"), [("What's Mix-LN?", "Mix-LN"), ("What does DataMan do?", "DataMan")])
def test_an_overview_leads_with_the_sentence_that_brings_the_work_in(seeded: rag.Settings, question: str, name: str) -> None:
    # Not the motivation before it ("While some view this as ..., we identify it as a training shortfall").
    answer = rag.ask(question, settings=seeded)
    assert name in answer.citations[0].quote


@pytest.mark.parametrize(
    ("question", "name"),
    [
        ("Is Dolma-based data any good?", "Dolma"),
        ("Which tasks were Liger-powered models evaluated on?", "Liger"),
        ("Can I LoRA-finetune a 7B model on one GPU?", "LoRA"),
    ],
)
def test_a_name_joined_to_an_ordinary_word_is_the_name(seeded: rag.Settings, question: str, name: str) -> None:
    # "Dolma-based" was a name no abstract mentions, and the question was declined for it.
    from rag.answer.asked import read

    assert name in read(question).names and not any(n.startswith(f"{name}-") for n in read(question).names)
    answer = rag.ask(question, settings=seeded)
    assert not (answer.reason or "").startswith("No indexed abstract mentions"), answer.reason


@pytest.mark.parametrize(
    ("question", "names"),
    [
        ("Fira, what is it?", ("Fira",)),
        ("Bailong?", ("Bailong",)),
        ("Quantization methods for LLMs?", ("LLMs",)),  # a topic opening a question is no name
        ("Benchmarks for code generation?", ()),
    ],
)
def test_a_first_word_is_a_name_only_when_it_stands_alone_and_is_no_english_word(question: str, names: tuple) -> None:
    from rag.answer.asked import read

    assert read(question).names == names


@pytest.mark.parametrize(
    ("question", "title"),
    [
        ("Can a chatbot that learns to flatter people end up learning to hack its own reward?", "Sycophancy to Subterfuge"),
        ("Could a model trained to flatter users end up hacking its own reward signal?", "Sycophancy to Subterfuge"),
        ("i keep hearing about Beyond Efficiency, what is it", "Beyond Efficiency"),  # "hearing" is how it asks
    ],
)
def test_a_question_in_everyday_words_no_abstract_uses_is_answered(seeded: rag.Settings, question: str, title: str) -> None:
    # "flatter" and "hack" are in no abstract, yet they are the question's wording, not a topic the library lacks.
    answer = rag.ask(question, settings=seeded)
    assert not answer.abstained, answer.reason
    assert answer.citations[0].title.startswith(title)


def test_words_the_search_index_never_holds_do_not_weigh_as_the_rarest() -> None:
    # bm25s keeps runs of two or more letters or digits that are not stop words: "7B" is "7" and "b" here, "no" a stop
    # word; weighed at the rarity of a word no abstract has, they read as a topic the library lacks.
    from rag.answer.decision import weights_of

    assert set(weights_of("Was Heron-7B trained with no curriculum on 2.0 versions?", lambda term: 1.0)) == {
        "heron", "curriculum", "version", "train"
    }


@pytest.mark.parametrize(
    "question",
    [
        "why doesn't fine-tuning overfit?",
        "why doesn\u2019t fine-tuning overfit?",
        "why doesnt fine-tuning overfit?",
        "why does fine-tuning not overfit?",
        "why does fine-tuning stuff not kinda overfit anyway?",
    ],
)
def test_a_negation_or_a_filler_weighs_nothing_however_it_is_typed(question: str) -> None:
    # "doesn" (of "doesn't") is in a few abstracts, "doesnt" and "anyway" in none: weighed as words of the topic, they
    # lowered the question's coverage ("why doesn't fine-tuning on a few hundred examples overfit?" was declined).
    from rag.answer.decision import weights_of

    assert set(weights_of(question, lambda term: 1.0)) == {"fine", "tune", "overfit"}


def test_programming_languages_an_abstract_names_answer_which_ones(seeded: rag.Settings) -> None:
    answer = rag.ask("Which programming languages does the No Silver Bullet code generation paper study?", settings=seeded)
    assert not answer.abstained, answer.reason
    assert "Racket" in answer.text


def test_a_figure_of_the_asked_phase_answers_it(seeded: rag.Settings) -> None:
    # GLM-130B's abstract states the GPUs it runs inference on, not those it was trained on.
    answer = rag.ask("How many GPUs does GLM-130B need for inference?", settings=seeded)
    assert not answer.abstained, answer.reason
    assert "RTX 3090" in answer.text


def test_a_name_only_the_abstract_introduces_is_answered_from_that_paper(seeded: rag.Settings) -> None:
    answer = rag.ask("tell me about 2DMSE", settings=seeded)  # "(2DMSE)" in its abstract, not in its title
    assert not answer.abstained, answer.reason
    assert answer.citations[0].title == "2D Matryoshka Sentence Embeddings"


def test_a_detail_the_abstract_states_is_answered_and_a_synced_record_states_its_authors(seeded: rag.Settings) -> None:
    from rag.answer.decision import decide
    from rag.types import Source

    assert not rag.ask("At which workshop did Vega-MT compete?", settings=seeded).abstained  # "WMT22 shared task"
    paper = dict(paper_id="p", title="Kestrel: A Small Model", abstract="We present Kestrel, a small model.", n=1,
                 score=1.0, dense_score=0.8)
    question = "Who are the authors of Kestrel?"
    assert decide(question, [Source(**paper)], lambda term: 5.0).reason
    assert decide(question, [Source(**paper, authors=["A. Author", "B. Author"])], lambda term: 5.0).reason is None


def test_a_follow_up_is_about_the_paper_the_earlier_question_named(seeded: rag.Settings) -> None:
    earlier = [{"question": "What is CMT?", "answer": ""}]
    answer = rag.ask("What are its main results?", history=earlier, settings=seeded)
    assert not answer.abstained, answer.reason  # was "No indexed abstract mentions CMT.": CMT was never searched for
    assert answer.citations[0].title.startswith("CMT:")
    authors = rag.ask("Who are its authors?", history=earlier, settings=seeded)
    assert authors.abstained and "a list of authors" in (authors.reason or "")
    sizes = rag.ask("what sizes does it come in?", history=[{"question": "Tell me about Tower+", "answer": ""}], settings=seeded)
    assert not sizes.abstained, sizes.reason  # "Tower+" is a name though its "+" is not a letter
    assert sizes.citations[0].title.startswith("Tower+:")


@pytest.mark.parametrize(
    ("earlier", "question", "figure"),
    [
        ("What is BiomedCLIP?", "How big was the dataset they trained it on?", "15 million"),
    ],
)
def test_a_follow_up_asking_a_figure_leads_with_the_sentence_that_states_it(
    seeded: rag.Settings, earlier: str, question: str, figure: str
) -> None:
    answer = rag.ask(question, history=[{"question": earlier, "answer": ""}], settings=seeded)
    assert figure in answer.text.split("\n\n")[0]


@pytest.mark.parametrize(
    ("question", "title"),
    [
        # Retrieval ranks "Bigram Subnetworks" first (next-token prediction); the logic-puzzle paper holds sudoku.
        ("Could a transformer learn to solve sudoku from next-token prediction alone?", "Causal Language Modeling"),
        # "API" is an English word used as a name: the third paper, which says it, is not the one meant.
        ("With only API access to a model, can I find out whether a given document was used in its pretraining?",
         "Pretraining Data Detection"),
        ("what is tulu 3", "TÜLU 3"),  # the name typed without its accents
    ],
)
def test_the_answer_comes_from_the_paper_the_question_means(seeded: rag.Settings, question: str, title: str) -> None:
    answer = rag.ask(question, settings=seeded)
    assert not answer.abstained, answer.reason
    assert answer.citations[0].title.startswith(title)


def test_which_things_leads_with_the_sentence_naming_them_even_when_written_apart(seeded: rag.Settings) -> None:
    """The question writes "datasets", the abstract "nine data sets (MedQA, MedMCQA, PubMedQA, ...)"."""
    answer = rag.ask("Which datasets was MedAgents evaluated on?", settings=seeded)
    lead = answer.text.split("\n\n")[0]
    assert all(name in lead for name in ("MedQA", "MedMCQA", "PubMedQA")), answer.text


def test_words_a_sentence_hyphenates_are_its_words(seeded: rag.Settings) -> None:
    """The question says "state of the art", the abstract "outperforms the state-of-the-art training system"."""
    answer = rag.ask("How much faster than the state of the art is ByteScale?", settings=seeded)
    assert "7.89x" in answer.text.split("\n\n")[0]


@pytest.mark.parametrize(
    ("question", "names"),
    [
        # Another sentence names DefSent and says "models"; the answer is the one listing the models it trains.
        ("which models does DefSent+ further train?", "SIMCSE, SNCSE, and SynCSE"),
        # "we extend ... the FuseLLM framework to realize the fusion of chat LLMs, resulting in FuseChat" names one.
        ("Which chat models does FuseChat combine?", "NH2-Mixtral-8x7B, NH2-Solar-10.7B, and OpenChat-3.5-7B"),
    ],
)
def test_which_things_leads_with_the_sentence_enumerating_them_by_name(
    seeded: rag.Settings, question: str, names: str
) -> None:
    answer = rag.ask(question, settings=seeded)
    assert names in answer.text.split("\n\n")[0]


def test_compute_is_answered_in_gpu_hours_and_declined_where_none_is_stated(seeded: rag.Settings) -> None:
    answer = rag.ask("How much compute did it take to pretrain Open-Qwen2VL?", settings=seeded)
    assert "442 A100-40G GPU hours" in answer.text
    # GLM-130B's abstract counts the GPUs it runs inference on, not what training took.
    assert rag.ask("How much compute did GLM-130B take?", settings=seeded).reason.startswith("No indexed abstract states")


def test_a_misspelled_measure_is_read_as_the_abstracts_spell_it(seeded: rag.Settings) -> None:
    answer = rag.ask("how many languges does CulturaX cover", settings=seeded)
    assert not answer.abstained, answer.reason
    assert "167 languages" in answer.text
    assert rag.ask("How many zorbles does Dolma have?", settings=seeded).abstained  # no word near it: not stated


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("How many tokens was Kookaburra pretrained on?", "No indexed abstract mentions Kookaburra."),
        ("What accuracy does Quokka reach on GSM8K?", "No indexed abstract mentions Quokka."),
        ("Tell me about Zorvikformer.", "No indexed abstract mentions Zorvikformer."),
        ("What does Dolmo do?", "No indexed abstract mentions Dolmo. Did you mean Dolma?"),
        ("How many expert annotators labeled the T2Ranking relevance scores?", "No indexed abstract states annotators"),
        ("What license is Dolma released under?", "No indexed abstract states a license"),
        ("Which optimizer was OLMo trained with?", "No indexed abstract states an optimizer"),
        ("In what year was Liger released?", "No indexed abstract states a date"),
        ("How does Depth Anything work?", "No indexed abstract mentions Anything."),
        ("Which GPUs was HLLM trained on?", "No indexed abstract states a GPU type"),
        ("What does Liger score on MMLU?", "No indexed abstract states MMLU"),
        ("What is HLLM's MMLU score?", "No indexed abstract states MMLU"),
        ("what is zorbleformer", "No indexed abstract mentions zorbleformer."),  # a name typed in lower case
        ("what is dolma-xl?", "No indexed abstract mentions dolma-xl."),  # a held name's variant the library lacks
        ("tell me about liger-pro", "No indexed abstract mentions liger-pro."),
        ("What is LoLCATs-Large?", "No indexed abstract mentions LoLCATs-Large."),  # its title: "... of Large Language"
        ("What is the context length of HLLM?", "No indexed abstract states context"),  # a measure, not an overview
        ("Which paper proposes a watermarking scheme for LLM-generated text?", "No indexed abstract mentions watermarking."),
        ("Who are the authors of LongBench?", "No indexed abstract states a list of authors"),
        ("Which university developed GeoLLM?", "No indexed abstract states an affiliated university"),
        ("At which conference was BLADE published?", "No indexed abstract states a publication venue"),
        ("What programming language is Fira implemented in?", "No indexed abstract states a programming language"),
        ("How long did it take to train bert2BERT?", "No indexed abstract states duration"),
        ("Which papers teach language models to play chess?", "No indexed abstract mentions chess."),  # plain English
        ("How much does Liger reduce perplexity?", "No indexed abstract states perplexity"),  # a change in a measure
        ("Tell me about SeaLLMs 4", "No indexed abstract mentions SeaLLMs 4. Did you mean SeaLLMs 3?"),  # one digit off
        ("Tell me about GEB-13B", "No indexed abstract mentions GEB-13B. Did you mean GEB-1.3B?"),  # "1.3" is no "13"
        ("What is GLM-260B?", "No indexed abstract mentions GLM-260B."),  # "GLM-130B" and "ERNIE 3.0 260B" are not it
        ("Which paper collected 105 GB of Dutch text?", "No indexed abstract mentions 105GB. Did you mean 104GB?"),
        ("How much money did it take to train Llama 4?", "No indexed abstract mentions Llama 4."),
        ("What is Ling-Max?", "No indexed abstract mentions Ling-Max."),  # "enabling ... max new tokens" does not
        ("What's the deal with GPT-7?", "No indexed abstract mentions GPT-7."),  # "GPT ... 7% over" does not
        ("What is Bailing-3 for?", "No indexed abstract mentions Bailing-3."),  # "Bailing" and a "3" sentences apart
        ("What is Lumos-2?", "No indexed abstract mentions Lumos-2. Did you mean Lumos?"),  # its "(2)" is no version
        ("How good is LoLCATs-5?", "No indexed abstract mentions LoLCATs-5. Did you mean LoLCATs?"),  # "5-shot" neither
        ("Which company developed the Weaver models?", "No indexed abstract states a developing company"),
        ("How many authors wrote the LongBench paper?", "No indexed abstract states a list of authors"),
        ("Which toolkit was Vega-MT implemented in?", "No indexed abstract states a programming language or toolkit"),
        ("Which base model is SwitchGPT built on?", "No indexed abstract states a base model"),  # names only itself
        ("Which open-source base model was SNFinLLM trained from?", "No indexed abstract states a base model"),  # a link
        ("What model was OpenMoE initialized from?", "No indexed abstract states a base model"),  # asked at the end
        ("How many GPUs were used to pretrain GLM-130B?", "No indexed abstract states GPUs"),  # its GPUs run inference
        ("Which programming languages does CodeT5+ support?", "No indexed abstract states a programming language"),
        ("what does croq pretraining add for multimodal models", "No indexed abstract mentions croq. Did you mean Croc?"),
        ("tell me about ligerr", "No indexed abstract mentions ligerr. Did you mean Liger?"),  # typed in lower case
        ("Is Weaver Max better than GPT-4 at fiction?", "No indexed abstract mentions Weaver Max."),  # Mini...Ultra
    ],
)
def test_a_name_or_attribute_the_library_does_not_hold_is_declined_with_the_reason(
    seeded: rag.Settings, question: str, reason: str
) -> None:
    answer = rag.ask(question, settings=seeded)
    assert answer.abstained
    assert answer.text == rag.ABSTAIN
    assert answer.reason.startswith(reason)
    assert answer.citations == []


@pytest.mark.parametrize(
    "question",
    [
        "I want to LoRA-finetune a 70B model on one GPU with 20GB of memory. Is there a way?",  # the abstract: "20G HBM"
        "Can I train LoRA for a 70B model on a single 20 GB GPU?",  # "GB" is the figure's unit, not a name
    ],
)
def test_a_figure_the_abstract_writes_with_a_shorter_unit_is_no_unknown_name(seeded: rag.Settings, question: str) -> None:
    answer = rag.ask(question, settings=seeded)
    assert not answer.abstained, answer.reason
    assert "LoRAM" in answer.text


@pytest.mark.parametrize(
    ("question", "attribute"),
    [
        ("Under what license is ChineseWebText 2.0 released?", "license"),
        ("When did Llama 2 come out?", "date"),
        ("When did multi-epoch training start to degrade?", None),
        ("What type of GPUs was ByteScale evaluated on?", "GPU type"),
        ("What hardware was it trained on?", "hardware"),
        ("Which tokenizer does RedWhale use?", "tokenizer"),
        ("How does tokenization affect Korean models?", None),
        ("What warmup schedule was FineWeb2 trained with?", "learning-rate schedule"),
        ("Where can I download Yi?", "code or weights release"),
        ("how do we get the safety back after fine-tuning?", None),
        ("Who funded the RedWhale work?", "funding"),
        ("What loss function does OFA use?", "loss function"),
        ("What loss of accuracy does pruning cause?", None),
        ("Which activation patterns do LLMs show?", None),
    ],
)
def test_a_detail_is_read_as_asked_only_when_the_question_names_it(question: str, attribute: str | None) -> None:
    from rag.answer.asked import read

    assert read(question).attribute == attribute


def test_a_detail_asked_by_name_no_abstract_states_is_declined_and_a_stated_one_leads(seeded: rag.Settings) -> None:
    for question in (
        "What tokenizer does InfLLM use?", "What learning rate schedule did FineWeb2 use?", "Who funded the RedWhale work?",
        "What position encoding does Liger use?", "What activation function does INSTRUCTEVAL use?",
        "What's the GitHub link for SPDF?", "Is SAILER open source?",  # "publicly available legal benchmarks" is no release
    ):
        answer = rag.ask(question, settings=seeded)
        assert answer.abstained and answer.reason, answer.text
    answer = rag.ask("Which tokenizer does RedWhale use?", settings=seeded)
    assert not answer.abstained
    assert "a specialized tokenizer" in answer.text.split("\n")[0]  # the lead states it, not "9.7 billion tokens"


def test_a_base_model_is_read_where_the_abstract_names_one(seeded: rag.Settings) -> None:
    answer = rag.ask("What base model is Bailong built on?", settings=seeded)
    assert not answer.abstained, answer.reason
    assert "Llama 2" in answer.text


def test_a_year_states_a_date_and_a_count_of_processors_does_not() -> None:
    from rag.answer.asked import states_attribute

    assert states_attribute("date", "The model was released in 2023.")
    assert not states_attribute("date", "It was trained on 2048 Ascend processors.")


def test_a_count_of_tokens_is_not_a_count_of_parameters(seeded: rag.Settings) -> None:
    from rag.answer.asked import states_value

    assert not states_value("on 104GB of Dutch text (32B tokens)", ("parameters",))
    assert states_value("a 7B model trained on 2T tokens", ("parameters",))
    answer = rag.ask("How many parameters does ChocoLlama-2 have?", settings=seeded)
    assert answer.abstained and "parameters" in (answer.reason or "")  # its abstract counts only tokens and bytes


def test_another_models_size_or_a_data_sets_does_not_state_the_asked_models(seeded: rag.Settings) -> None:
    from rag.answer.asked import states_value

    assert not states_value("rivaling open models (e.g., Llama 3-V 405B and InternVL 2)", ("parameters",), names=("NVLM",))
    assert states_value("Mistral 7B beats Llama 2 13B.", ("parameters",), names=("Mistral",))
    assert states_value("we train our 7B model", ("parameters",), names=("NVLM",))
    assert not states_value("This reduces the dataset size to just 15M for pretraining", ("parameters",))
    for question in ("How big is NVLM 1.0 in parameters?", "How many parameters does the ILLUME model have?"):
        answer = rag.ask(question, settings=seeded)
        assert answer.abstained and "parameters" in (answer.reason or ""), answer.text


def test_a_percentage_written_in_latex_is_a_percentage(seeded: rag.Settings) -> None:
    answer = rag.ask("What accuracy does the top model get on NormAd?", settings=seeded)
    assert not answer.abstained, answer.reason
    assert "81.8" in answer.text


def test_a_detail_the_abstract_states_by_name_is_answered(seeded: rag.Settings) -> None:
    answer = rag.ask("What hardware was TechGPT-2.0 trained on?", settings=seeded)
    assert not answer.abstained, answer.reason
    assert "Ascend" in answer.text


@pytest.mark.parametrize(
    ("question", "figure"),
    [
        ("How much can SLTrain cut memory?", "reduce memory requirements by up to 73%"),  # a change in a measure
        ("How much data was OpenMoE trained on?", "1T tokens"),  # data: a count of tokens
        ("How much money did it take to train FLM-101B?", "100K budget"),
        ("How much faster does G_stack reach the loss of a conventionally trained 7B model?", "speedup"),
        ("How accurate is the Clustering-On-Difficulty prediction for the 70B LLM?", "1.36%"),
    ],
)
def test_a_figure_is_answered_in_the_unit_the_question_asks(seeded: rag.Settings, question: str, figure: str) -> None:
    answer = rag.ask(question, settings=seeded)
    assert not answer.abstained, answer.reason
    assert figure in answer.text


def test_a_cost_the_abstract_does_not_state_is_declined(seeded: rag.Settings) -> None:
    answer = rag.ask("What was the training cost in dollars for the Yi-34B model?", settings=seeded)
    assert answer.abstained and "dollars" in answer.reason


def test_a_list_question_names_each_paper_on_a_line_of_its_own(seeded: rag.Settings) -> None:
    answer = rag.ask("Which papers apply large language models to recommender systems?", settings=seeded)
    lines = answer.text.split("\n")
    assert len(lines) >= 3
    for line in lines:
        name, _, rest = line.removeprefix("- ").partition(": ")
        numbers = set(re.findall(r"\[(\d+)\]", rest))
        assert line.startswith("- ") and len(numbers) == 1, line
        n = int(numbers.pop())
        cited = [c for c in answer.citations if c.n == n]
        assert cited[0].title.startswith(name)
        assert rest == " ".join(f"{c.quote} [{n}]" for c in cited)  # the line is its quotes, each cited
    assert {"HLLM", "Item-Language Model for Conversational Recommendation"} <= {
        c.title.partition(":")[0] for c in answer.citations
    }


def test_a_list_line_quotes_the_sentence_that_brings_the_paper_in_by_name(seeded: rag.Settings) -> None:
    answer = rag.ask("Which papers revisit layer normalization in language models?", settings=seeded)
    quotes = {c.title.partition(":")[0]: c.quote for c in answer.citations}
    assert "we propose Power Normalization" in quotes.get("PowerNorm", ""), quotes
    assert "we propose LayerNorm Scaling" in quotes.get("The Curse of Depth in Large Language Models", ""), quotes


def test_a_list_line_says_what_the_paper_brings_before_the_sentence_on_the_question(seeded: rag.Settings) -> None:
    answer = rag.ask("Which papers speed up pretraining by growing a larger model from a smaller one?", settings=seeded)
    line = next(line for line in answer.text.split("\n") if line.startswith("- Stacking Your Transformers"))
    assert "depthwise stacking operator, called G_{stack}" in line  # what the paper offers, not only its findings
    assert len(line.split()) <= 75


def test_a_list_finds_its_topic_whether_written_with_a_hyphen_or_without(seeded: rag.Settings) -> None:
    # Asked "continual pretraining", written "in the continual pre-training phase": the same topic.
    answer = rag.ask("Which papers adapt LLMs to finance using continual pretraining?", settings=seeded)
    assert "Baichuan4-Finance Technical Report" in {c.title for c in answer.citations}


def test_a_list_line_that_brings_a_work_in_names_the_papers_other_one_when_it_fits(seeded: rag.Settings) -> None:
    answer = rag.ask("Which papers study pooling strategies for LLM-based embedding models?", settings=seeded)
    line = next(line for line in answer.text.split("\n") if line.startswith("- Pooling And Attention"))
    assert "Multi-Layers Trainable Pooling" in line  # the strategy it proposes, after the study it runs
    assert len(line.split()) <= 75


@pytest.mark.parametrize(
    ("question", "many"),
    [
        ("papers on continual pretraining?", True),
        ("Can you list papers that study continual pretraining?", True),
        ("Who has worked on model merging?", True),
        ("What has been done on model merging?", True),
        ("Summarize the research on model merging", True),
        ("Who has studied scaling laws for machine translation?", True),
        ("surveys on multilingual LLMs?", True),
        ("Has anyone captioned satellite imagery with an open-source model?", False),
        ("bilingual Chinese-English image-text models, which papers?", True),
        ("What Chinese pretraining corpora have been released?", True),
        ("Which backbone models did it improve?", False),
        ("papers releasing instruction-tuning datasets", True),
        ("What are the approaches to memory-efficient LLM pretraining?", True),
        ("What are the methods of LongPO?", False),
        ("How many papers does the survey review?", False),
        ("How did the embedding paper decide which biomedical papers count as similar?", False),
        ("Give me the gist of CapsFusion", False),
    ],
)
def test_a_question_after_papers_is_a_list_in_the_forms_people_type(question: str, many: bool) -> None:
    from rag.answer.asked import read

    assert read(question).many is many


def test_a_question_naming_no_paper_is_answered_when_a_paper_below_the_first_answers_it(seeded: rag.Settings) -> None:
    # The first retrieved paper is weakly on it; the merging study, ranked lower, says exactly this.
    answer = rag.ask(
        "if I merge two fine-tuned copies of one model, can the merged model do things neither parent could?",
        settings=seeded,
    )
    assert not answer.abstained, answer.reason
    assert answer.citations[0].title.startswith("Fine-tuning large language models for domain adaptation")
    assert "neither parent model" in answer.text


def test_a_list_question_is_answered_when_a_paper_below_the_first_answers_it(seeded: rag.Settings) -> None:
    answer = rag.ask("What approaches exist to let a language model generate images and not just read them?", settings=seeded)
    assert not answer.abstained, answer.reason
    named = {c.title.partition(":")[0] for c in answer.citations}
    # Each a model that generates images (SwitchGPT, ranked second, sits at the list threshold: kept at F2, not F1).
    generating = {"Generating Images with Multimodal Language Models", "SwitchGPT", "ILLUME",
                  "Unified Language-Vision Pretraining in LLM with Dynamic Discrete Visual Tokenization"}
    assert "Generating Images with Multimodal Language Models" in named and len(named) >= 3 and named <= generating


def test_what_a_question_sets_aside_does_not_count_against_its_papers(seeded: rag.Settings) -> None:
    from rag.answer.asked import kept

    assert kept("Which papers evaluate on GLUE (not SuperGLUE)?").split() == "Which papers evaluate on GLUE ?".split()
    assert kept("Which models cut memory, other than LoRA?").split() == "Which models cut memory ?".split()
    assert kept("Which methods other than LoRA reduce memory?") == "Which methods other than LoRA reduce memory?"
    answer = rag.ask("Which papers evaluate on the GLUE benchmark (excluding SuperGLUE)?", settings=seeded)
    assert not answer.abstained, answer.reason  # was declined: no paper named SuperGLUE
    assert all("GLUE" in line for line in answer.text.split("\n")), answer.text


def test_how_one_paper_differs_from_another_is_answered_from_both(seeded: rag.Settings) -> None:
    answer = rag.ask("How does the Liger linearization differ from LoLCATs?", settings=seeded)
    assert not answer.abstained, answer.reason
    assert {"Liger", "LoLCATs"} <= {c.title.partition(":")[0] for c in answer.citations}


@pytest.mark.parametrize(
    ("question", "names"),
    [
        ("LoLCATs vs Liger: how do they differ?", {"LoLCATs", "Liger"}),
        ("GLM-130B vs PanGu-α", {"GLM-130B", "PanGu-α"}),
        ("What's the difference between MindLLM and Liger?", {"MindLLM", "Liger"}),  # two unrelated papers, both held
    ],
)
def test_a_comparison_of_named_works_cites_their_papers_and_no_other(seeded: rag.Settings, question: str, names: set) -> None:
    answer = rag.ask(question, settings=seeded)
    assert {c.title.partition(":")[0] for c in answer.citations} == names


def test_reviews_or_comparing_as_the_subjects_own_words_ask_for_no_survey_and_no_comparison(seeded: rag.Settings) -> None:
    from rag.answer.asked import read
    from rag.answer.decision import asks_survey

    assert asks_survey("Is there a review of continual learning?") and asks_survey("Which reviews cover RAG?")
    assert not asks_survey("sentiment analysis of product reviews with LLMs")
    assert not read("is asking an LLM to compare two documents at a time a good way to rerank?").compares
    assert not read("Which approach does Tree-of-Code compare against?").compares
    assert read("How does RWKV compare to transformers?").compares and read("compare SLTrain and Fira").compares
    question = "My RAG prompts get huge when I pull in lots of product reviews. Any way to cut the token count?"
    answer = rag.ask(question, settings=seeded)
    assert not answer.abstained and answer.citations[0].title.startswith("Clustered Retrieved Augmented Generation")


def test_a_question_about_a_study_that_compares_is_answered_from_that_study(seeded: rag.Settings) -> None:
    from rag.answer.asked import read

    assert read("Compare Liger and LoLCATs").many and read("How does Min-K% Prob compare to DC-PDD?").many
    question = "What did the spectral analysis comparing low-rank adaptation against full fine-tuning find?"
    assert not read(question).many
    answer = rag.ask(question, settings=seeded)
    assert {c.title for c in answer.citations} == {answer.sources[0].title}  # one study, not a list of LoRA papers


def test_a_question_for_surveys_lists_the_surveys_on_the_topic_and_no_other_paper(seeded: rag.Settings) -> None:
    answer = rag.ask("Are there surveys on continual learning for large language models?", settings=seeded)
    cited = {c.title for c in answer.citations}
    assert {
        "Continual Learning of Large Language Models: A Comprehensive Survey",
        "Towards Lifelong Learning of Large Language Models: A Survey",
    } <= cited
    assert all(re.search(r"\bsurvey\b", title, re.I) for title in cited), cited


def test_a_question_for_surveys_is_answered_from_the_survey_that_names_its_subject() -> None:
    from rag.answer.decision import decide

    def paper(n: int, title: str, abstract: str) -> rag.Source:
        return rag.Source(paper_id=f"p{n}", title=title, abstract=abstract, n=n, score=1.0 / n, dense_score=0.6)

    sources = [
        paper(1, "Zorblax: fast attention", "We propose Zorblax, an attention method for language models."),
        paper(2, "A Survey of Attention", "This survey reviews attention methods for language models."),
        paper(3, "Efficient Transformers: A Survey", "This survey covers efficient attention, Zorblax among them."),
    ]
    rare = {"zorblax": 9.0}
    decision = decide("Is there a survey that covers Zorblax?", sources, lambda term: rare.get(term, 1.0))
    assert decision.reason is None and decision.subject is not None
    assert decision.subject.title == "Efficient Transformers: A Survey"


def test_a_date_filter_that_leaves_out_the_answering_paper_says_so(seeded: rag.Settings) -> None:
    question = "Which regularization technique was effective against multi-epoch degradation?"
    assert "dropout" in rag.ask(question, settings=seeded).text
    answer = rag.ask(question, settings=seeded, dates=["May 2"])
    assert answer.abstained
    assert "To Repeat or Not To Repeat" in answer.reason and "outside the chosen dates (May 2)" in answer.reason


def test_the_generated_families_keep_every_paper_in_one_part(seeded: rag.Settings) -> None:
    papers = rag.catalog(seeded)
    families = generate(papers)
    kinds = {g.type for g in families}
    assert {"natural", "invented", "near-miss", "attribute", "unstated", "multi", "topic", "absent"} <= kinds
    corpus = vocabulary(" ".join(f"{p.title} {p.abstract}" for p in papers))
    for item in families:
        if item.part != "mixed":
            assert {part_of(paper_id) for paper_id in item.papers} <= {item.part}
        if item.type == "invented":
            assert not item.gold_titles
    names = [re.search(r"[A-Z]\w+(?:-\w+)?", g.question.split(" ", 1)[1]) for g in families if g.type == "invented"]
    assert all(m and squash(m.group(0)) not in corpus for m in names)


def test_the_shipped_decision_weights_are_the_calibrations_choice(seeded: rag.Settings) -> None:
    from rag.answer.decision import ANSWER, KEEP
    from rag.devtools.calibrate import calibrate

    result = calibrate(seeded, dev=[ROOT / "eval" / "dev.jsonl", ROOT / "eval" / "dev4.jsonl"])
    rows = [c.subject for c in result.fit_cases if c.subject]
    agree = sum((ANSWER.logit(r.signals) > 0) == (result.answer.logit(r.signals) > 0) for r in rows) / len(rows)
    kept = [r for c in result.fit_cases for r in c.candidates]
    agree_keep = sum((KEEP.logit(r.signals) > 0) == (result.keep.logit(r.signals) > 0) for r in kept) / len(kept)
    assert agree >= 0.98 and agree_keep >= 0.99, (result.answer, result.keep)
    assert min(no for _, no in result.answer_folds) >= 0.5 and min(yes for yes, _ in result.answer_folds) >= 0.95


def test_eval_reports_each_question_type_apart() -> None:
    questions = [
        EvalQuestion(id="a", type="natural", question="What does X do?", gold_titles=["X: one"], must_contain=[["x"]]),
        EvalQuestion(id="b", type="invented", question="What does Q do?"),
        EvalQuestion(id="c", type="multi", question="Which papers?", gold_titles=["X: one", "Y: two"]),
    ]
    results = [
        {"retrieved": ["X: one"], "answer": "x does it [1]", "cited": ["X: one"], "abstained": False, "latency_ms": {"total": 1}},
        {"retrieved": [], "answer": rag.ABSTAIN, "cited": [], "abstained": True, "latency_ms": {"total": 1}},
        {"retrieved": ["X: one", "Z"], "answer": "- X", "cited": ["X: one", "Z"], "abstained": False, "latency_ms": {"total": 1}},
    ]
    summary = summarise(questions, results)
    assert summary.by_type["natural"].right_paper == 1.0 and summary.by_type["invented"].declined == 1.0
    assert (summary.list_recall, summary.list_precision) == (0.5, 0.5)
    table = format_summary(summary)
    assert re.search(r"^invented\s+1\s+1\b", table, re.M) and json.dumps(summary.abstention_unanswerable) == "1.0"


@pytest.mark.parametrize(
    ("question", "spelled"),
    [
        ("whats lumos", "whats Lumos"),
        ("is lumos better than react?", "is Lumos better than react?"),  # no English word: a name wherever it stands
        ("tell me about holmes", "tell me about Holmes"),
        ("how does crystal growth work", "how does crystal growth work"),  # an English word asked about as such
        ("What does Lumos do?", "What does Lumos do?"),  # typed as a name already
    ],
)
def test_a_name_typed_in_lower_case_is_spelled_as_the_library_spells_it(question: str, spelled: str) -> None:
    titles = ["Lumos: Learning Agents with Unified Data", "Holmes: Towards Distributed Training", "Crystal: Illuminating"]
    assert respelled(question, titles) == spelled
