"""Tone-mark restoration learnt from corpus/, and query language detection on short queries."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from indexer.readers import read_articles
from tracuu.text.lang import detect_query_language
from tracuu.text.restore import ToneModel, is_vietnamese_syllable, language_prior


@pytest.fixture(scope="module")
def tones(tmp_path_factory: pytest.TempPathFactory) -> ToneModel:
    model = ToneModel()
    model.learn_corpus(t for a in read_articles([Path("corpus")]) for t in (a.title, a.text))
    path = tmp_path_factory.mktemp("tones") / "restore.json"
    model.save(path)
    return ToneModel.load(path)  # what the searcher uses: the saved tables


@pytest.mark.parametrize(
    ("typed", "restored"),
    [
        ("xay dung dang", "xây dựng đảng"),
        ("ket nap dang vien moi", "kết nạp đảng viên mới"),
        ("cong tac kiem tra giam sat", "công tác kiểm tra giám sát"),
        ("thi xa Quang Tri", "thị xã Quảng Trị"),
        ("Ba Don", "Ba Đồn"),
        ("sinh hoat chi bo", "sinh hoạt chi bộ"),
        ("to chuc co so dang", "tổ chức cơ sở đảng"),
        ("Vinh Bao co bao nhieu dang vien", "Vĩnh Bảo có bao nhiêu đảng viên"),
        ("Phuong 5 Dong Ha ket nap bao nhieu dang vien", "Phường 5 Đông Hà kết nạp bao nhiêu đảng viên"),
    ],
)
def test_restores_phrases_from_the_corpus(tones: ToneModel, typed: str, restored: str) -> None:
    assert tones.restore(typed) == restored


def test_a_restored_query_is_spelt_as_written(tones: ToneModel) -> None:
    """ "của", "mùa" as Vietnamese writes them, not the canonical "cuả" (which the dense leg then embedded)."""
    assert tones.restore("thu do cua nuoc Phap") == "thủ đô của nước Pháp"
    assert "cuả" not in (tones.restore("so dang vien cua Ba Don") or "")


@pytest.mark.parametrize(
    "query",
    [
        "xây dựng Đảng",
        "kết nạp đảng viên",
        "Messi thuận chân nào",
        "hoà bình",
        "Thị xã Quảng Trị phát triển được bao nhiêu đảng viên mới trong năm 2021?",  # "bao", "trong" unmarked
        "Chi bộ Khu phố 7 có bao nhiêu đảng viên?",
    ],
)
def test_queries_with_marks_are_left_alone(tones: ToneModel, query: str) -> None:
    assert tones.restore(query) is None


@pytest.mark.parametrize(
    ("typed", "restored"),
    [
        ("kết nap dang vien moi", "kết nạp đảng viên mới"),
        ("Vĩnh Bảo co bao nhieu dang vien", "Vĩnh Bảo có bao nhiêu đảng viên"),
        ("HĐND thi xa Quang Tri", "HĐND thị xã Quảng Trị"),
        (unicodedata.normalize("NFD", "kết nạp") + " dang vien moi", "kết nạp đảng viên mới"),
    ],
)
def test_partly_marked_queries_are_completed_around_the_marked_syllables(
    tones: ToneModel, typed: str, restored: str
) -> None:
    assert tones.restore(typed) == restored


@pytest.mark.parametrize(
    "query", ["party members admitted", "how to build the party", "Landmark 81", "zzz qqq", "2021"]
)
def test_non_vietnamese_queries_are_left_alone(tones: ToneModel, query: str) -> None:
    assert tones.restore(query) is None


def test_vietnamese_syllable_shape() -> None:
    assert all(is_vietnamese_syllable(w) for w in ["nghieng", "khuyen", "dang", "truong", "quy", "a"])
    assert not any(is_vietnamese_syllable(w) for w in ["party", "members", "strength", "xyz"])


@pytest.mark.parametrize(
    ("query", "lang"),
    [
        ("kết nạp đảng viên mới", "vi"),
        ("ket nap dang vien moi", "vi"),
        ("xay dung dang", "vi"),
        ("Sao Hoa con duoc goi la gi", "vi"),
        ("how many party members were admitted", "en"),
        ("party building in Quang Tri", "en"),
        ("discipline of party members", "en"),
    ],
)
def test_query_language_on_short_queries(query: str, lang: str) -> None:
    assert detect_query_language(query) == lang
    assert detect_query_language(query) == detect_query_language(query), "deterministic"


def test_common_words_are_restored_from_the_language_prior(tones: ToneModel, tmp_path: Path) -> None:
    """Five party reports write "sở" (of "cơ sở") more than "số" and "bí" (of "Bí thư") but never "bị": the
    corpus alone restores "sở ... bí"; the general-language prior gets the common words right."""
    typed = "so dang vien bi ky luat o Ba Don"
    assert tones.restore(typed) == "số đảng viên bị kỷ luật ở Ba Đồn"
    corpus_only = ToneModel()
    corpus_only.learn_corpus(t for a in read_articles([Path("corpus")]) for t in (a.title, a.text))
    corpus_only.save(tmp_path / "restore.json")
    assert ToneModel.load(tmp_path / "restore.json", prior=False).restore(typed) != "số đảng viên bị kỷ luật ở Ba Đồn"


def test_the_prior_restores_words_the_corpus_never_saw(tones: ToneModel) -> None:
    assert tones.restore("Messi thuan chan nao") == "Messi thuận chân nào"


def test_the_corpus_outweighs_the_prior_where_it_has_seen_a_word_often(tmp_path: Path) -> None:
    """A corpus that keeps writing "Sở Nội vụ" restores "so noi vu" so, though "số" is the commoner word."""
    model = ToneModel()
    model.learn_corpus(["Sở Nội vụ tỉnh họp."] * 30 + ["Giám đốc Sở Nội vụ phát biểu."] * 30)
    model.save(tmp_path / "restore.json")
    assert ToneModel.load(tmp_path / "restore.json").restore("so noi vu") == "sở nội vụ"
    assert ToneModel.load(tmp_path / "restore.json").restore("so nguoi bi thuong") == "số người bị thương"


@pytest.mark.parametrize(
    "query",
    ["to be or not to be", "how to become a party member", "the ten best songs", "ten tin cans", "so ten men ran"],
)
def test_english_words_the_dictionary_also_spells_are_not_restored(tmp_path: Path, query: str) -> None:
    """ "to", "not", "ten" are dictionary syllables (tổ, nốt, tên) but English words far more often: the prior
    does not make an English query look Vietnamese. Restoration reads wordfreq's Vietnamese frequencies, but which
    words look Vietnamese is told by the piece scores of 100 languages (FOREIGN_PENALTY): with wordfreq's there,
    "ten tin" and "so ten" would be "tên tín", "số tên"."""
    model = ToneModel()
    model.learn_corpus(["Đảng viên mới được kết nạp."])
    model.save(tmp_path / "restore.json")
    assert ToneModel.load(tmp_path / "restore.json").restore(query) is None


@pytest.mark.parametrize(
    ("typed", "restored"),
    [
        ("trong bong da", "trong bóng đá"),  # "đã" is far commoner than "đá", but "bóng đá" is a dictionary word
        ("tran bong da", "trận bóng đá"),
        ("dong co hoi nuoc", "động có hơi nước"),  # "hơi nước", not "hội nước"
    ],
)
def test_the_dictionarys_pairs_are_bigram_evidence(tones: ToneModel, typed: str, restored: str) -> None:
    """The five samples never write "bóng": the dictionary's pairs say what follows it (PAIR_WEIGHT)."""
    assert tones.restore(typed) == restored


