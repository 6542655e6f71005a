"""Clean the body text of JSON Lines articles: captions, credits, boilerplate and edge bylines.

JSON Lines text (e.g. the vi-news corpus) often has its body paragraphs joined into one line, so
captions and credits run into the sentences around them ("... đền Cờn. Ảnh: Thu Huyền Tại các
điểm ..."). `clean_body` therefore works at two levels:

* whole paragraphs: the `.txt` clutter rules of `indexer.clutter` (related lists, counters,
  footers ...), bare URLs, contact boilerplate, a first paragraph that repeats the title;
* fragments inside a paragraph, each anchored where a caption or credit can only be: "(Ảnh ...)"
  in brackets, "Ảnh: <Name>" / "Ảnh minh họa" after a sentence end, "(Tổng hợp)", "(t/h)", the
  "Video:"/"Xem thêm:" labels, "<Outlet> | 07:27 08/02/2017 Tin liên quan ..." related lists and
  `href="..."` residue.

Attributions at the end of the text become metadata instead of body text: "(Theo VnExpress)",
"Theo Báo X", "TTXVN/Tin Tức" give `source_credit`; a trailing personal name ("Tuyết Mai",
"M.Anh", doubled "Phan Thương Phan Thương") gives `author`. A real sentence is never dropped: a
fragment is removed only when it matches a caption/credit shape, never for its words alone.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass, field

from indexer.clutter import is_clutter
from tracuu.text.restore import is_vietnamese_syllable

_END = r"(?:(?<=[.!?…\"”’)»:])|^)"  # a fragment can start only after a sentence end (or at the start)


@dataclass
class Cleaned:
    text: str
    author: str | None = None
    source_credit: str | None = None
    removed: Counter[str] = field(default_factory=Counter)
    removed_parts: list[tuple[str, str]] = field(default_factory=list)  # (rule, removed text), for review


# --- whole-paragraph rules -------------------------------------------------------------------
_BARE_URL = re.compile(r"^(?:https?://|www\.)\S+$", re.I)
_CONTACT = re.compile(r"^(?:.{0,80}\b)?(?:e-?mail|hotline|đường\s*dây\s*nóng)\s*:.{0,120}(?:@|\d{3}[\d .]{5,})", re.I)
_SHARE = re.compile(
    r"^(?:(?:chia\s*sẻ|share|tweet|like|thích|facebook|twitter|zalo|google\+?|email|in)\s*[:|/,]?\s*)+$", re.I
)

# --- inline rules ----------------------------------------------------------------------------
_PAREN_PHOTO = re.compile(r"(?:\s+[-–])?\s*\(\s*(?:[Ảả]nh|[Nn]guồn\s*ảnh|[Ảả]nh\s*minh\s*họa)\b[^()]{0,100}\)")
_PHOTO_ILLUSTRATIVE = re.compile(_END + r"\s*[Ảả]nh\s+minh\s+h[ọo]a\s*(?:[.:]\s*(?:[Ii]nternet\.?)?)?(?=\s+\S|\s*$)")
_PHOTO_LABEL = re.compile(
    r"(?:(?:(?<=[.!?…\"”’)»:])|^|\s[-–](?=\s))\s*(?:(?:Tin|Bài)\s*(?:,|-|và)?\s*ảnh|ảnh|Clip|Nguồn\s*ảnh|Trong\s*ảnh)"
    r"|(?:(?<=\s)|^)(?:Ảnh(?:\s*và\s*clip)?|Nguồn\s*ảnh))\s*:\s*"
)  # a capitalised "Ảnh:" is a credit label anywhere; lowercase only after a sentence end
_COMPILED = re.compile(r"\s*\(\s*(?:tổng\s*hợp|t/h)\s*\)", re.I)
_VIDEO_LABEL = re.compile(_END + r"\s*(?:[-–]\s*)?Video\s*:\s*")
_SEE_ALSO = re.compile(r"\s*(?:>+|=>|»)?\s*Xem\s+thêm\s*(?::|>+)\s*")
_ARROWS = re.compile(r"(?:(?<=\s)|^)(?:>>+|=>)\s*(?=\S)")
_RELATED = re.compile(
    r"\s*(?:[-–]\s*)?[^.!?|]{0,40}\|\s*\d{1,2}:\d{2}\s+\d{1,2}/\d{1,2}/\d{4}(?:\s+Tin\s+liên\s+quan\b.*)?$", re.S
)
_HREF = re.compile(r'"?\s*href="[^"]*">?')

_WORD = re.compile(r"\S+")
_SPACES = re.compile(r"\s{2,}")
_TAIL_WINDOW = 400  # characters at the end of a paragraph where an attribution or byline can be
_THEO_END = re.compile(r"\s*\(\s*[Tt]heo\s+([^()]{2,60})\)\s*\.?$")
_LAST_FRAGMENT = re.compile(r"(?:(?<=[.!?…\"”)])\s+|^)(\S(?:[^.!?…\"”\s]|\s(?!\s)|[.](?=\S)){0,60}?)\s*$")
_AGENCY_END = re.compile(
    r"(?:^|/|(?<=[^\W\d_])[-–])[A-ZĐ0-9.\-]{2,}$"
)  # "TTXVN", "Trọng Đức/TTXVN": the credit ends there
_INITIALS = re.compile(r"^(?:[A-ZĐ][a-zđ]?\.)+[A-ZĐ]?[^\W\d_]*$")  # "M.Anh", "H.H", "K.N", "Ng."


def _capitalised(token: str) -> bool:
    word = token.rstrip(".,;")
    if not word or not word[0].isupper() or any(ch.isdigit() for ch in word):
        return False
    if _INITIALS.match(word):
        return True
    return word.isalpha() and (word[1:].islower() or len(word) == 1)


# Capitalised words that start the next sentence, never part of a credit: "Ảnh: Getty Images Ông Giép nói".
_STARTS = (
    "Ông Bà Chị Theo Trong Tại Sau Khi Ngày Năm Tháng Đây Đó Các Những Nhiều Với Tuy Trước Để Cũng Bên Chiều "
    "Sáng Tối Trưa Đêm Phát Vì Nếu Người Một Đến Nhưng Còn Ngoài Mặc Dù Lúc Tôi Chúng Ngài Vào Ở Riêng Hôm Qua "
    "Đảng Bộ Sở Tòa Cơ Thủ Chủ Phó Tổng Giám Ban Bệnh Viện Ủy UBND Lực Trung Hội"
)  # no name syllables ("Anh", "Thế", "Như", "Từ"): "Ảnh: Minh Anh" must take the whole name
_SENTENCE_STARTS = set(_STARTS.split())
_DOMAIN = re.compile(r"^[\w-]+(?:\.[\w-]+)+\.?$")
_LOWER_CREDITS = {"internet", "reuters", "facebook", "instagram", "st", "nguồn", "internet."}


# Lowercase credits right after "Ảnh:" (a compilation, the person pictured, a screenshot).
_LOWER_CREDIT = re.compile(
    r"\s*(?:tổng\s*hợp|internet|st|nhân\s*vật\s*cung\s*cấp|gia\s*đình\s*cung\s*cấp|cắt\s*từ\s*(?:clip|video)"
    r"|chụp\s*(?:từ\s*)?màn\s*hình|minh\s*họa)\b\.?"
)


def _foreign(word: str) -> bool:
    """Not a Vietnamese syllable ("Reuters", "Eurosport", "Facebook"): a credit, not the next sentence's start."""
    return word.isalpha() and not is_vietnamese_syllable(word)


