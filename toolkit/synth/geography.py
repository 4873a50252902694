"""The supply network: plants, distribution centres, markets and the lanes between them.

Sites carry internal profile columns (coordinates, market weight, fiscal year end,
ERP system, supplying DC) that the other generator modules use; only the canonical
columns of ``sites`` are written.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

__all__ = [
    "SECOND_ERP_SYSTEM",
    "Country",
    "MARKET_POOL",
    "plants_and_dcs",
    "build_sites",
    "build_lanes",
    "lane_times",
]

#: The second ERP system (Brazil and other LATAM affiliates) whose local item codes
#: the ``aliases`` table maps to global skus.
SECOND_ERP_SYSTEM = "SAP-LATAM"

_EU = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
)
# Trading partners with zero-tariff access to each other's markets.
_FREE_TRADE = (
    frozenset({"US", "CA", "MX", "PR"}),  # USMCA (Puerto Rico is US customs territory)
)
_EU_NEIGHBOURS = frozenset({"GB", "CH", "NO"})  # zero tariff with the EU, light customs
# Distribution centres in free-trade zones hold goods in bond: duty is paid in the market.
_BONDED_DC_COUNTRIES = frozenset({"SG", "PA"})
_HEMISPHERE_SOUTH = frozenset({"BR", "AR", "CL", "UY", "PE", "AU", "NZ", "ZA"})


class Country(NamedTuple):
    """A market country: where it is, how big it is and how it imports."""

    code: str
    name: str
    region: str
    landmass: str  # sites on one landmass within trucking distance are linked by road
    lat: float
    lon: float
    weight: float  # relative size of the medical-device market
    import_tariff: float  # MFN duty on medical devices from outside a trade agreement
    customs_days: float  # typical clearance time for an import
    fiscal_year_end: int  # month in which public hospitals' budget year ends


# The first twelve are the default markets, ordered so that any first five cover all
# five regions; the rest are added in order for --markets > 12.
MARKET_POOL: tuple[Country, ...] = tuple(
    Country(*row)
    for row in (
        ("US", "United States", "NAM", "americas-north", 39.1, -94.6, 30.0, 0.02, 3, 6),
        ("DE", "Germany", "EMEA", "europe", 50.1, 8.7, 7.0, 0.02, 2, 12),
        ("BR", "Brazil", "LATAM", "americas-south", -23.5, -46.6, 3.5, 0.14, 10, 12),
        ("JP", "Japan", "APAC", "island-jp", 35.7, 139.7, 6.5, 0.0, 2, 3),
        ("CN", "China", "CHINA", "asia-east", 31.2, 121.5, 7.0, 0.06, 8, 12),
        ("FR", "France", "EMEA", "europe", 48.9, 2.4, 5.0, 0.02, 2, 12),
        ("GB", "United Kingdom", "EMEA", "europe", 51.5, -0.1, 4.5, 0.02, 2, 3),
        ("CA", "Canada", "NAM", "americas-north", 43.7, -79.4, 2.5, 0.03, 2, 3),
        ("MX", "Mexico", "LATAM", "americas-north", 19.4, -99.1, 2.0, 0.05, 3, 12),
        ("AU", "Australia", "APAC", "island-au", -33.9, 151.2, 2.0, 0.05, 2, 6),
        ("IT", "Italy", "EMEA", "europe", 45.5, 9.2, 4.0, 0.02, 2, 12),
        ("IN", "India", "APAC", "asia-south", 19.1, 72.9, 2.5, 0.10, 7, 3),
        ("ES", "Spain", "EMEA", "europe", 40.4, -3.7, 3.0, 0.02, 2, 12),
        ("KR", "South Korea", "APAC", "island-kr", 37.6, 127.0, 2.5, 0.08, 3, 12),
        ("NL", "Netherlands", "EMEA", "europe", 52.4, 4.9, 1.8, 0.02, 2, 12),
        ("CH", "Switzerland", "EMEA", "europe", 47.4, 8.5, 1.5, 0.0, 2, 12),
        ("SA", "Saudi Arabia", "EMEA", "asia-west", 24.7, 46.7, 1.5, 0.05, 5, 12),
        ("CO", "Colombia", "LATAM", "americas-south", 4.7, -74.1, 0.9, 0.05, 5, 12),
        ("HK", "Hong Kong", "CHINA", "asia-east", 22.3, 114.2, 0.8, 0.0, 1, 3),
        ("BE", "Belgium", "EMEA", "europe", 50.8, 4.4, 1.4, 0.02, 2, 12),
        ("SE", "Sweden", "EMEA", "europe", 59.3, 18.1, 1.2, 0.02, 2, 12),
        ("PL", "Poland", "EMEA", "europe", 52.2, 21.0, 1.2, 0.02, 2, 12),
        ("AT", "Austria", "EMEA", "europe", 48.2, 16.4, 1.0, 0.02, 2, 12),
        ("AR", "Argentina", "LATAM", "americas-south", -34.6, -58.4, 0.8, 0.12, 9, 12),
        ("CL", "Chile", "LATAM", "americas-south", -33.4, -70.6, 0.6, 0.06, 4, 12),
        ("TR", "Turkey", "EMEA", "europe", 41.0, 29.0, 1.0, 0.04, 4, 12),
        ("IL", "Israel", "EMEA", "asia-west", 32.1, 34.8, 0.8, 0.03, 3, 12),
        ("AE", "United Arab Emirates", "EMEA", "asia-west", 25.2, 55.3, 0.8, 0.05, 2, 12),
        ("ZA", "South Africa", "EMEA", "africa-south", -26.2, 28.0, 0.8, 0.06, 5, 3),
        ("SG", "Singapore", "APAC", "asia-southeast", 1.35, 103.8, 0.6, 0.0, 1, 3),
        ("TW", "Taiwan", "APAC", "island-tw", 25.0, 121.5, 1.0, 0.05, 3, 12),
        ("TH", "Thailand", "APAC", "asia-southeast", 13.8, 100.5, 0.8, 0.10, 4, 9),
        ("MY", "Malaysia", "APAC", "asia-southeast", 3.1, 101.7, 0.6, 0.05, 3, 12),
        ("NZ", "New Zealand", "APAC", "island-nz", -36.8, 174.8, 0.4, 0.05, 2, 6),
        ("DK", "Denmark", "EMEA", "europe", 55.7, 12.6, 0.8, 0.02, 2, 12),
        ("NO", "Norway", "EMEA", "europe", 59.9, 10.8, 0.8, 0.0, 2, 12),
        ("FI", "Finland", "EMEA", "europe", 60.2, 24.9, 0.6, 0.02, 2, 12),
        ("PT", "Portugal", "EMEA", "europe", 38.7, -9.1, 0.7, 0.02, 2, 12),
        ("IE", "Ireland", "EMEA", "europe", 53.3, -6.3, 0.5, 0.02, 2, 12),
        ("CZ", "Czechia", "EMEA", "europe", 50.1, 14.4, 0.6, 0.02, 2, 12),
        ("GR", "Greece", "EMEA", "europe", 37.98, 23.7, 0.5, 0.02, 2, 12),
        ("HU", "Hungary", "EMEA", "europe", 47.5, 19.0, 0.4, 0.02, 2, 12),
        ("RO", "Romania", "EMEA", "europe", 44.4, 26.1, 0.4, 0.02, 2, 12),
        ("PE", "Peru", "LATAM", "americas-south", -12.0, -77.0, 0.4, 0.0, 5, 12),
        ("EC", "Ecuador", "LATAM", "americas-south", -0.2, -78.5, 0.3, 0.08, 6, 12),
        ("CR", "Costa Rica", "LATAM", "americas-north", 9.9, -84.1, 0.3, 0.05, 4, 9),
        ("GT", "Guatemala", "LATAM", "americas-north", 14.6, -90.5, 0.2, 0.06, 4, 12),
        ("DO", "Dominican Republic", "LATAM", "island-do", 18.5, -69.9, 0.2, 0.08, 5, 12),
        ("PA", "Panama", "LATAM", "americas-north", 9.0, -79.5, 0.2, 0.05, 2, 12),
        ("UY", "Uruguay", "LATAM", "americas-south", -34.9, -56.2, 0.2, 0.10, 4, 12),
        ("PR", "Puerto Rico", "NAM", "island-pr", 18.5, -66.1, 0.5, 0.02, 3, 6),
        ("VN", "Vietnam", "APAC", "asia-southeast", 10.8, 106.7, 0.5, 0.05, 5, 12),
        ("ID", "Indonesia", "APAC", "island-id", -6.2, 106.8, 0.6, 0.10, 6, 12),
        ("PH", "Philippines", "APAC", "island-ph", 14.6, 121.0, 0.4, 0.07, 5, 12),
        ("PK", "Pakistan", "APAC", "asia-south", 24.9, 67.0, 0.3, 0.12, 6, 6),
        ("BD", "Bangladesh", "APAC", "asia-south", 23.8, 90.4, 0.2, 0.12, 6, 6),
        ("LK", "Sri Lanka", "APAC", "island-lk", 6.9, 79.9, 0.1, 0.10, 5, 12),
        ("MO", "Macao", "CHINA", "asia-east", 22.2, 113.5, 0.1, 0.0, 1, 12),
        ("EG", "Egypt", "EMEA", "africa-north", 30.0, 31.2, 0.4, 0.08, 7, 6),
        ("KE", "Kenya", "EMEA", "africa-east", -1.3, 36.8, 0.2, 0.10, 6, 6),
        ("NG", "Nigeria", "EMEA", "africa-west", 6.5, 3.4, 0.3, 0.12, 9, 12),
        ("MA", "Morocco", "EMEA", "africa-north", 33.6, -7.6, 0.3, 0.10, 5, 12),
        ("QA", "Qatar", "EMEA", "asia-west", 25.3, 51.5, 0.3, 0.05, 3, 12),
        ("KW", "Kuwait", "EMEA", "asia-west", 29.4, 48.0, 0.3, 0.05, 4, 3),
        ("SK", "Slovakia", "EMEA", "europe", 48.1, 17.1, 0.3, 0.02, 2, 12),
        ("SI", "Slovenia", "EMEA", "europe", 46.1, 14.5, 0.2, 0.02, 2, 12),
        ("HR", "Croatia", "EMEA", "europe", 45.8, 16.0, 0.2, 0.02, 2, 12),
        ("BG", "Bulgaria", "EMEA", "europe", 42.7, 23.3, 0.2, 0.02, 2, 12),
        ("LT", "Lithuania", "EMEA", "europe", 54.7, 25.3, 0.15, 0.02, 2, 12),
        ("LV", "Latvia", "EMEA", "europe", 56.9, 24.1, 0.1, 0.02, 2, 12),
        ("EE", "Estonia", "EMEA", "europe", 59.4, 24.8, 0.1, 0.02, 2, 12),
        ("UA", "Ukraine", "EMEA", "europe", 50.5, 30.5, 0.2, 0.05, 5, 12),
    )
)

# Plants and DCs: (site_id, name, site_type, region, country, landmass, lat, lon).
_PLANTS_AND_DCS = (
    ("PL-IE-GAL", "Galway plant", "plant", "EMEA", "IE", "europe", 53.27, -9.05),
    ("PL-US-MSP", "Minneapolis plant", "plant", "NAM", "US", "americas-north", 44.98, -93.27),
    ("PL-MX-TIJ", "Tijuana plant", "plant", "LATAM", "MX", "americas-north", 32.51, -117.04),
    ("PL-CN-SUZ", "Suzhou plant", "plant", "CHINA", "CN", "asia-east", 31.30, 120.59),
    ("DC-NL-VEN", "Venlo EMEA distribution centre", "dc", "EMEA", "NL", "europe", 51.37, 6.17),
    ("DC-US-MEM", "Memphis distribution centre", "dc", "NAM", "US", "americas-north", 35.15, -90.05),
    ("DC-SG-SIN", "Singapore APAC distribution centre", "dc", "APAC", "SG", "asia-southeast", 1.35, 103.82),
    ("DC-PA-PTY", "Panama LATAM distribution centre", "dc", "LATAM", "PA", "americas-north", 9.07, -79.38),
)  # fmt: skip

#: The DC that supplies each region's markets (China is served from Singapore and,
#: for what is made there, directly from the Suzhou plant).
_REGION_DC = {
    "EMEA": "DC-NL-VEN",
    "NAM": "DC-US-MEM",
    "LATAM": "DC-PA-PTY",
    "APAC": "DC-SG-SIN",
    "CHINA": "DC-SG-SIN",
}

# DC-to-DC lanes for transshipment between regions (both directions).
_DC_LINKS = (
    ("DC-US-MEM", "DC-NL-VEN"),
    ("DC-US-MEM", "DC-PA-PTY"),
    ("DC-NL-VEN", "DC-SG-SIN"),
    ("DC-US-MEM", "DC-SG-SIN"),
)

_ROAD_LIMIT_KM = 3000.0

#: The DC that backs up each region's own DC (its lanes exist; some are not in use).
_BACKUP_DC = {
    "EMEA": "DC-US-MEM",
    "NAM": "DC-NL-VEN",
    "LATAM": "DC-US-MEM",
    "APAC": "DC-US-MEM",
    "CHINA": "DC-NL-VEN",
}


def plants_and_dcs() -> pd.DataFrame:
    """Return the fixed plants and distribution centres with their coordinates."""
    columns = ["site_id", "name", "site_type", "region", "country", "landmass", "lat", "lon"]
    return pd.DataFrame(list(_PLANTS_AND_DCS), columns=columns)


def build_sites(n_markets: int) -> pd.DataFrame:
    """Return every site with its profile columns.

    Parameters
    ----------
    n_markets : int
        Number of markets, 5 to ``len(MARKET_POOL)``; the first markets of
        :data:`MARKET_POOL` are taken.

    Returns
    -------
    DataFrame
        Canonical columns (``site_id, name, site_type, region, country``) plus
        ``landmass, lat, lon, weight, import_tariff, customs_days, fiscal_year_end,
        southern, erp_system, supply_dc``.
    """
    if not 5 <= n_markets <= len(MARKET_POOL):
        raise ValueError(f"n_markets must be between 5 and {len(MARKET_POOL)}, got {n_markets}")
    markets = pd.DataFrame(MARKET_POOL[:n_markets])
    markets = markets.rename(columns={"code": "country"})
    markets["site_id"] = "MK-" + markets["country"]
    markets["name"] = markets["name"] + " commercial affiliate"
    markets["site_type"] = "market"
    markets["southern"] = markets["country"].isin(_HEMISPHERE_SOUTH)
    markets["supply_dc"] = markets["region"].map(_REGION_DC)
    # Every other LATAM affiliate (Brazil first) still runs the regional SAP system;
    # Mexico and the rest were migrated to the global ERP.
    latam = markets["region"].eq("LATAM")
    latam_rank = latam.cumsum().where(latam, 0)
    second_erp = latam & (latam_rank % 2 == 1)
    markets["erp_system"] = np.where(second_erp, SECOND_ERP_SYSTEM, "global")
    hubs = plants_and_dcs()
    hubs["erp_system"] = "global"
    sites = pd.concat([hubs, markets], ignore_index=True)
    return sites[
        [
            "site_id",
            "name",
            "site_type",
            "region",
            "country",
            "landmass",
            "lat",
            "lon",
            "weight",
            "import_tariff",
            "customs_days",
            "fiscal_year_end",
            "southern",
            "erp_system",
            "supply_dc",
        ]
    ]


def _great_circle_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    lat1, lon1, lat2, lon2 = (
        np.radians(np.asarray(x, dtype=float)) for x in (lat1, lon1, lat2, lon2)
    )
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * np.arcsin(np.sqrt(a))


def _customs_zone(country: pd.Series) -> pd.Series:
    return country.where(~country.isin(_EU), "EU").replace({"PR": "US"})


def _tariff_and_customs(pairs: pd.DataFrame, sites: pd.DataFrame) -> pd.DataFrame:
    """Add ``tariff_rate`` and ``customs_days`` by the destination's import rules."""
    profile = sites.set_index("site_id")
    origin_country = pairs["origin"].map(profile["country"])
    dest_country = pairs["destination"].map(profile["country"])
    dest_type = pairs["destination"].map(profile["site_type"])
    pool = {c.code: c for c in MARKET_POOL}
    tariff = dest_country.map(lambda c: pool[c].import_tariff if c in pool else 0.02)
    customs = dest_country.map(lambda c: pool[c].customs_days if c in pool else 2.0).astype(float)

    same_zone = _customs_zone(origin_country).to_numpy() == _customs_zone(dest_country).to_numpy()
    free_trade = np.zeros(len(pairs), dtype=bool)
    for bloc in _FREE_TRADE:
        free_trade |= origin_country.isin(bloc).to_numpy() & dest_country.isin(bloc).to_numpy()
    eu_neighbour = (
        origin_country.isin(_EU) & dest_country.isin(_EU_NEIGHBOURS)
        | origin_country.isin(_EU_NEIGHBOURS) & dest_country.isin(_EU)
    ).to_numpy()
    bonded = (dest_type.eq("dc") & dest_country.isin(_BONDED_DC_COUNTRIES)).to_numpy()

    tariff = np.where(same_zone | free_trade | eu_neighbour | bonded, 0.0, tariff)
    # The punitive corridor: Chinese-made goods into the United States.
    punitive = (origin_country.eq("CN") & _customs_zone(dest_country).eq("US")).to_numpy()
    tariff = np.where(punitive, 0.25, tariff)
    customs = np.where(same_zone, 0.0, np.where(eu_neighbour | bonded, 1.0, customs))
    return pairs.assign(tariff_rate=tariff, customs_days=customs)