def test_an_unmarked_capital_is_rarely_the_vietnamese_name(tones: ToneModel) -> None:
    """ "Sai", "Gon" are capitalised pieces of other languages' words more often than "Sài", "Gòn": inside a
    Vietnamese query they are the name (CAPITAL_UNMARKED_PENALTY)."""
    assert tones.restore("Thao Cam Vien Sai Gon") == "Thảo Cầm Viên Sài Gòn"


def test_the_prior_counts_how_often_vietnamese_writes_a_syllable() -> None:
    """wordfreq's Vietnamese frequencies, not the piece scores of 100 languages: those made "vua" (king) 2% of its
    folded form, "me" (Spanish, French...) commoner than "mẹ", and "dá", which no one writes, likelier than "đá"."""
    shares = language_prior().shares
    assert shares["vua"]["vua"] > 0.1
    assert max(shares["me"], key=shares["me"].__getitem__) == "mẹ"
    assert shares["da"]["đá"] > shares["da"].get("dá", 0.0)


def test_an_unmarked_spelling_loses_to_the_vietnamese_word(tones: ToneModel) -> None:
    """ "ten" is an English word too, yet Vietnamese writes "tên" far more often; restoring it does not make "the ten
    best songs" Vietnamese (`test_english_words_the_dictionary_also_spells_are_not_restored`)."""
    assert tones.restore("ten goi") == "tên gọi"


