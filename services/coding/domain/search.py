"""ICD-10-CM code search for the workbench: by code prefix or by words of the title.

The index is built once, on the first search, over every category and subcategory. Codes get
a static rank (billable first, then shorter titles, then classification order) and ids in that
order, so a query only has to intersect posting sets and keep the smallest ids.
"""

from __future__ import annotations

import bisect
import heapq
import re
import threading
import unicodedata
from collections import defaultdict
from dataclasses import dataclass

from services.coding.domain import icd10cm

MAX_LIMIT = 100
_STOPWORDS = frozenset({"a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the"})
_CODE_QUERY = re.compile(r"[A-Z][0-9][0-9A-Z]?(?:\.?[0-9A-Z]{0,4})?")
_PREFIX_WORDS = 40  # how many vocabulary words a partly typed last word may stand for


@dataclass(frozen=True, slots=True)
class SearchHit:
    code: str
    description: str
    billable: bool


def tokenize(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    folded = re.sub(r"'s\b", "", folded)
    return [word for word in re.findall(r"[a-z0-9]+", folded) if word not in _STOPWORDS]


class CodeIndex:
    def __init__(self, entries: list[tuple[str, str, bool, list[str]]]) -> None:
        """`entries`: (code, title, billable, inclusion terms) in classification order."""
        ranked = sorted(
            range(len(entries)),
            key=lambda i: (not entries[i][2], len(entries[i][1]), i),
        )
        self.codes = [entries[i][0] for i in ranked]
        self.titles = [entries[i][1] for i in ranked]
        self.billable = [entries[i][2] for i in ranked]
        self.by_bare = {code.replace(".", ""): rank for rank, code in enumerate(self.codes)}
        # Bare codes sorted, per (billable, length), for ranked prefix scans.
        self._prefix_lists: dict[tuple[bool, int], list[str]] = defaultdict(list)
        for bare, rank in sorted(self.by_bare.items()):
            self._prefix_lists[(self.billable[rank], len(bare))].append(bare)
        self._title_words: dict[str, set[int]] = defaultdict(set)
        self._term_words: dict[str, set[int]] = defaultdict(set)
        for rank, i in enumerate(ranked):
            for word in tokenize(entries[i][1]):
                self._title_words[word].add(rank)
            for term in entries[i][3]:
                for word in tokenize(term):
                    self._term_words[word].add(rank)
        self._vocabulary = sorted(set(self._title_words) | set(self._term_words))

    def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        limit = max(1, min(limit, MAX_LIMIT))
        ranks: list[int] = []
        code_query = "".join(query.split()).upper()
        if _CODE_QUERY.fullmatch(code_query):
            ranks = self._by_code_prefix(code_query.replace(".", ""), limit)
        if len(ranks) < limit:
            for rank in self._by_words(query, limit):
                if rank not in ranks:
                    ranks.append(rank)
                    if len(ranks) == limit:
                        break
        return [SearchHit(self.codes[r], self.titles[r], self.billable[r]) for r in ranks]

    def _by_code_prefix(self, prefix: str, limit: int) -> list[int]:
        ranks = [self.by_bare[prefix]] if prefix in self.by_bare else []
        for billable in (True, False):
            for length in range(max(3, len(prefix)), 8):
                codes = self._prefix_lists.get((billable, length), [])
                start = bisect.bisect_left(codes, prefix)
                for bare in codes[start : start + limit]:
                    if not bare.startswith(prefix) or len(ranks) >= limit:
                        break
                    if bare != prefix:
                        ranks.append(self.by_bare[bare])
                if len(ranks) >= limit:
                    return ranks
        return ranks

    def _by_words(self, query: str, limit: int) -> list[int]:
        words = tokenize(query)
        if not words:
            return []
        found = self._matching(words, self._title_words)
        best = heapq.nsmallest(limit, found)
        if len(best) < limit:
            # Then codes matched only through their inclusion terms ("Asthma NOS" -> J45.909).
            merged = {word: self._title_words.get(word, set()) | self._term_words.get(word, set())
                      for word in words}  # fmt: skip
            extra = self._matching(words, merged) - found
            best.extend(heapq.nsmallest(limit - len(best), extra))
        return best

    def _matching(self, words: list[str], postings: dict[str, set[int]]) -> set[int]:
        *complete, last = words
        sets = [postings.get(word, set()) for word in complete]
        sets.append(self._last_word(last, postings))
        sets.sort(key=len)
        if not sets[0]:
            return set()
        return sets[0].intersection(*sets[1:])

    def _last_word(self, word: str, postings: dict[str, set[int]]) -> set[int]:
        """The last word may be partly typed: "diab" also finds diabetes and diabetic."""
        if len(word) < 3 or word.isdigit():
            return postings.get(word, set())
        start = bisect.bisect_left(self._vocabulary, word)
        matches: set[int] = set()
        for candidate in self._vocabulary[start : start + _PREFIX_WORDS]:
            if not candidate.startswith(word):
                break
            matches |= postings.get(candidate, set())
        return matches


_index: CodeIndex | None = None
_lock = threading.Lock()


def code_index() -> CodeIndex:
    """The ICD-10-CM search index, built on first use (loads the classification if needed)."""
    global _index
    if _index is None:
        with _lock:
            if _index is None:
                cm = icd10cm.library()
                entries = [
                    (code, str(cm.get_description(code)), bool(cm.is_leaf(code)),
                     list(cm.get_inclusion_term(code)))
                    for code in icd10cm.all_codes()
                ]  # fmt: skip
                _index = CodeIndex(entries)
    return _index


def search_codes(query: str, limit: int = 20) -> list[SearchHit]:
    """Codes for a query such as "E11.9", "s72.00", "type 2 diabetes" or "diab neuropathy".

    Exact code first, then longer codes under a typed prefix (billable and shorter first);
    for words, codes whose title holds every word (the last may be partly typed), billable and
    shorter titles first, then codes matched through their inclusion terms.
    """
    return code_index().search(query, limit)
