"""hubspot stand-in (placeholder until its routes land)."""

from starlette.routing import Route


def routes(sim) -> list[Route]:
    return []


def ground_truth(sim) -> dict[str, int]:
    return {}
