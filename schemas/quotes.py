"""How a figure may be written in a quote, so a rule can tell the quote really contains it.

Sources write 1543069 as "1,543,069", 4910000 as "4.91 million" and 11.1% as "11.1%" or
"11.1 percent". A quote passes when it contains one of the ways of writing each figure.
"""

from __future__ import annotations

_SCALES = ((1_000_000_000, "billion"), (1_000_000, "million"), (1_000, "thousand"))


def unit_renderings(units: int) -> set[str]:
    """Ways a source writes a unit count: grouped digits, plain digits, or 'N.NN million'."""
    forms = {f"{units:,}", str(units)}
    for scale, word in _SCALES:
        if units >= scale:
            for decimals in range(4):
                text = f"{units / scale:.{decimals}f}"
                if round(float(text) * scale) == units:
                    forms.add(f"{text} {word}")
                    break
    return forms


def percent_renderings(pct: float) -> set[str]:
    """Ways a source writes a growth rate; the sign is in the words ('down 5%'), so absolute."""
    forms = set()
    for number in {f"{abs(pct):g}", f"{abs(pct):.1f}"}:
        forms |= {f"{number}%", f"{number} %", f"{number} percent", f"{number} per cent"}
    return forms


def quote_contains(quote: object, forms: set[str]) -> bool:
    """True when there is nothing to check (no quote) or the quote contains one of `forms`."""
    if not isinstance(quote, str):
        return True
    return any(form in quote for form in forms)