def _credit_token(token: str) -> bool:
    """A word of a photo credit: a name word, an acronym ("AFP", "ĐH"), a domain, or a known lowercase source."""
    word = token.rstrip(".,;")
    return (
        _capitalised(token)
        or (word.isupper() and 2 <= len(word) <= 8)
        or bool(_DOMAIN.match(token))
        or word.lower() in _LOWER_CREDITS
    )


def _person_name(text: str) -> str | None:
    """`text` if it is a personal name: 2-4 capitalised syllables or initials ("M.Anh"); doubled halves merged."""
    words = text.strip().rstrip(".").split()
    if len(words) % 2 == 0 and words and words[: len(words) // 2] == words[len(words) // 2 :]:
        words = words[: len(words) // 2]
    if not 1 <= len(words) <= 4 or not all(_capitalised(w) for w in words):
        return None
    if len(words) == 1 and not _INITIALS.match(words[0]):
        return None
    return " ".join(words)


_OUTLETS = {
    "vnexpress", "dân trí", "tuổi trẻ", "thanh niên", "zing", "zing.vn", "vtc news", "vietnamnet", "ttxvn", "vov",
    "tiền phong", "lao động", "vtc", "vnews", "vov.vn", "infonet", "vietnamplus",
    "người lao động", "tin tức", "kenh14", "pháp luật tp.hcm", "plo", "an ninh thủ đô",
}  # fmt: skip


def _is_outlet(text: str) -> bool:
    value = text.strip().rstrip(".").strip()
    if value.lower() in _OUTLETS or value.lower().removeprefix("báo ").strip() in _OUTLETS:
        return True
    words = value.split()
    return value.lower().startswith(("báo ", "tạp chí ", "đài ")) and len(words) <= 7


class _Cleaner:
    def __init__(self) -> None:
        self.result = Cleaned(text="")

    def note(self, rule: str, part: str) -> None:
        if part.strip():
            self.result.removed[rule] += 1
            self.result.removed_parts.append((rule, part.strip()))

    def sub(self, rule: str, pattern: re.Pattern[str], text: str, repl: str = " ") -> str:
        def replace(match: re.Match[str]) -> str:
            self.note(rule, match.group(0))
            return repl

        return pattern.sub(replace, text)

    def photo_credits(self, text: str) -> str:
        """ "Ảnh: Thành Cường Những người ..." -> "Những người ...": the name is the capitalised run,
        less its last word when a lowercase word follows (that word starts the next sentence)."""
        out: list[str] = []
        pos = 0
        for label in _PHOTO_LABEL.finditer(text):
            if label.start() < pos:
                continue
            words = list(itertools.islice(_WORD.finditer(text, label.end()), 7))
            run: list[re.Match[str]] = []
            ended = False
            for word in words[:6]:
                token = word.group(0)
                if token.startswith("(") and token.endswith(")") and run:  # "Huyền Trang (TTXVN)"
                    run.append(word)
                    ended = True
                    break
                credit = _credit_token(token.rstrip(").")) or "/" in token or _AGENCY_END.search(token)
                if (run and token in _SENTENCE_STARTS) or not credit:
                    break
                run.append(word)
                if _DOMAIN.match(token) or token[0].islower():  # "news.com.au.", "reuters": the credit ends there
                    break
                if (token.endswith((".", ")")) and len(token) > 2) or _AGENCY_END.search(token):
                    ended = True
                    break
            phrase = _LOWER_CREDIT.match(text, label.end())
            if phrase:  # "Ảnh: tổng hợp", "Ảnh: nhân vật cung cấp"
                self.note("photo_credit", text[label.start() : phrase.end()])
                out.append(text[pos : label.start()] + " ")
                pos = phrase.end()
                continue
            if not ended and run and len(run) < len(words):
                nxt = words[len(run)].group(0)
                opens_quote = nxt[0] in '“"«*'  # a quotation (or list item) starts the next sentence there
                if not opens_quote and not nxt[0].isupper():  # a lowercase word follows: the last one starts a sentence
                    run = run[:-1]
                single = run[0].group(0).rstrip(".,") if len(run) == 1 else ""
                if single and not (
                    single.isupper() or _DOMAIN.match(single) or _INITIALS.match(single) or _foreign(single)
                ):
                    run = []  # "Ảnh: Sài Gòn giải phóng", "Ảnh: Tờ “Thời báo ...”": unsure where the credit ends
                if len(run) >= 5:
                    run = []  # too long to be a name
            if not run:  # the label alone goes; the words after it may be the caption's or the body's: they stay
                self.note("photo_label", label.group(0))
                out.append(text[pos : label.start()] + " ")
                pos = label.end()
                continue
            end = run[-1].end()
            if end == len(text.rstrip()) and label.group(0).strip().lower().startswith("tin"):  # "Tin, ảnh: X (TTXVN)"
                name = " ".join(w.group(0) for w in run if not w.group(0).startswith("("))
                credit = run[-1].group(0).strip("()") if run[-1].group(0).startswith("(") else None
                self.result.author = self.result.author or _person_name(name)
                self.result.source_credit = self.result.source_credit or credit
            self.note("photo_credit", text[label.start() : end])
            out.append(text[pos : label.start()] + " ")
            pos = end
        out.append(text[pos:])
        return "".join(out)

    def inline(self, para: str) -> str:
        # Each rule runs only where its literal anchor occurs: trying a pattern that may start with
        # whitespace at every position of every paragraph was most of the cost of reading a corpus.
        lower = para.lower()
        if "href" in para:
            para = self.sub("html_residue", _HREF, para, " ")
        photo = "ảnh" in lower
        if photo and "(" in para:
            para = self.sub("photo_caption", _PAREN_PHOTO, para, "")
        if photo and "minh h" in lower:
            para = self.sub("photo_caption", _PHOTO_ILLUSTRATIVE, para)
        if ":" in para and (photo or "clip" in lower):
            para = self.photo_credits(para)
        if "(" in para and ("tổng" in lower or "t/h" in lower):
            para = self.sub("compiled", _COMPILED, para, "")
        if "Video" in para:
            para = self.sub("video_label", _VIDEO_LABEL, para)
        if "|" in para:
            para = self.sub("related", _RELATED, para, "")
        if "Xem" in para:
            para = self.sub("see_also", _SEE_ALSO, para)
        if ">" in para:
            para = self.sub("arrows", _ARROWS, para, "")
        return _SPACES.sub(" ", para).strip()

    def tail(self, para: str) -> str:
        """Take attributions and a byline off the end of the last paragraph, into metadata."""
        res = self.result
        for _ in range(4):
            window = max(0, len(para) - _TAIL_WINDOW)  # search(pos): same matches, no scan of the whole paragraph
            match = _THEO_END.search(para, window)
            if match and res.source_credit is None:
                res.source_credit = match.group(1).strip()
                self.note("source_credit", match.group(0))
                para = para[: match.start()].rstrip()
                continue
            match = _LAST_FRAGMENT.search(para, window)
            if not match:
                break
            tail = match.group(1).strip()
            half = tail.split()
            if len(half) % 2 == 0 and half[: len(half) // 2] == half[len(half) // 2 :]:
                tail = " ".join(half[: len(half) // 2])  # "Vũ Hạnh/VOV.VN Vũ Hạnh/VOV.VN"
            named = re.match(r"^(.+?)\s*\(([^()]{1,60})\)$", tail)  # "Chu Quốc Hùng (TTXVN)"
            split = re.search(r"\s(Theo\s+\S.*)$", tail)  # "Tri Thu Theo Đời sống Plus"
            if split and res.source_credit is None:
                tail = split.group(1)
                match = re.compile(re.escape(tail) + r"\s*$").search(para, window)
                assert match is not None
            theo = re.match(r"^[Tt]heo\s+(.+)$", tail)
            slash = tail.split("/", 1) if "/" in tail else None
            if theo and res.source_credit is None and len(theo.group(1).split()) <= 7 and theo.group(1)[0].isupper():
                res.source_credit = theo.group(1).strip()
                self.note("source_credit", tail)
            elif slash and res.source_credit is None and all(p.strip() and p.strip()[0].isupper() for p in slash):
                left, right = (p.strip() for p in slash)
                if _person_name(left) and res.author is None:
                    res.author = _person_name(left)
                    res.source_credit = right
                elif len(tail.split()) <= 6:
                    res.source_credit = tail
                else:
                    break
                self.note("source_credit", tail)
            elif named and _person_name(named.group(1)) and res.author is None:
                res.author = _person_name(named.group(1))
                credit = re.sub(
                    r"^(?:tổng\s*hợp|p/v)\s*(?:theo\s*(?:báo\s*)?)?", "", named.group(2).strip(), flags=re.I
                )
                if credit and credit[0].isupper() and res.source_credit is None and len(credit.split()) <= 7:
                    res.source_credit = credit.strip()
                self.note("byline", tail)
            elif _is_outlet(tail) and res.source_credit is None:
                res.source_credit = tail.rstrip(".")
                self.note("source_credit", tail)
            elif _person_name(tail) and res.author is None:
                res.author = _person_name(tail)
                self.note("byline", tail)
            else:
                break
            para = para[: match.start()].rstrip()
        return para


def clean_body(text: str, title: str) -> Cleaned:
    """`text` without captions, credits and boilerplate; edge bylines/attributions as metadata."""
    cleaner = _Cleaner()
    paragraphs: list[str] = []
    for raw in text.split("\n"):
        para = raw.strip()
        if not para:
            paragraphs.append("")
            continue
        for rule, pattern in (("bare_url", _BARE_URL), ("contact", _CONTACT), ("share", _SHARE)):
            if pattern.match(para):
                cleaner.note(rule, para)
                para = ""
                break
        if para and is_clutter(para):
            cleaner.note("clutter_line", para)
            para = ""
        if para:
            para = cleaner.inline(para)
        paragraphs.append(para)
    content = [i for i, p in enumerate(paragraphs) if p]
    if content and title and _same(paragraphs[content[0]], title):
        cleaner.note("title_repeat", paragraphs[content[0]])
        paragraphs[content[0]] = ""
        content = content[1:]
    if content:
        last = content[-1]
        paragraphs[last] = cleaner.tail(paragraphs[last])
    cleaned = re.sub(r"\n{3,}", "\n\n", "\n".join(paragraphs)).strip()
    cleaner.result.text = cleaned
    return cleaner.result


def _same(a: str, b: str) -> bool:
    norm = lambda s: re.sub(r"[\W_]+", " ", s).strip().lower()  # noqa: E731
    return norm(a) == norm(b)
