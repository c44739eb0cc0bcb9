from odoo import fields, models


class AccountJournal(models.Model):
    """Which journals send their posted miscellaneous entries to QuickBooks as journal entries (opt-in)."""
    _inherit = 'account.journal'

    qbo_send_entries = fields.Boolean(
        'Send posted entries to QuickBooks', groups='account.group_account_invoice',
        help="Posted miscellaneous entries of this journal are sent to QuickBooks as journal entries (not the "
             "entries of invoices, bills, payments, bank statements, cash-basis taxes or exchange differences). "
             "Their accounts must be mapped (kind Account).")
