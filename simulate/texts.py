"""Ids and item texts shaped like the platforms' own, derived from numbers so they are repeatable.

Ids come from a keyed 64-bit mix (splitmix64) of a row's numbers, so the same seed gives the
same ids without keeping a table of them, and chunked writing cannot change them.
"""

from __future__ import annotations

import numpy as np

ALPHABET36 = np.array(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
HEX = np.array(list("0123456789abcdef"))


def mix64(*parts: np.ndarray | int) -> np.ndarray:
    """A well-spread uint64 per row from integer columns (splitmix64 over their combination)."""
    with np.errstate(over="ignore"):
        z = np.uint64(0x9E3779B97F4A7C15)
        for part in parts:
            z = z ^ np.asarray(part).astype(np.uint64)
            z = z + np.uint64(0x9E3779B97F4A7C15)
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            z = z ^ (z >> np.uint64(31))
        return np.atleast_1d(z)


def encode(values: np.ndarray, width: int, alphabet: np.ndarray = ALPHABET36) -> np.ndarray:
    """Fixed-width strings of uint64 values in the given alphabet (most significant first)."""
    values = values.astype(np.uint64).copy()
    base = np.uint64(len(alphabet))
    digits = np.empty((len(values), width), dtype=alphabet.dtype)
    for col in range(width - 1, -1, -1):
        digits[:, col] = alphabet[(values % base).astype(np.int64)]
        values //= base
    return digits.view(f"<U{width}").ravel() if len(values) else np.array([], dtype=str)


def token(width: int, *parts: np.ndarray | int, alphabet: np.ndarray = ALPHABET36) -> np.ndarray:
    """An id of `width` characters derived from integer columns (12 characters per 64 bits)."""
    joined = encode(mix64(0, *parts), 12, alphabet)
    for salt in range(1, -(-width // 12)):
        joined = np.char.add(joined, encode(mix64(salt, *parts), 12, alphabet))
    return joined.astype(f"<U{width}")


SUBJECTS = (
    "the new update", "my order", "this weather", "the game last night", "my landlord",
    "the bus", "our team", "the ending", "this price", "my phone", "the meeting", "the concert",
)  # fmt: skip
EMOTION_PHRASES = {
    "anger": ("is a total disgrace", "makes me furious", "ruined my whole day"),
    "fear": ("has me really worried", "scares me a bit", "keeps me up at night"),
    "joy": ("made my day", "is just wonderful", "has me smiling"),
    "sadness": ("broke my heart", "leaves me so down", "is really sad news"),
    "surprise": ("came out of nowhere", "is not what I expected", "wow, did not see that"),
    "neutral": ("is on at 5pm", "was posted today", "comes in blue and grey"),
}
SENTIMENT_PHRASES = {
    "positive": ("works great, would buy again", "excellent value", "fast delivery, love it"),
    "negative": ("broke after a week", "waste of money", "never arrived, no refund"),
    "neutral": ("arrived on Tuesday", "it is a charger", "same as the old one"),
}
INTENT_PHRASES = {
    "billing": ("I was charged twice this month", "how do I get a refund for my invoice"),
    "bug": ("the app crashes when I upload a file", "export button does nothing"),
    "account": ("I cannot log in to my account", "please change my e-mail address"),
    "feature_request": ("could you add dark mode", "please support CSV import"),
    "other": ("who can I talk to about a partnership", "just saying thanks"),
}
TOXIC_PHRASES = {
    "toxic": ("you are an idiot and everyone knows it", "shut up, nobody wants you here"),
    "not_toxic": ("that game was wild last night", "we finna head out after class"),
}
QUERIES = ("cheap flights", "python tutorial", "vegan recipes", "laptop battery", "tax forms")


def texts(kind: str, classes: tuple[str, ...], truth: np.ndarray, ids: np.ndarray) -> list[str]:
    """A short text per item that fits its true class, varied by the item's id."""
    picks = (ids % np.uint64(997)).astype(np.int64)
    if kind == "relevance":
        return [
            f"Query: {QUERIES[p % len(QUERIES)]} | Result #{p}: page about "
            f"{QUERIES[(p + t) % len(QUERIES)]}"
            for p, t in zip(picks.tolist(), truth.tolist(), strict=True)
        ]
    if kind == "abstract-screening":
        return [
            f"Abstract {p}: a {'randomised' if t == 0 else 'retrospective'} study of "
            f"{SUBJECTS[p % len(SUBJECTS)]} in {40 + p % 300} participants."
            for p, t in zip(picks.tolist(), truth.tolist(), strict=True)
        ]
    table = {
        "tweet-emotion": EMOTION_PHRASES,
        "sentiment": SENTIMENT_PHRASES,
        "support-intent": INTENT_PHRASES,
        "toxicity": TOXIC_PHRASES,
    }[kind]
    out = []
    for p, t in zip(picks.tolist(), truth.tolist(), strict=True):
        phrases = table[classes[t]]
        out.append(f"{SUBJECTS[p % len(SUBJECTS)]} {phrases[p % len(phrases)]} #{p}")
    return out
