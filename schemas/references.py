"""The valid rows of the reference feeds, which the other feeds' rules look up."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd


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

    def with_feed(self, feed: str, valid_rows: pd.DataFrame) -> ReferenceData:
        """These references plus what the valid rows of `feed` provide, if it is a reference feed."""
        if feed == "sources":
            documented = valid_rows.loc[valid_rows["document"].notna(), "source_id"]
            return replace(self, source_ids=frozenset(valid_rows["source_id"]), document_source_ids=frozenset(documented))
        if feed == "countries":
            return replace(self, countries=frozenset(valid_rows["country"]))
        if feed == "brands":
            return replace(self, brand_groups=dict(zip(valid_rows["brand"], valid_rows["group_name"], strict=True)))
        return self
