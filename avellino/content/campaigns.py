"""Near-duplicate posts as one campaign: MinHash signatures and LSH (``datasketch``), then connected components.

One advert reposted by many accounts, with an emoji changed, a word dropped or the phone written another way, is
one case with the accounts behind it. A post's text is normalised (digits of any script and emoji keycaps as ASCII,
lower case, emoji and punctuation dropped, spaces collapsed) and cut into character 5-grams; LSH finds the pairs
whose estimated Jaccard similarity passes ``threshold`` and the pairs are joined transitively (union-find).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from avellino.content.selectors import normalise_digits

NUM_PERM = 128
SHINGLE = 5
NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def shingles(text: str, k: int = SHINGLE) -> set[bytes]:
    norm = NON_WORD.sub(" ", normalise_digits(text).lower()).strip()
    if len(norm) <= k:
        return {norm.encode()}
    return {norm[i : i + k].encode() for i in range(len(norm) - k + 1)}


@dataclass(frozen=True)
class Campaign:
    id: str
    members: list[int]  # indexes into the posts given


def cluster(texts: Sequence[str], threshold: float = 0.6, seed: int = 1) -> list[Campaign]:
    """Campaigns of two or more posts, largest first; a post like no other is in none."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    sigs = []
    for i, text in enumerate(texts):
        m = MinHash(num_perm=NUM_PERM, seed=seed)
        m.update_batch(list(shingles(text)))
        sigs.append(m)
        lsh.insert(i, m)
    parent = list(range(len(texts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, m in enumerate(sigs):
        for j in lsh.query(m):
            if j != i and m.jaccard(sigs[j]) >= threshold:
                a, b = find(i), find(j)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for i in range(len(texts)):
        groups.setdefault(find(i), []).append(i)
    multi = sorted((g for g in groups.values() if len(g) > 1), key=lambda g: (-len(g), g[0]))
    return [Campaign(f"campaign-{n + 1}", g) for n, g in enumerate(multi)]


def purity_completeness(truth: Sequence[str | None], campaigns: list[Campaign]) -> dict[str, float]:
    """Purity: in the found campaigns holding any post of a true campaign, the share of posts that belong to
    that found campaign's majority true campaign (a background post counts against it). Completeness: of the posts
    of true campaigns, the share found in the largest found campaign of their true one. Found campaigns of
    background posts only (truth None) are counted apart: the generator's background repeats its phrase banks
    word for word, and grouping identical posts is right even when nobody planned them as one campaign."""
    found_of: dict[int, str] = {i: c.id for c in campaigns for i in c.members}
    pure = total = background = 0
    for c in campaigns:
        if all(truth[i] is None for i in c.members):
            background += 1
            continue
        counts = Counter(truth[i] if truth[i] is not None else f"background-{i}" for i in c.members)
        pure += counts.most_common(1)[0][1]
        total += len(c.members)
    by_truth: dict[str, list[int]] = {}
    for i, t in enumerate(truth):
        if t is not None:
            by_truth.setdefault(t, []).append(i)
    complete = members = 0
    for idx in by_truth.values():
        counts = Counter(found_of.get(i, f"alone-{i}") for i in idx)
        complete += counts.most_common(1)[0][1]
        members += len(idx)
    return {
        "purity": round(pure / total, 4) if total else 1.0,
        "completeness": round(complete / members, 4) if members else 1.0,
        "true_campaigns": len(by_truth),
        "found_campaigns": len(campaigns) - background,
        "background_groups": background,
    }
