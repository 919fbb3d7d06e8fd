"""Tiered hints, kept out of the notebooks: ``hint("2.4")`` prints the next tier.

The first tier names the idea, the second the tool, the last points to the
documentation.  None contains the code of the answer.
"""

HINTS = {
    "2.1": [
        "select() already knows how to wait at most a given time: you do not need a clock, a loop or a sleep.",
        "Watch only for reading, pass the timeout through, and look at whether the first list it returns is "
        "empty. Return a real bool.",
        "https://docs.python.org/3/library/select.html#select.select",
    ],
}

_shown = {}


def hint(label, tier=None):
    """Print hint number ``tier`` (1, 2, ...) of exercise ``label``; without ``tier``, the next one."""
    tiers = HINTS.get(str(label))
    if not tiers:
        print(f"No hints for exercise {label}.")
        return
    if tier is None:
        tier = min(_shown.get(label, 0) + 1, len(tiers))
    tier = max(1, min(int(tier), len(tiers)))
    _shown[label] = tier
    more = f" (hint({label!r}) again for hint {tier + 1} of {len(tiers)})" if tier < len(tiers) else " (the last one)"
    print(f"Hint {tier} for exercise {label}{more}:\n  {tiers[tier - 1]}")
