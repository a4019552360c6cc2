"""The read side: `outbound sql`, `explain`, `status`, `rejects`, `docs`, `report`, on the published warehouse."""
