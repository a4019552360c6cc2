"""An empty Prefect flow: what any flow run costs in this mode, the floor `outbound run` is measured against."""

from prefect import flow


@flow(name="empty")
def empty() -> None:
    """Nothing: the cost of starting Python, importing Prefect and recording one flow run."""


if __name__ == "__main__":
    empty()