def _candidate_pairs(sites: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Return (origin, destination, active) for every linked pair of sites."""
    plants = sites.loc[sites["site_type"].eq("plant"), "site_id"]
    dcs = sites.loc[sites["site_type"].eq("dc"), "site_id"]
    markets = sites[sites["site_type"].eq("market")]
    rows = [(p, d, True) for p in plants for d in dcs]
    rows += [(a, b, True) for a, b in _DC_LINKS] + [(b, a, True) for a, b in _DC_LINKS]
    rows += [(dc, m, True) for m, dc in zip(markets["site_id"], markets["supply_dc"], strict=True)]
    # A backup DC for each market; some of these lanes are set up but not in use.
    for market in markets.itertuples():
        rows.append((_BACKUP_DC[market.region], market.site_id, bool(rng.random() < 0.7)))
    # Made in China for China: the Suzhou plant ships straight to Chinese markets.
    for plant in sites[sites["site_type"].eq("plant")].itertuples():
        for market in markets[
            markets["country"].eq(plant.country) & markets["region"].eq("CHINA")
        ].itertuples():
            rows.append((plant.site_id, market.site_id, True))
    return pd.DataFrame(rows, columns=["origin", "destination", "active"])


def build_lanes(sites: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Return the canonical ``lanes`` table.

    Road links sites on one landmass within trucking distance; everything else has a
    sea and an air alternative. ``transit_days`` grow with great-circle distance
    (sea routes run about 1.5 times it), ``cost_per_unit`` is the base freight rate
    for one standard unit (a case of consumables), and tariffs and customs follow the
    destination country's import rules (zero inside the EU and USMCA and into the
    bonded DCs in Singapore and Panama; 0.25 on Chinese goods into the United States).
    """
    pairs = _candidate_pairs(sites, rng)
    profile = sites.set_index("site_id")
    o = profile.loc[pairs["origin"]]
    d = profile.loc[pairs["destination"]]
    distance = _great_circle_km(o["lat"], o["lon"], d["lat"], d["lon"])
    by_road = (o["landmass"].to_numpy() == d["landmass"].to_numpy()) & (distance <= _ROAD_LIMIT_KM)
    pairs = pairs.assign(distance=distance, by_road=by_road)
    road = pairs[pairs["by_road"]].assign(mode="road")
    overseas = pairs[~pairs["by_road"]]
    lanes = pd.concat([road, overseas.assign(mode="sea"), overseas.assign(mode="air")])
    km = lanes["distance"].to_numpy()
    mode = lanes["mode"].to_numpy()
    transit = np.select(
        [mode == "road", mode == "air"],
        [np.maximum(1, np.ceil(km / 700)), 2 + np.ceil(km / 6000)],
        8 + np.ceil(1.5 * km / 600),
    )
    cost = np.select(
        [mode == "road", mode == "air"],
        [0.10 + 0.0003 * km, 0.80 + 0.0008 * km],
        0.15 + 0.00008 * km,
    )
    lanes = lanes.assign(transit_days=transit, cost_per_unit=np.round(cost, 2))
    # Air freight from China into the US stopped when the punitive tariff came in.
    suspended = (
        lanes["origin"].map(profile["country"]).eq("CN")
        & lanes["destination"].map(profile["country"]).eq("US")
        & lanes["mode"].eq("air")
    )
    lanes["active"] = lanes["active"] & ~suspended
    lanes = _tariff_and_customs(lanes.reset_index(drop=True), sites)
    order = {"road": 0, "sea": 1, "air": 2}
    lanes = lanes.sort_values(
        ["origin", "destination", "mode"], key=lambda s: s.map(order) if s.name == "mode" else s
    )
    columns = [
        "origin",
        "destination",
        "mode",
        "transit_days",
        "cost_per_unit",
        "tariff_rate",
        "customs_days",
        "active",
    ]
    return lanes[columns].reset_index(drop=True)


def lane_times(lanes: pd.DataFrame) -> pd.DataFrame:
    """Return the fastest and slowest door-to-door time per linked pair of sites.

    Movements do not say which mode carried them, so stock counts as arrived only
    after the slowest active mode's ``transit_days + customs_days`` and as in transit
    only within the fastest one's.

    Returns
    -------
    DataFrame
        Indexed by ``(origin, destination)`` with columns ``fastest, slowest`` (days).
    """
    active = lanes[lanes["active"]]
    door_to_door = active["transit_days"] + active["customs_days"]
    return (
        door_to_door.groupby([active["origin"], active["destination"]])
        .agg(fastest="min", slowest="max")
        .rename_axis(["origin", "destination"])
    )
