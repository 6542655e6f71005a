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
    r"(?:(?:(?<=[.!?…\"”’)»:])|^|\s[-–](?=\s))\s*(?:(?:Tin|Bài)\s*(?:,|-|và)?\s*ảnh|ảnh|Clip|Nguồn\s*ảnh)"
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
_AGENCY_END = re.compile(r"(?:^|/)[A-ZĐ0-9.\-]{2,}$")  # "TTXVN", "Trọng Đức/TTXVN": the credit ends there
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
                if (run and token in _SENTENCE_STARTS) or (not _credit_token(token.rstrip(").")) and "/" not in token):
                    break
                run.append(word)
                if _DOMAIN.match(token):  # "news.com.au." ends the credit
                    break
                if (token.endswith((".", ")")) and len(token) > 2) or _AGENCY_END.search(token):
                    ended = True
                    break
            if not run:
                continue
            if not ended and len(run) < len(words):
                nxt = words[len(run)].group(0)
                if not nxt[0].isupper():  # a lowercase word follows: the last capitalised one starts a sentence
                    run = run[:-1]
                    single = run[0].group(0).rstrip(".,") if len(run) == 1 else ""
                    if not run or (
                        single and not (single.isupper() or _DOMAIN.match(single) or _INITIALS.match(single))
                    ):
                        continue  # "Ảnh: Sài Gòn giải phóng", "Ảnh: Khoa học ...": unsure, leave it
                if len(run) >= 5:
                    continue  # too long to be a name: leave it
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
        para = self.sub("html_residue", _HREF, para, " ")
        para = self.sub("photo_caption", _PAREN_PHOTO, para, "")
        para = self.sub("photo_caption", _PHOTO_ILLUSTRATIVE, para)
        para = self.photo_credits(para)
        para = self.sub("compiled", _COMPILED, para, "")
        para = self.sub("video_label", _VIDEO_LABEL, para)
        if "|" in para:  # cheap guard: the pattern is slow to try at every position
            para = self.sub("related", _RELATED, para, "")
        if "Xem" in para:
            para = self.sub("see_also", _SEE_ALSO, para)
        para = self.sub("arrows", _ARROWS, para, "")
        return re.sub(r"\s{2,}", " ", para).strip()

    def tail(self, para: str) -> str:
        """Take attributions and a byline off the end of the last paragraph, into metadata."""
        res = self.result
        for _ in range(4):
            match = re.search(r"\s*\(\s*[Tt]heo\s+([^()]{2,60})\)\s*\.?$", para)
            if match and res.source_credit is None:
                res.source_credit = match.group(1).strip()
                self.note("source_credit", match.group(0))
                para = para[: match.start()].rstrip()
                continue
            match = re.search(r"(?:(?<=[.!?…\"”)])\s+|^)(\S(?:[^.!?…\"”\s]|\s(?!\s)|[.](?=\S)){0,60}?)\s*$", para)
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
                match = re.search(re.escape(tail) + r"\s*$", para)
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