@pytest.mark.parametrize(
    ("typed", "restored"),
    [("nguoi Tay Ban Nha", "người Tây Ban Nha"), ("dan so An Do", "dân số Ấn Độ"), ("Hoa Ky", "Hoa Kỳ")],
)
def test_the_names_of_countries_are_pair_evidence(tones: ToneModel, typed: str, restored: str) -> None:
    """CLDR's Vietnamese names of countries and languages are counted with the dictionary's words
    (scripts/build_tone_prior.py): "Tây Ban Nha", not "Tây Bán Nhà"."""
    assert tones.restore(typed) == restored


@pytest.mark.parametrize(
    ("typed", "restored"),
    [
        ("Ha Long o dau", "Hạ Long ở đâu"),
        ("du lich Vung Tau", "du lịch Vũng Tàu"),
        ("Phu Quoc", "Phú Quốc"),
        ("thanh pho Da Nang", "thành phố Đà Nẵng"),  # "nẵng" is no word of the dictionary
        ("mua lu o Quang Ngai", "mưa lũ ở Quảng Ngãi"),
        ("Buon Ma Thuot", "Buôn Ma Thuột"),
    ],
)
def test_the_names_of_places_are_pair_evidence(tones: ToneModel, typed: str, restored: str) -> None:
    """GeoNames' Vietnamese place names are counted with the dictionary's words: "Hạ Long", not "Hả Lòng"
    (both dictionary words), though the five samples never name it; a capitalised syllable that makes a name with
    the one before it is the name (NAME_PAIR: "Đà Nẵng", not the reports' "đã nâng")."""
    assert tones.restore(typed) == restored


def test_a_corpus_syllable_bound_to_one_neighbour_counts_little_elsewhere(tones: ToneModel) -> None:
    """The samples and the question phrases write "mấy" far more often than "máy", half the time after "có" ("có
    mấy"): after another syllable the corpus's count of a syllable is only that of its occurrences without its usual
    left neighbour (`_bound`), so "máy phát điện" is not "mấy phát điện"."""
    assert tones.restore("may phat dien") == "máy phát điện"


@pytest.mark.parametrize(
    ("syllable", "vietnamese"),
    [
        ("nẵng", True),
        ("ngãi", True),
        ("thuột", True),
        ("lôc", False),
        ("phươc", False),
        ("nghia", False),
        ("ši", False),
    ],
)
def test_place_names_bring_only_syllables_spelt_as_vietnamese(syllable: str, vietnamese: bool) -> None:
    """GeoNames' alternate names hold misspellings ("Phươc Lôc", a checked syllable without its tone), names folded
    to ASCII and other alphabets: a syllable the dictionary lacks comes in only if spelt as Vietnamese is."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "build_tone_prior", Path(__file__).parent.parent / "scripts" / "build_tone_prior.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.spelt_as_vietnamese(syllable) is vietnamese
