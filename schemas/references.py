"""The valid rows of the reference feeds, which the other feeds' rules look up (pandera's cross-feed
checks, in pandas; the flow runs the same rules as SQL against raw.<feed>, see schemas/sql.py)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ReferenceData:
    """Keys of the reference feeds' valid rows. Empty until those feeds are validated."""

    source_ids: frozenset[str] = frozenset()
    document_source_ids: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    brand_groups: dict[str, str] = field(default_factory=dict)

    @property
    def groups(self) -> frozenset[str]:
        return frozenset(self.brand_groups.values())
