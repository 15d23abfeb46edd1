"""Information Hubs and referrals: the hub directory (`referrals/hubs/`) and finding the right hub.

Referral consent, logging and reporting build on these names; they never read the YAML themselves.
"""

from bot.referrals.directory import (
    DEFAULT_HUBS_DIR,
    SERVICES,
    Directory,
    DirectoryError,
    Hub,
    load_directory,
    read_directory,
    validate_directory,
)
from bot.referrals.places import PlaceMatch, distance_km, find_place, match_place, nearest_hub, normalize

__all__ = [
    "DEFAULT_HUBS_DIR",
    "SERVICES",
    "Directory",
    "DirectoryError",
    "Hub",
    "PlaceMatch",
    "distance_km",
    "find_place",
    "load_directory",
    "match_place",
    "nearest_hub",
    "normalize",
    "read_directory",
    "validate_directory",
]
