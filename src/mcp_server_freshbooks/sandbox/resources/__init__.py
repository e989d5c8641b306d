"""Every FreshBooks resource the sandbox serves, one module each. To add one: write its module
(model, search keys, sorts, includes, seeding, wire form) and list its RESOURCE here."""

from __future__ import annotations

from ..resource import Resource
from . import (
    categories,
    clients,
    estimates,
    expenses,
    invoices,
    items,
    payments,
    projects,
    service_rates,
    services,
    taxes,
    time_entries,
)

RESOURCES: tuple[Resource, ...] = (
    clients.RESOURCE,
    invoices.RESOURCE,
    payments.RESOURCE,
    expenses.RESOURCE,
    categories.RESOURCE,
    items.RESOURCE,
    taxes.RESOURCE,
    projects.RESOURCE,
    time_entries.RESOURCE,
    services.RESOURCE,
    service_rates.RESOURCE,
    estimates.RESOURCE,
)
