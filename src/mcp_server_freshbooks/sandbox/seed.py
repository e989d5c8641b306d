"""Deterministic seeded books (``random.Random(seed)`` only, relative to ``today``)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from ._wire import EASTERN, JSON, fmt_dt, fmt_iso_utc, money
from .books import Books

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


def _eastern(d: date, rng: random.Random) -> datetime:
    return datetime.combine(d, time(rng.randint(8, 19), rng.randint(0, 59), rng.randint(0, 59)))


def _utc_of(et: datetime) -> datetime:
    return et.replace(tzinfo=EASTERN).astimezone(UTC).replace(tzinfo=None)


def _cents(rng: random.Random, lo: int, hi: int) -> Decimal:
    return Decimal(rng.randint(lo, hi)).scaleb(-2)


def seed_books(books: Books, rng: random.Random, n_clients: int, n_invoices: int, n_expenses: int) -> None:
    today = books.today
    db = books.db
    _seed_categories(books, today)
    _seed_taxes_items(books, today)

    # ---- clients: #1 reproduces seed 000's example client exactly (org/email/address/currency)
    client_ids: list[int] = []
    for n in range(n_clients):
        signup_et = _eastern(today - timedelta(days=rng.randint(200, 900)), rng)
        if n == 0:
            fields: JSON = {
                "fname": "first1",
                "lname": "last1",
                "email": "email1@freshbooks.com",
                "organization": "company1",
                "p_street": "1655 Dupont St. W.",
                "p_city": "Toronto",
                "p_province": "Ontario",
                "p_country": "Canada",
                "p_code": "M6P 3T1",
                "currency_code": "USD",
                "vat_number": "",
                "username": "first1last13",
            }
        else:
            fname = FIRST[(n * 7 + rng.randint(0, 3)) % len(FIRST)]
            lname = LAST[n % len(LAST)] if n % 9 else "Smith"
            # orgs are unique; past the list (and every 11th client) clients are individuals
            org = ORGS[n - 1] if n - 1 < len(ORGS) and n % 11 else f"{fname} {lname}"
            roll = rng.random()
            code = "USD" if roll < 0.65 else "CAD" if roll < 0.85 else "EUR"
            city, prov, country, postal = rng.choice(CITIES[code])
            dom = (org or f"{fname}{lname}").lower()
            dom = "".join(ch for ch in dom if ch.isascii() and ch.isalnum())[:18] or "example"
            fields = {
                "fname": fname,
                "lname": lname,
                "organization": org,
                "email": f"{fname.lower()}.{lname.lower().replace(chr(39), '')}@{dom}.example.com"
                if rng.random() > 0.05
                else "",
                "p_street": f"{rng.randint(1, 999)} {rng.choice(['King St', 'Main St', 'Elm Ave', 'Rue Saint-Denis'])}",
                "p_city": city,
                "p_province": prov,
                "p_country": country,
                "p_code": postal,
                "currency_code": code,
                "bus_phone": f"+1-555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
                "note": rng.choice([None, None, "Prefers email", "Net 30 agreed"]),
                "vat_name": "VAT Number" if code == "EUR" else None,
            }
        if n_clients >= 10 and n in (n_clients - 2, n_clients - 5, n_clients - 8):
            fields["vis_state"] = 2  # a few archived clients
        rec = books.build_client(fields, _utc_of(signup_et), signup_et + timedelta(minutes=rng.randint(0, 600)))
        client_ids.append(rec["id"])
    if n_clients >= 10:
        # one deleted client, no invoices (lists hide it; GET by id still returns it)
        gone_et = _eastern(today - timedelta(days=300), rng)
        books.build_client(
            {
                "fname": "Dana",
                "lname": "Gone",
                "organization": "Defunct Ventures",
                "email": "dana@defunct.example.com",
                "vis_state": 1,
            },
            _utc_of(gone_et),
            gone_et,
        )

    # ---- projects & time entries (modest)
    project_ids = _seed_projects(books, rng, client_ids, today)

    # ---- invoices + payments
    if client_ids:
        _seed_invoices(books, rng, client_ids, n_invoices, today)

    # ---- expenses
    cats = list(db.categories.values())
    weights = [4 if c["parentid"] is None else 2 for c in cats]
    for _ in range(n_expenses):
        cat = rng.choices(cats, weights)[0]
        spec = _cat_spec(cat)
        d = today - timedelta(days=rng.randint(0, 547))
        roll = rng.random()
        code = "CAD" if roll < 0.05 else "EUR" if roll < 0.10 else books.base_currency
        amount = _cents(rng, spec[3][0], spec[3][1])
        fields = {
            "categoryid": cat["id"],
            "staffid": 1,
            "date": d.isoformat(),
            "amount": money(amount, code),
            "vendor": rng.choice(spec[4]),
            "has_receipt": rng.random() < 0.6,
            "notes": rng.choice(["", "", "Q" + str((d.month - 1) // 3 + 1) + " expense", "Reimbursable"]),
        }
        if client_ids and rng.random() < 0.15:
            fields["clientid"] = rng.choice(client_ids)
        if project_ids and rng.random() < 0.10:
            fields["projectid"] = rng.choice(project_ids)
        if rng.random() < 0.2:
            name, pct = TAX_BY_CURRENCY[code]
            fields["taxName1"] = name
            fields["taxPercent1"] = pct
            fields["taxAmount1"] = money(amount * Decimal(pct) / 100, code)
        rec = books.build_expense(fields, _eastern(d, rng))
        if rng.random() < 0.01:
            rec["vis_state"] = 1


def _cat_spec(cat: JSON) -> tuple[str, bool, tuple[str, ...], tuple[int, int], tuple[str, ...]]:
    name = cat["category"]
    for spec in CATEGORY_TREE:
        if spec[0] == name or name in spec[2]:
            return spec
    return CATEGORY_TREE[0]  # pragma: no cover


def _seed_categories(books: Books, today: date) -> None:
    # Fixed ids: independent of seed so tests and docs can rely on them.
    created = fmt_dt(datetime.combine(today - timedelta(days=1000), time(9, 0)))
    cid = 4100001
    for name, is_cogs, children, _, _ in CATEGORY_TREE:
        parent = cid
        books.db.categories[cid] = _category(cid, name, None, is_cogs, created)
        cid += 1
        for child in children:
            books.db.categories[cid] = _category(cid, child, parent, is_cogs, created)
            cid += 1


def _category(cid: int, name: str, parent: int | None, is_cogs: bool, created: str) -> JSON:
    return {
        "category": name,
        "categoryid": cid,
        "created_at": created,
        "id": cid,
        "is_cogs": is_cogs,
        "is_editable": parent is not None,
        "parentid": parent,
        "transaction_posted": False,
        "updated_at": created,
        "vis_state": 0,
    }


def _seed_taxes_items(books: Books, today: date) -> None:
    when = fmt_dt(datetime.combine(today - timedelta(days=900), time(10, 0)))
    for name, pct, number in (
        ("HST", "13", "RT0001"),
        ("Sales Tax", "8.875", None),
        ("VAT", "21", "DE123"),
        ("GST", "5", None),
    ):
        tid = books.next_id("tax", 6001)
        books.db.taxes[tid] = {
            "accounting_systemid": books.account_id,
            "amount": pct,
            "compound": False,
            "id": tid,
            "name": name,
            "number": number,
            "taxid": tid,
            "updated": when,
        }
    for n, (name, cost) in enumerate(SERVICES):
        iid = books.next_id("item", 80001)
        books.db.items[iid] = {
            "accounting_systemid": books.account_id,
            "description": f"{name} (standard rate)",
            "id": iid,
            "inventory": None if n % 3 else "25",
            "itemid": iid,
            "name": name,
            "qty": "1",
            "sku": f"SKU-{100 + n}" if n % 2 == 0 else None,
            "tax1": 6001 if n % 4 == 0 else 0,
            "tax2": 0,
            "unit_cost": money(Decimal(cost), books.base_currency),
            "updated": when,
            "vis_state": 0,
        }


def _seed_projects(books: Books, rng: random.Random, client_ids: list[int], today: date) -> list[int]:
    ids: list[int] = []
    titles = (
        "Website Redesign",
        "Brand Refresh",
        "Q3 Audit",
        "Mobile App",
        "SEO Campaign",
        "Office Move",
        "Annual Report",
        "Data Migration",
    )
    for n in range(min(len(client_ids), max(3, len(client_ids) // 5))):
        pid = books.next_id("project", 7700001)
        created = datetime.combine(today - timedelta(days=rng.randint(30, 500)), time(rng.randint(12, 20), 5))
        hourly = rng.random() < 0.6
        books.db.projects[pid] = {
            "id": pid,
            "title": f"{titles[n % len(titles)]}" + (f" {n // len(titles) + 1}" if n >= len(titles) else ""),
            "description": "",
            "due_date": (created.date() + timedelta(days=rng.randint(30, 200))).isoformat(),
            "client_id": client_ids[(n * 3) % len(client_ids)],
            "internal": False,
            "budget": rng.choice([None, 40, 120]),
            "fixed_price": None if hourly else f"{rng.randint(20, 200) * 50}.00",
            "rate": f"{rng.choice([85, 95, 120, 150])}.00" if hourly else None,
            "billing_method": "project_rate" if hourly else None,
            "project_type": "hourly_rate" if hourly else "fixed_price",
            "project_manager_id": None,
            "active": n % 5 != 4,
            "complete": n % 5 == 4,
            "sample": False,
            "created_at": created.strftime("%Y-%m-%dT%H:%M:%S"),
            "updated_at": created.strftime("%Y-%m-%dT%H:%M:%S"),
            "logged_duration": None,
            "services": [],
            "billed_amount": "0.00",
            "billed_status": "unbilled",
            "retainer_id": None,
            "expense_markup": "0",
            "group_id": 800000 + pid % 100000,
        }
        ids.append(pid)
        for _ in range(rng.randint(2, 6)):
            teid = books.next_id("time_entry", 9900001)
            start = datetime.combine(
                today - timedelta(days=rng.randint(0, 120)), time(rng.randint(13, 21), 0), tzinfo=UTC
            )
            books.db.time_entries[teid] = {
                "id": teid,
                "identity_id": 0,  # filled by the Sandbox with its identity id
                "is_logged": True,
                "started_at": fmt_iso_utc(start),
                "local_started_at": start.astimezone(EASTERN).strftime("%Y-%m-%dT%H:%M:%S"),
                "local_timezone": "America/Toronto",
                "created_at": fmt_iso_utc(start + timedelta(hours=3)),
                "duration": rng.choice([900, 1800, 3600, 5400, 7200, 9840]),
                "client_id": books.db.projects[pid]["client_id"],
                "project_id": pid,
                "service_id": None,
                "task_id": None,
                "note": rng.choice(["", "Design review", "Calls", "Implementation"]),
                "active": True,
                "billable": True,
                "billed": rng.random() < 0.3,
                "internal": False,
                "retainer_id": None,
                "pending_client": None,
                "pending_project": None,
                "pending_task": None,
                "timer": None,
            }
    return ids


_KINDS = (
    ("draft", 8),
    ("sent", 10),
    ("viewed", 5),
    ("due_today", 2),
    ("overdue", 20),
    ("partial", 6),
    ("partial_overdue", 4),
    ("paid", 45),
)


def _seed_invoices(books: Books, rng: random.Random, client_ids: list[int], n: int, today: date) -> None:
    db = books.db
    kinds = [k for k, _ in _KINDS]
    weights = [w for _, w in _KINDS]
    fixed_ages = [1, 2, 7, 30, 31, 90, 180, 365, 400]
    # Older invoices first so numbers increase with create_date.
    plans: list[tuple[date, int, str]] = []
    n_overdue = 0
    for _ in range(n):
        kind = rng.choices(kinds, weights)[0]
        offset = rng.choice((0, 7, 14, 15, 30, 30, 30, 45, 60))
        if kind in ("overdue", "partial_overdue"):
            # the first overdue invoices cover the interesting ages exactly (1 day .. 400 days)
            age = fixed_ages[n_overdue] if n_overdue < len(fixed_ages) else rng.randint(1, 400)
            n_overdue += 1
            due = today - timedelta(days=age)
        elif kind == "due_today":
            due = today
        elif kind in ("sent", "viewed", "partial", "draft"):
            due = today + timedelta(days=rng.randint(1, 45))
            offset = max(offset, (due - today).days)
        else:  # paid
            due = today - timedelta(days=rng.randint(-20, 520))
        create = due - timedelta(days=offset)
        if create > today:
            create = today
            offset = (due - create).days
        plans.append((create, offset, kind))
    plans.sort(key=lambda p: p[0])
    for number, (create, offset, kind) in enumerate(plans, start=1):
        client = db.clients[client_ids[rng.randrange(len(client_ids))]]
        code = client["currency_code"]
        base = "draft" if kind == "draft" else "viewed" if kind == "viewed" or rng.random() < 0.3 else "sent"
        created_at = _eastern(create, rng)
        inv = books.build_invoice(client, create, offset, base, str(number).zfill(7), created_at)
        when = inv["created_at"]
        lines = []
        for ln in range(1, rng.randint(1, 4) + 1):
            name, cost = SERVICES[rng.randrange(len(SERVICES))]
            qty = Decimal(rng.choice((1, 1, 2, 3, 5, 10, 40)))
            raw: JSON = {"name": name, "description": f"{name} for {client['organization']}"}
            if rng.random() < 0.35:
                tname, pct = TAX_BY_CURRENCY[code]
                raw["taxName1"] = tname
                raw["taxAmount1"] = pct
            lines.append(books.make_line(inv["id"], ln, raw, qty, Decimal(cost), code, when))
        inv["lines"] = lines
        if rng.random() < 0.4:
            inv["notes"] = "Thank you for your business."
            inv["terms"] = f"Please pay the invoice within {offset} days" if offset else "Due on receipt"
        books.recompute_invoice(inv)
        total = Decimal(inv["amount"]["amount"])
        if kind == "paid":
            pay_day = min(today, create + timedelta(days=rng.randint(0, max(offset, 1) + 10)))
            if rng.random() < 0.25 and total > 1:
                first = (total * Decimal(rng.randint(30, 70)) / 100).quantize(Decimal("0.01"))
                mid = create + (pay_day - create) / 2
                books.build_payment(inv, first, mid, "Check", "", _eastern(mid, rng))
                books.build_payment(inv, total - first, pay_day, "Bank Transfer", "", _eastern(pay_day, rng))
            else:
                ptype = rng.choice(("Credit Card", "Check", "Bank Transfer", "Cash", "VISA", "ACH"))
                books.build_payment(inv, total, pay_day, ptype, "", _eastern(pay_day, rng))
        elif kind in ("partial", "partial_overdue") and total > 1:
            part = (total * Decimal(rng.randint(20, 80)) / 100).quantize(Decimal("0.01"))
            pay_day = min(today, create + timedelta(days=rng.randint(0, max(offset, 1))))
            books.build_payment(inv, part, pay_day, "Check", "Deposit", _eastern(pay_day, rng))
        if db.payments_by_invoice[inv["id"]]:
            books.recompute_invoice(inv)
            last = db.payments[db.payments_by_invoice[inv["id"]][-1]]
            inv["updated"] = last["updated"]
        if number % 97 == 0 and kind == "paid":
            inv["vis_state"] = 2  # a few archived invoices
        if number % 151 == 0 and kind == "draft":
            inv["vis_state"] = 1  # a deleted draft
