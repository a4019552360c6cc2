"""The contract of every feed: one pandera DataFrameModel per feed.

`FEEDS` names every feed's model. Each model declares the feeds whose valid rows its rules read
(`references()`); `validation_order` derives from those the order in which the feeds are validated,
so the order of `FEEDS` itself means nothing.
"""

import graphlib

from schemas.brands import BrandsModel
from schemas.countries import CountriesModel
from schemas.figures import ExportsModel, SalesModel
from schemas.plant_launches import PlantLaunchesModel
from schemas.references import ReferenceData
from schemas.sources import SourcesModel

FEEDS = {
    "sources": SourcesModel,
    "countries": CountriesModel,
    "brands": BrandsModel,
    "sales": SalesModel,
    "exports": ExportsModel,
    "plant_launches": PlantLaunchesModel,
}


def validation_order(feeds: dict[str, type] | None = None) -> list[str]:
    """The feeds in an order where each comes after the feeds it references; ties by name, so the
    order is the same however `feeds` is ordered. Raises graphlib.CycleError on a circle."""
    feeds = FEEDS if feeds is None else feeds
    graph = graphlib.TopologicalSorter({feed: set(model.references()) for feed, model in feeds.items()})
    graph.prepare()
    order = []
    while graph.is_active():
        ready = sorted(graph.get_ready())
        order += ready
        graph.done(*ready)
    return order


__all__ = [
    "FEEDS",
    "BrandsModel",
    "CountriesModel",
    "ExportsModel",
    "PlantLaunchesModel",
    "ReferenceData",
    "SalesModel",
    "SourcesModel",
    "validation_order",
]
