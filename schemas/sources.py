"""Contract of the `sources` feed: where every figure comes from."""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import DateTime, Series

from schemas.base import FeedModel


class SourcesModel(FeedModel):
    """One row per source: an article under ../shared/sources (`document`) or a web page (`url`)."""

    source_id: Series[str] = pa.Field(
        unique=True, str_matches=r"^[a-z0-9_]+$", description="Stable id other feeds cite (lowercase, digits, underscores)."
    )
    title: Series[str] = pa.Field(nullable=True, description="Title of the article or page; required for documents.")
    publisher: Series[str] = pa.Field(nullable=True, description="Who published it (for pages: the site), when known.")
    published_on: Series[DateTime] = pa.Field(nullable=True, description="Publication date, when the source states it.")
    document: Series[str] = pa.Field(
        nullable=True,
        str_matches=r"^[^/\\]+\.txt$",
        description="File name of the article under ../shared/sources, or empty for a web page.",
    )
    url: Series[str] = pa.Field(nullable=True, str_matches=r"^https?://\S+$", description="Address of the page, or empty.")

    @classmethod
    def sql_rules(cls) -> dict[str, str]:
        return {
            "document_or_url": "document is not null or url is not null",
            "document_has_title": "document is null or title is not null",
        }

    @pa.dataframe_check(name="document_or_url", error="a source needs a document or a url")
    def document_or_url(cls, df):
        return df["document"].notna() | df["url"].notna()

    @pa.dataframe_check(name="document_has_title", error="a document source needs a title")
    def document_has_title(cls, df):
        return df["document"].isna() | df["title"].notna()
