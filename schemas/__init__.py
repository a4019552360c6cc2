"""The contract of every feed: one pandera DataFrameModel per feed.

`FEEDS` lists the feeds in the order they are validated: reference feeds first, because the
figure and plant feeds are checked against their valid rows.
"""

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

__all__ = [
    "FEEDS",
    "BrandsModel",
    "CountriesModel",
    "ExportsModel",
    "PlantLaunchesModel",
    "ReferenceData",
    "SalesModel",
    "SourcesModel",
]
