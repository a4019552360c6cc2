"""How a figure is written in a quote: the quote's number tokens, so a rule can tell it really holds the figure.

A quote is read as a sequence of whole number tokens, each as the source writes it: grouped or
plain digits ("1,543,069", "1543069"), optionally with a decimal part and a scale word
("4.91 million"), or a percentage ("11.1%", "11.1 percent", "11.1 per cent"). A token is never part
of a longer number: in "1,543,069" there is one token, 1,543,069, and no 543,069; "111.1%" holds no
11.1%. A figure is in the quote when it equals one token's value:

- units (and a plant's capacity) equal a token that is not a percentage: 4910000 is "4.91 million"
  or "4,910,000", never "4.9 million" (a rounding) or the "910,000" inside a longer number;
- a growth rate equals a percentage token with its sign: an explicit "+" or "-" before the number,
  else the direction word nearest to it in its sentence ("increase", "up", "rise", "jump", "grew",
  "surged", ... give +; "decrease", "down", "fell", "drop", "decline", ... give -), else + (a rate
  written plainly is growth). So 11.1 passes "an 11.1% increase", -11.1 passes "down 11.1%", and
  neither 1.1 nor -11.1 passes "an 11.1% increase".

The same tokens say how precisely a source wrote a figure (`written_step`): the unit of its last
written digit, which makes an approximate figure a range (issue 20).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal

_SCALES = {"thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}

# A number as written: grouped digits ("1,543,069") or plain ones, an optional decimal part, then
# optionally a scale word or a percent sign/word. The look-arounds keep it whole: not preceded by
# a word character or by a digit and a separator, not followed by more digits.
_TOKEN = re.compile(
    r"(?<![\w])(?<![0-9][.,])"
    r"(?P<integer>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<decimals>[0-9]+))?"
    r"(?![0-9])(?!,[0-9])(?!\.[0-9])"
    r"(?:(?P<percent>\s?%|\s+per\s?cent\b)|(?:\s+|-)(?P<scale>thousand|million|billion)\b)?",
    re.IGNORECASE,
)
_SIGNS = {"+": 1, "-": -1, "\u2212": -1}  # U+2212 is the typographic minus sign
_WORD = re.compile(r"[a-z]+", re.IGNORECASE)
_POSITIVE = re.compile(r"^(increas\w*|up|ris(e|es|ing|en)|rose|jump\w*|gr[eo]w\w*|surg\w*|gain\w*|climb\w*|soar\w*|higher|expan\w*)$")
_NEGATIVE = re.compile(r"^(decreas\w*|down|f[ae]ll\w*|drop\w*|declin\w*|slump\w*|plung\w*|shr[aiu]nk\w*|lower|dip|dipped|contract\w*)$")
_SENTENCE_END = re.compile(r"[.;!?](?=\s|$)")


@dataclass(frozen=True)
class NumberToken:
    """One number of a quote, whole, as the source wrote it."""

    text: str  # as written: "4.91 million", "11.1%"
    value: Decimal  # what it says: 4910000, 11.1 (a percentage is its number of percent, unsigned)
    step: Decimal  # the unit of its last written digit: 10000 for "4.91 million", 100000 for "800,000"
    percent: bool
    sign: int  # +1 or -1: a percentage's direction (explicit sign or the words); +1 for other numbers
    start: int
    end: int


def number_tokens(quote: str) -> list[NumberToken]:
    """Every whole number token of `quote`, in order."""
    tokens = []
    for match in _TOKEN.finditer(quote):
        integer, decimals = match["integer"].replace(",", ""), match["decimals"] or ""
        number = Decimal(f"{integer}.{decimals}" if decimals else integer)
        scale = _SCALES[match["scale"].lower()] if match["scale"] else 1
        if decimals or match["scale"]:
            step = Decimal(scale) * Decimal(1).scaleb(-len(decimals))
        else:
            step = Decimal(10) ** (len(integer) - len(integer.rstrip("0"))) if integer.strip("0") else Decimal(1)
        percent = match["percent"] is not None
        tokens.append(
            NumberToken(
                text=match[0],
                value=number * scale,
                step=step,
                percent=percent,
                sign=_direction(quote, match.start(), match.end()) if percent else 1,
                start=match.start(),
                end=match.end(),
            )
        )
    return tokens


def _direction(quote: str, start: int, end: int) -> int:
    """The sign of a percentage at quote[start:end]: an explicit sign, else the nearest direction word of its sentence."""
    before = quote[start - 1] if start else ""
    if before in _SIGNS and (start < 2 or not quote[start - 2].isalnum()):
        return _SIGNS[before]
    sentence_start = max((m.end() for m in _SENTENCE_END.finditer(quote, 0, start)), default=0)
    following_end = _SENTENCE_END.search(quote, end)
    sentence_end = following_end.start() if following_end else len(quote)
    nearest: tuple[int, int] | None = None  # (distance, sign); ties go to the word before
    for word in _WORD.finditer(quote, sentence_start, sentence_end):
        text = word[0].lower()
        sign = 1 if _POSITIVE.match(text) else -1 if _NEGATIVE.match(text) else 0
        if not sign:
            continue
        distance = start - word.end() if word.end() <= start else word.start() - end
        if nearest is None or distance < nearest[0]:
            nearest = (distance, sign)
    return nearest[1] if nearest else 1


def units_token(quote: object, units: int) -> NumberToken | None:
    """The token of `quote` that writes `units` (the most precise one, when several do), or None."""
    if not isinstance(quote, str):
        return None
    matching = [token for token in number_tokens(quote) if not token.percent and token.value == units]
    return min(matching, key=lambda token: token.step, default=None)


def quote_has_units(quote: object, units: int) -> bool:
    """True when there is nothing to check (no quote) or a whole non-percentage token of the quote equals `units`."""
    return not isinstance(quote, str) or units_token(quote, units) is not None


def quote_has_percent(quote: object, pct: float) -> bool:
    """True when there is nothing to check (no quote) or a percentage token, with its sign, equals `pct`."""
    if not isinstance(quote, str):
        return True
    wanted = Decimal(repr(float(pct)))
    for token in number_tokens(quote):
        if token.percent and token.value == abs(wanted) and (wanted == 0 or token.sign == (1 if wanted > 0 else -1)):
            return True
    return False


def written_step(units: int, quote: object = None) -> int:
    """The unit of the last digit a source wrote `units` with: from the quote's token when it has one, else the trailing zeros.

    "4.91 million" -> 10,000; "1.2 million" -> 100,000; "1,199,590" -> 10; 1200000 with no quote -> 100,000.
    An approximate figure stands for units +/- half of it.
    """
    token = units_token(quote, units)
    if token is not None:
        return int(token.step)
    if units <= 0:
        return 1
    return 10 ** (len(str(units)) - len(str(units).rstrip("0")))


def approx_bounds(units: int, qualifier: str | None, quote: object = None) -> tuple[float, float]:
    """The range of values a figure stands for: exact [u, u]; approx u +/- half its written step; at_least [u, inf)."""
    if qualifier == "approx":
        half = written_step(units, quote) / 2
        return units - half, units + half
    if qualifier == "at_least":
        return float(units), math.inf
    return float(units), float(units)
