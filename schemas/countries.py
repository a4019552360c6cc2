"""Contract of the `countries` feed: the countries figures and plants refer to."""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series

from schemas.base import FeedModel, key_text


class CountriesModel(FeedModel):
    """One row per country, with its ISO code and UN M49 sub-region."""

    country: Series[str] = pa.Field(unique=True, str_length={"min_value": 1}, description="Country name as the other feeds write it.")
    iso2: Series[str] = pa.Field(unique=True, str_matches=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code.")
    region: Series[str] = pa.Field(str_length={"min_value": 1}, description="UN M49 sub-region (South-eastern Asia, South America, ...).")
    keys_clean = key_text("country")
