"""Typed async FreshBooks API client. Knows nothing of MCP."""

from .api import ClientStats, FreshBooksClient, Page, RetryPolicy, StaticTokenSource, TokenSource
from .errors import (
    AppliedError,
    AuthError,
    BusinessSelectionError,
    ConflictError,
    ForbiddenError,
    FreshBooksError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TransportError,
    ValidationError,
    WriteOutcomeUnknownError,
)
from .identity import Business, Identity
from .query import CLIENTS, EXPENSE_CATEGORIES, EXPENSES, INVOICES, ITEMS, PAYMENTS, TAXES, Query, Resource
from .types import Money, MoneyTotals

__all__ = [
    "CLIENTS",
    "EXPENSES",
    "EXPENSE_CATEGORIES",
    "INVOICES",
    "ITEMS",
    "PAYMENTS",
    "TAXES",
    "AppliedError",
    "AuthError",
    "Business",
    "BusinessSelectionError",
    "ClientStats",
    "ConflictError",
    "ForbiddenError",
    "FreshBooksClient",
    "FreshBooksError",
    "Identity",
    "Money",
    "MoneyTotals",
    "NotFoundError",
    "Page",
    "Query",
    "RateLimitedError",
    "Resource",
    "RetryPolicy",
    "ServerError",
    "StaticTokenSource",
    "TokenSource",
    "TransportError",
    "ValidationError",
    "WriteOutcomeUnknownError",
]
