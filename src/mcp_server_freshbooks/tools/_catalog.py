"""Generated from the Toolset values by `python -m mcp_server_freshbooks.tools.inventory`; do not edit.

Start-up (config validation, server instructions) reads this instead of importing every tool module.
"""

# ruff: noqa: E501
from __future__ import annotations

from typing import NamedTuple


class ToolsetInfo(NamedTuple):
    id: str
    default: bool
    description: str
    instructions: str


# fmt: off
TOOLSETS: tuple[ToolsetInfo, ...] = (
    ToolsetInfo('identity', True, 'Who is signed in and which business the tools act on.', 'whoami shows the signed-in user and the business every tool works on.'),
    ToolsetInfo('clients', True, 'Find, read and create clients (customers).', 'find_client gives the client_id that the other tools take; get_client shows what one client owes.'),
    ToolsetInfo('client_admin', False, 'Update, archive and restore clients.', "update_client changes a client's details; archive_client hides one, restore_client undoes it."),
    ToolsetInfo('client_directory', False, 'List every client (newest first, classic filters) and delete clients.', 'list_clients pages through all clients newest first; delete_client deletes one after the user confirms (restore_client undoes it).'),
    ToolsetInfo('invoices', True, 'List, read, create and send invoices; overdue receivables with aging.', 'list_overdue_invoices answers "who owes us what, and since when" with totals per currency and aging bucket; list_invoices and get_invoice show the rest.'),
    ToolsetInfo('invoice_sharing', False, 'Shareable links to sent invoices (the client opens, views and pays online).', 'get_invoice_share_link gives a link to a sent invoice; a draft must be sent first (send_invoice).'),
    ToolsetInfo('payments', True, 'Record payments received against invoices and list them.', 'record_payment records money received on an invoice; list_payments shows what came in.'),
    ToolsetInfo('expenses', False, 'List, summarize and record expenses; the expense categories.', 'summarize_expenses answers "what did we spend on what"; list_expense_categories gives the category names the expense tools take.'),
    ToolsetInfo('documents', False, 'Receipts on expenses, a logo on an invoice, online card/bank payments on an invoice.', 'attach_file puts a receipt on an expense or a logo on an invoice; set_online_payments lets a client pay an invoice online.'),
    ToolsetInfo('corrections', False, 'Correct mistakes: edit or delete invoices, expenses and payments, showing what changed.', 'update_invoice, update_expense and update_payment fix a record and report each changed field old -> new; delete_invoice, delete_expense and delete_payment remove one after the user confirms.'),
    ToolsetInfo('reports', False, 'FreshBooks reports: profit and loss, tax summary, payments collected, receivables aging.', "profit_and_loss, tax_summary, payments_collected and receivables_aging answer from FreshBooks' own reports, per currency, stating basis, period and what they leave out."),
    ToolsetInfo('time', False, 'Time tracking: list, log and summarize hours; services and rates; invoice unbilled time.', "log_time records hours; summarize_time answers 'how much time on what'; invoice_unbilled_time turns a client's unbilled hours into one draft invoice."),
    ToolsetInfo('projects', False, 'Projects: list and read them with hours logged vs budget and billed status; change one.', "get_project shows a project's rate, budget, hours logged and unbilled, services and team."),
    ToolsetInfo('estimates', False, 'Quotes: list, create, send and accept estimates; convert one to a draft invoice.', "Estimates are quotes: create_estimate drafts one, send_estimate emails it, accept_estimate records the client's yes, convert_estimate_to_invoice makes the draft invoice with the same lines, taxes and discount."),
    ToolsetInfo('catalogue', False, 'The items sold (unit cost, default taxes) and the taxes, to build invoice and estimate lines.', 'list_items and list_taxes give the names, unit costs and tax percents to put on lines; a line may name an item instead. create_item, update_item and create_tax edit the catalogue.'),
)
