"""Seed data shared by several resources' seeding (names, places, services, the category tree)
and the helpers that turn seeded dates into wire timestamps. Data tables only."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time
from decimal import Decimal

from ._wire import EASTERN

FIRST = [
    "Ava",
    "Liam",
    "Noah",
    "Emma",
    "Olivia",
    "Lucas",
    "Mia",
    "Ethan",
    "Chloé",
    "Zoë",
    "Mateo",
    "Sofia",
    "Hannah",
    "Raj",
    "Priya",
    "Wei",
    "Mei",
    "Kenji",
    "Yuki",
    "Omar",
    "Fatima",
    "Lars",
    "Ingrid",
    "Sean",
    "Siobhan",
    "Pierre",
    "Amélie",
    "José",
    "Lucía",
    "Ahmed",
    "Nadia",
    "Tom",
    "Grace",
    "Ben",
    "Ruth",
    "Felix",
    "Clara",
    "Hugo",
    "Iris",
]
LAST = [
    "Smith",
    "Nguyen",
    "Garcia",
    "Tremblay",
    "Martin",
    "Roy",
    "Müller",
    "O'Brien",
    "Kowalski",
    "Rossi",
    "Dubois",
    "Silva",
    "Chen",
    "Patel",
    "Kim",
    "Johansson",
    "Haddad",
    "Novak",
    "Fischer",
    "Côté",
]
# Some share a surname on purpose (Smith, Nguyen appear twice in the seeded set via the modulo below).
ORGS = (
    "Acme Widgets",
    "Smith & Sons Plumbing",
    "Café Olé",
    "Nguyen Design Studio",
    "Brightside Dental",
    "Müller & Fischer GmbH",
    "Tremblay Électrique",
    "Harbour Logistics",
    "Bluebird Bakery",
    "Northwind Traders",
    "Crème de la Crème Events",
    "Pioneer Robotics",
    "Garcia & Partners LLP",
    "Evergreen Landscaping",
    "Quantum Analytics",
    "São Paulo Imports",
    "Maple Leaf Consulting",
    "Kowalski Family Dentistry",
    "Red Rock Outfitters",
    "Zürich Precision AG",
    "Lighthouse Media",
    "Patel Pharmacy",
    "Ironwood Builders",
    "Orchid & Ivy Florists",
    "Summit Legal",
)
CITIES = {
    "USD": [("New York", "NY", "United States", "10001"), ("Austin", "TX", "United States", "73301")],
    "CAD": [("Toronto", "Ontario", "Canada", "M5V 2T6"), ("Montréal", "Québec", "Canada", "H2X 1Y4")],
    "EUR": [("Berlin", "Berlin", "Germany", "10115"), ("Paris", "Île-de-France", "France", "75001")],
}
TAX_BY_CURRENCY = {"USD": ("Sales Tax", "8.875"), "CAD": ("HST", "13"), "EUR": ("VAT", "21")}
SERVICES = (
    ("Consulting", "150.00"),
    ("Web design", "95.00"),
    ("Copywriting", "0.25"),
    ("Hosting (monthly)", "29.99"),
    ("Site audit", "450.00"),
    ("Training session", "300.00"),
    ("Logo package", "1200.00"),
    ("Support retainer", "500.00"),
    ("Photography", "85.50"),
    ("Travel", "62.40"),
)
# (name, is_cogs, children, (min cents, max cents), vendors)
CATEGORY_TREE: tuple[tuple[str, bool, tuple[str, ...], tuple[int, int], tuple[str, ...]], ...] = (
    ("Advertising", False, ("Online Ads",), (2000, 90000), ("Google Ads", "Meta", "LinkedIn")),
    ("Car & Truck Expenses", False, ("Fuel", "Parking"), (1500, 12000), ("Shell", "Esso", "Impark")),
    ("Cost of Goods Sold", True, ("Materials", "Subcontractors"), (5000, 250000), ("Home Depot", "Upwork", "Grainger")),
    ("Insurance", False, (), (10000, 80000), ("Intact Insurance", "State Farm")),
    ("Meals & Entertainment", False, (), (800, 15000), ("Starbucks", "Tim Hortons", "Le Bistro", "Chipotle")),
    ("Office Expenses & Postage", False, ("Postage",), (500, 25000), ("Staples", "Canada Post", "USPS")),
    ("Professional Services", False, ("Accounting", "Legal Fees"), (20000, 300000), ("KPMG", "Baker & Co LLP")),
    ("Rent or Lease", False, (), (120000, 350000), ("WeWork", "Regus")),
    ("Software & Subscriptions", False, (), (900, 30000), ("Adobe", "GitHub", "Slack", "Zoom", "Dropbox")),
    ("Travel", False, ("Airfare", "Hotel"), (5000, 120000), ("Air Canada", "Delta", "Marriott", "Airbnb")),
    ("Utilities", False, ("Internet",), (4000, 30000), ("Rogers", "Comcast", "Hydro One")),
)


def eastern(d: date, rng: random.Random) -> datetime:
    return datetime.combine(d, time(rng.randint(8, 19), rng.randint(0, 59), rng.randint(0, 59)))


def utc_of(et: datetime) -> datetime:
    return et.replace(tzinfo=EASTERN).astimezone(UTC).replace(tzinfo=None)


def cents(rng: random.Random, lo: int, hi: int) -> Decimal:
    return Decimal(rng.randint(lo, hi)).scaleb(-2)
