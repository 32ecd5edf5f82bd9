"""Code-set bench: load cost, encounter validation time and code search latency.

Run with `python -m bench.codes`. Every figure is measured in this run, on this machine; the
ceilings (a bare dict lookup, the library's own is_valid_item) are measured alongside.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.coding.domain.search import CodeIndex

SEED = 20260401
ENCOUNTERS = 500
SEARCHES = 10_000


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        resident_pages = int(statm.read().split()[1])
    return resident_pages * 4096 / 2**20


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def percentiles(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p50 = ordered[len(ordered) // 2] * 1e3
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e3
    mean = statistics.fmean(ordered) * 1e3
    return f"mean {mean:.3f} ms  p50 {p50:.3f} ms  p99 {p99:.3f} ms  max {ordered[-1] * 1e3:.3f} ms"


def main() -> None:
    rss0 = rss_mb()
    import_s = timed(lambda: __import__("services.coding.domain"))
    from services.coding.domain import icd10cm, search, validate_encounter
    from services.coding.domain.codesets import NO_TABLES

    rss1 = rss_mb()
    load_s = timed(icd10cm.library)
    rss2 = rss_mb()
    index_s = timed(search.code_index)
    rss3 = rss_mb()
    print(f"ICD-10-CM release: {icd10cm.release()} (simple_icd_10_cm)")
    print(f"import services.coding.domain: {import_s * 1e3:.1f} ms, RSS +{rss1 - rss0:.1f} MB")
    print(f"code-set load (first use):     {load_s:.2f} s, RSS +{rss2 - rss1:.1f} MB")
    print(f"search index build:            {index_s:.2f} s, RSS +{rss3 - rss2:.1f} MB")

    rng = random.Random(SEED)
    index = search.code_index()
    billable = [code for code, ok in zip(index.codes, index.billable, strict=True) if ok]
    # Clean 20-code encounters: drawn at random, then kept only if they raise no finding, so
    # the timing covers every check and not an early exit.
    encounters: list[dict[str, object]] = []
    while len(encounters) < ENCOUNTERS:
        codes = rng.sample(billable, 20)
        doc: dict[str, object] = {
            "encounter_class": "outpatient",
            "patient": {"sex": "U", "age": 50},
            "diagnoses": [{"code": code} for code in codes],
            "procedures": [{"code": "99214", "modifiers": ["25"], "dx_pointers": [1, 2]}],
        }
        if validate_encounter(doc, tables=NO_TABLES).valid:
            encounters.append(doc)
    icd10cm.check_code.cache_clear()
    icd10cm.lineage.cache_clear()
    icd10cm.excludes1_notes.cache_clear()
    icd10cm.code_first_notes.cache_clear()
    icd10cm._excludes1_by_letter.cache_clear()
    cold = [timed(partial(validate_encounter, doc, tables=NO_TABLES)) for doc in encounters]
    warm = [
        timed(partial(validate_encounter, doc, tables=NO_TABLES))
        for _ in range(4)
        for doc in encounters
    ]
    print(f"\nvalidate 20-code encounter, {ENCOUNTERS} distinct encounters")
    print(f"  first sight (cold caches): {percentiles(cold)}")
    print(f"  repeat ({len(warm)} runs):       {percentiles(warm)}")

    queries = make_queries(rng, index)
    latencies = [timed(partial(search.search_codes, q)) for q in queries]
    hits = sum(1 for q in queries[:1000] if search.search_codes(q))
    print(f"\nsearch_codes, {len(queries)} queries (code prefixes and words), limit 20")
    print(f"  {percentiles(latencies)}  ({hits / 10:.0f}% of the first 1000 return codes)")

    import simple_icd_10_cm as cm

    table = {code: i for i, code in enumerate(index.codes)}
    probes = [rng.choice(index.codes) for _ in range(len(queries))]
    dict_s = timed(lambda: [table.get(p) for p in probes])
    lib_s = timed(lambda: [cm.is_valid_item(p) for p in probes])
    per = len(probes)
    print("  ceilings for the same number of calls:")
    print(f"    bare dict lookup:          {dict_s / per * 1e6:.3f} us/call, {dict_s * 1e3:.1f} ms")
    print(f"    library is_valid_item:     {lib_s / per * 1e6:.3f} us/call, {lib_s * 1e3:.1f} ms")
    print(f"    search_codes (this run):   {sum(latencies) / per * 1e6:.1f} us/call")


def make_queries(rng: random.Random, index: CodeIndex) -> list[str]:
    """Half code prefixes (3-7 characters, dotted or not), half 1-3 title words, the last
    word sometimes cut short as if still being typed."""
    from services.coding.domain.search import tokenize

    queries = []
    for i in range(SEARCHES):
        rank = rng.randrange(len(index.codes))
        if i % 2 == 0:
            code = index.codes[rank]
            cut = rng.randint(3, len(code))
            query = code[:cut]
            queries.append(query.lower() if rng.random() < 0.3 else query.replace(".", ""))
        else:
            words = tokenize(index.titles[rank])
            start = rng.randrange(len(words))
            chosen = words[start : start + rng.randint(1, 3)]
            if len(chosen[-1]) > 4 and rng.random() < 0.5:
                chosen[-1] = chosen[-1][: rng.randint(3, len(chosen[-1]) - 1)]
            queries.append(" ".join(chosen))
    return queries


if __name__ == "__main__":
    main()
