"""English queries over the Vietnamese samples: the lexical leg says only what the query's names and numbers
let it say (retrieval/crosslingual.py); Vietnamese queries are searched as before."""

from __future__ import annotations

from retrieval.crosslingual import is_english, plan_lexical
from retrieval.searcher import LEXICAL_WEIGHT

VINH_BAO = "003_c32edca671531721"


def _first_passage(searcher, query: str, mode: str) -> int:
    return searcher.rank(query, mode, 1)[0].id


def test_an_english_word_the_index_happens_to_hold_does_not_let_its_passage_win(searcher) -> None:
    """The word "covid" is in one passage of the samples; before, BM25 on it put that passage first for any English
    question mentioning it. Now only names and numbers are searched, so the dense leg decides."""
    query = "how did covid affect the economy"
    covid = {pid for pid, _ in searcher.lexical.search("covid", 10)}
    assert covid and _first_passage(searcher, query, "dense") not in covid  # the meaning points elsewhere
    plan = plan_lexical(query, searcher.lexical, LEXICAL_WEIGHT)
    assert plan.tokens == [] and plan.weight == 0.0
    assert _first_passage(searcher, query, "hybrid") not in covid
    assert _first_passage(searcher, query, "hybrid") == _first_passage(searcher, query, "dense")


def test_english_words_the_index_holds_lower_the_weight_of_the_names(searcher) -> None:
    """The lexical leg's weight follows the share of the query's lexical evidence (idf) that its names carry:
    alone, "Vinh Bao" has its weight; beside an English word the index holds as well (repeated, so that it
    carries most of the query's idf), less."""
    assert "f:covid" in searcher.lexical.vocab
    alone = plan_lexical("Vinh Bao party members", searcher.lexical, LEXICAL_WEIGHT)
    beside = plan_lexical(
        "Vinh Bao covid covid covid covid covid covid party members", searcher.lexical, LEXICAL_WEIGHT
    )
    assert alone.tokens == beside.tokens
    assert 0 < beside.weight < alone.weight <= LEXICAL_WEIGHT


def test_a_common_name_weighs_less_than_a_rare_one(searcher) -> None:
    """The name "Quang Tri" is in three of the five samples, "Vinh Bao" in one: the commoner name picks passages less
    surely, so the lexical leg gets less weight (on real news, "Hanoi" and "Vietnam" are such names)."""
    common = plan_lexical("Quang Tri party members", searcher.lexical, LEXICAL_WEIGHT)
    rare = plan_lexical("Vinh Bao party members", searcher.lexical, LEXICAL_WEIGHT)
    assert "f:quang_tri" in common.tokens and "f:vinh_bao" in rare.tokens
    assert 0 < common.weight < rare.weight


def test_a_name_glued_from_two_syllables_is_split_and_english_words_are_not_searched(searcher) -> None:
    plan = plan_lexical("Vietnam public debt", searcher.lexical, LEXICAL_WEIGHT)
    assert plan.tokens == ["f:viet", "f:viet_nam", "f:nam"]


def test_vietnamese_names_in_an_english_query_still_count(searcher) -> None:
    """The dense leg alone ranks another district's report first; the name "Vinh Bao" brings its own."""
    query = "How many party members does Vinh Bao district have?"
    plan = plan_lexical(query, searcher.lexical, LEXICAL_WEIGHT)
    assert {"f:vinh", "f:bao", "f:vinh_bao"} <= set(plan.tokens) and plan.weight > 0
    assert not {t for t in plan.tokens if t.startswith(("f:party", "f:members", "f:district"))}
    rows = searcher.store.passages([_first_passage(searcher, query, m) for m in ("dense", "hybrid")])
    dense, hybrid = (rows[_first_passage(searcher, query, m)].doc_id for m in ("dense", "hybrid"))
    assert dense != VINH_BAO and hybrid == VINH_BAO


def test_vietnamese_queries_keep_their_lexical_leg_and_weight(searcher) -> None:
    """Marked, unmarked, and unmarked around a foreign name (which langdetect calls English)."""
    assert not is_english("Lionel Messi la ai") and is_english("Who is Lionel Messi?")
    for query in ("kết nạp đảng viên mới", "ket nap dang vien moi", "Lionel Messi la ai", "Vĩnh Bảo có bao nhiêu"):
        plan = plan_lexical(query, searcher.lexical, LEXICAL_WEIGHT)
        assert plan.tokens is None and plan.weight == LEXICAL_WEIGHT
