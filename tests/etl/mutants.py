"""A seeded mutator over real export files: the hostile inputs the fuzz test feeds the importers.

Each kind takes the original bytes and a `random.Random` and returns a mutant. They cover what
an attack on the ingest found (deep nesting, integers over 4,300 digits, CR-only line ends, a
field over 131,072 characters, dates in year 0 or 10000, 100,000 column names) and the damage
real files suffer (cut short, bytes flipped, lines lost, another encoding, a BOM).
`mutants(data, seed, n)` yields `(kind, bytes)` pairs; the same seed gives the same mutants.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator

Mutation = Callable[[bytes, random.Random], bytes]
DATE = re.compile(rb"\b(19|20)\d\d-\d\d-\d\d")
STAMP = re.compile(rb"\b(19|20)\d\d-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?")
NUMBER = re.compile(rb"(?<![\w.])\d{1,9}(?![\w.])")
VALUE = re.compile(rb'"[^"\n]{1,40}"')


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def _some_line(data: bytes, rng: random.Random, change: Callable[[bytes], bytes]) -> bytes:
    lines = _lines(data)
    if not lines:
        return change(data)
    at = rng.randrange(len(lines))
    lines[at] = change(lines[at])
    return b"".join(lines)


def _replace_one(pattern: re.Pattern, data: bytes, rng: random.Random, new: bytes) -> bytes:
    found = list(pattern.finditer(data))
    if not found:
        return data + b"\n" + new
    match = rng.choice(found)
    return data[: match.start()] + new + data[match.end() :]


def cut_short(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(1, max(2, len(data)))]


def flip_bytes(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if out:
            out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def nul_bytes(data: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + b"\x00" * rng.randint(1, 4) + data[at:]


def cr_only(data: bytes, rng: random.Random) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r")


def crlf(data: bytes, rng: random.Random) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def cr_in_first_line(data: bytes, rng: random.Random) -> bytes:
    first, _, rest = data.partition(b"\n")
    at = rng.randrange(len(first) + 1)
    return first[:at] + b"\r" + first[at:] + b"\n" + rest


def deep_nesting(data: bytes, rng: random.Random) -> bytes:
    depth = rng.choice([1_000, 20_000, 100_000])
    nest = b"[" * depth + b"1" + b"]" * depth
    if data.lstrip()[:1] in (b"[", b"{"):
        return _replace_one(VALUE, data, rng, nest)
    return nest + b"\n" + data


def deep_nesting_document(data: bytes, rng: random.Random) -> bytes:
    depth = rng.choice([5_000, 50_000])
    return b'{"a":' * depth + b"1" + b"}" * depth


def huge_integer(data: bytes, rng: random.Random) -> bytes:
    return _replace_one(NUMBER, data, rng, b"9" * rng.choice([4_400, 20_000]))


def long_field(data: bytes, rng: random.Random) -> bytes:
    size = rng.choice([140_000, 300_000])
    filler = (b"a" * 50 + b"@example.org ") * (size // 63)
    return (
        _replace_one(VALUE, data, rng, b'"' + filler + b'"')
        if b'"' in data
        else (_some_line(data, rng, lambda line: filler + line))
    )


def extreme_date(data: bytes, rng: random.Random) -> bytes:
    new = rng.choice([b"0000-01-01", b"0001-01-01", b"9999-12-31", b"10000-01-01", b"2999-01-01"])
    found = list(DATE.finditer(data))
    if not found:
        return data
    for match in rng.sample(found, min(len(found), 3)):
        data = data[: match.start()] + new + data[match.start() + 10 :]
    return data


def extreme_instant(data: bytes, rng: random.Random) -> bytes:
    new = rng.choice([b"0001-01-01T00:30:00+05:00", b"9999-12-31T23:30:00-05:00"])
    return _replace_one(STAMP, data, rng, new)


def extreme_number(data: bytes, rng: random.Random) -> bytes:
    new = rng.choice([b"99999999999999999", b"-99999999999", b"1e300", b"-1e300", b"1e20"])
    return _replace_one(NUMBER, data, rng, new)


def many_columns(data: bytes, rng: random.Random) -> bytes:
    count = rng.choice([5_000, 30_000])
    first, _, rest = data.partition(b"\n")
    sep = b"\t" if first.count(b"\t") > first.count(b",") else b","
    extra = sep.join(b"c%d" % i for i in range(count))
    return first + sep + extra + b"\n" + rest


def many_keys(data: bytes, rng: random.Random) -> bytes:
    keys = b",".join(b'"k%d": %d' % (i, i) for i in range(rng.choice([5_000, 30_000])))
    return b"{" + keys + b"}\n" + data


def duplicate_header(data: bytes, rng: random.Random) -> bytes:
    first, _, rest = data.partition(b"\n")
    return first + b"\n" + first + b"\n" + rest


def drop_lines(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    keep = [line for line in lines if rng.random() > 0.2] or lines[:1]
    return b"".join(keep)


def shuffle_lines(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    head, body = lines[:1], lines[1:]
    rng.shuffle(body)
    return b"".join(head + body)


def bom(data: bytes, rng: random.Random) -> bytes:
    return b"\xef\xbb\xbf" + data


def utf16(data: bytes, rng: random.Random) -> bytes:
    return data.decode("utf-8", "replace").encode("utf-16")


def latin1(data: bytes, rng: random.Random) -> bytes:
    return data + "\ncaf\u00e9 na\u00efve\n".encode("latin-1")


def header_only(data: bytes, rng: random.Random) -> bytes:
    return data.partition(b"\n")[0] + b"\n"


def swap_delimiter(data: bytes, rng: random.Random) -> bytes:
    return data.replace(b",", b"\x01").replace(b"\t", b",").replace(b"\x01", b"\t")


def unbalanced_quote(data: bytes, rng: random.Random) -> bytes:
    return _some_line(data, rng, lambda line: b'"' + line)


def missing_field(data: bytes, rng: random.Random) -> bytes:
    def drop(line: bytes) -> bytes:
        for sep in (b"\t", b","):
            parts = line.split(sep)
            if len(parts) > 2:
                del parts[rng.randrange(len(parts))]
                return sep.join(parts)
        return line

    return _some_line(data, rng, drop)


def wrong_types(data: bytes, rng: random.Random) -> bytes:
    new = rng.choice([b"null", b"[]", b"{}", b"true", b"-1", b"1e308", b"NaN", b"Infinity"])
    return _replace_one(VALUE, data, rng, new)


def lone_surrogate(data: bytes, rng: random.Random) -> bytes:
    return _replace_one(VALUE, data, rng, b'"\\ud800x"')


def markup(data: bytes, rng: random.Random) -> bytes:
    payload = rng.choice([b"<script>alert(1)</script>", b'=HYPERLINK("http://x")', b"<a href=x>"])
    return (
        _replace_one(VALUE, data, rng, b'"' + payload + b'"')
        if b'"' in data
        else (_some_line(data, rng, lambda line: payload + line))
    )


def long_line(data: bytes, rng: random.Random) -> bytes:
    return data + b"x" * rng.choice([70_000, 2_000_000])


KINDS: dict[str, Mutation] = {
    fn.__name__: fn
    for fn in (
        cut_short, flip_bytes, nul_bytes, cr_only, crlf, cr_in_first_line, deep_nesting,
        deep_nesting_document, huge_integer, long_field, extreme_date, extreme_instant,
        extreme_number, many_columns, many_keys, duplicate_header, drop_lines, shuffle_lines,
        bom, utf16,
        latin1, header_only, swap_delimiter, unbalanced_quote, missing_field, wrong_types,
        lone_surrogate, markup, long_line,
    )
}  # fmt: skip


def mutants(data: bytes, seed: int, n: int) -> Iterator[tuple[str, bytes]]:
    """`n` mutants of `data`, cycling through every kind, reproducible from `seed`."""
    rng = random.Random(seed)
    names = list(KINDS)
    for i in range(n):
        kind = names[i % len(names)]
        yield kind, KINDS[kind](data, rng)
