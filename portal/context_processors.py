"""Template context shared by every analyst page."""

from django.conf import settings

# OSM-style tile template; an empty MAP_TILE_URL setting turns tiles off (markers still show).
DEFAULT_MAP_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


def portal(request) -> dict:
    return {
        "map_tile_url": getattr(settings, "MAP_TILE_URL", DEFAULT_MAP_TILE_URL),
        "search_query": request.GET.get("q", "") if request.method == "GET" else "",
    }
