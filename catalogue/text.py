"""Text normalisation shared by the commune index and the search box."""

import re
import unicodedata

_NON_WORD = re.compile(r"[^a-z0-9]+")


def strip_accents(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def normalize(value: str) -> str:
    """« Saint-Étienne-du-Rouvray » → « saint etienne du rouvray »; « L'Haÿ » → « l hay »."""
    return _NON_WORD.sub(" ", strip_accents(value or "").lower().replace("œ", "oe").replace("æ", "ae")).strip()


def words(value: str, *, limit: int = 8) -> list[str]:
    """The searchable words of a query, in order, without duplicates."""
    seen: list[str] = []
    for word in normalize(value).split():
        if len(word) >= 2 and word not in seen:
            seen.append(word)
    return seen[:limit]
