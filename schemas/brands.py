"""Contract of the `brands` feed: which group each brand belongs to."""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series

from schemas.base import FeedModel, key_text


class BrandsModel(FeedModel):
    """One row per brand. A group's own name is a brand too when the group sells under it (BYD)."""

    brand: Series[str] = pa.Field(unique=True, str_length={"min_value": 1}, description="Brand name as the sources write it.")
    group_name: Series[str] = pa.Field(str_length={"min_value": 1}, description="The carmaker group that owns the brand.")
    positioning: Series[str] = pa.Field(
        nullable=True, description="What the sources say of the brand (core volume, export-only, premium NEV, ...); empty if nothing."
    )
    keys_clean = key_text("brand", "group_name")
