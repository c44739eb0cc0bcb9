"""Odoo 18.0 / 19.0 compatibility seam: the one place that knows how the two series differ.

The addon runs unchanged on both series; where an API differs, models, data and tests call this module
instead of testing the version themselves. Each helper detects the feature, not the version number, and
says which Odoo 19 API it stands for, so that dropping 18.0 means inlining the 19 branch.
"""
from odoo import api, models, release, sql_db

try:
    from odoo.api import Transaction
except ImportError:  # Odoo 19 moved it with the rest of the ORM
    from odoo.orm.environments import Transaction  # noqa: F401 - re-exported

try:
    from odoo.fields import Domain
except ImportError:  # Odoo 18: domains are lists combined by odoo.osv.expression (deprecated in 19)
    Domain = None
    from odoo.osv import expression

#: The running series, e.g. "19.0" (for messages and logs; code branches on features below).
SERIES = release.major_version


if hasattr(models, 'Constraint'):
    Constraint = models.Constraint
else:
    class Constraint:
        """Odoo 18 stand-in for Odoo 19's ``models.Constraint`` (19 ignores ``_sql_constraints``).

        Declared the 19 way, as a class attribute whose name starts with ``_``::

            _company_uniq = qbo_compat.Constraint('UNIQUE(company_id)', "One connection per company.")

        On 18 it appends ``(name, definition, message)`` to the defining class's own
        ``_sql_constraints``, so that both series create the same constraint, ``<table>_<name>``.
        """

        def __init__(self, definition, message=''):
            self.definition = definition
            self.message = message

        def __set_name__(self, owner, name):
            assert name.startswith('_'), "Names of SQL constraints in a model must start with '_'"
            owner._sql_constraints = [*owner.__dict__.get('_sql_constraints', ()),
                                      (name[1:], self.definition, self.message)]


def domain_or(domains):
    """The union of domains (nothing for none): 19's ``Domain.OR``, 18's ``expression.OR``."""
    if Domain is not None:
        return Domain.OR(domains)
    return expression.OR(domains) if domains else expression.FALSE_DOMAIN


def is_test_cursor(cr):
    """True for the cursor that Odoo's test harness hands out in place of a new connection (a savepoint
    in the test's transaction): such a cursor cannot change its isolation level or really commit.
    (18 asked ``registry.in_test_mode()``; 19 patches ``registry.cursor`` in tests instead.)"""
    return not isinstance(cr, sql_db.Cursor)


def partner_mobile(partner):
    """The partner's mobile number: Odoo 19 dropped ``res.partner.mobile`` (one ``phone`` field)."""
    return partner.mobile if 'mobile' in partner._fields else False


def group_users(group):
    """Every user who has the group, directly or through an implying group (19: ``all_user_ids``;
    18 stores implied memberships in ``users``)."""
    return group.all_user_ids if 'all_user_ids' in group._fields else group.users


def booked_line_amounts(move):
    """``{product line: (untaxed, tax)}`` of a posted invoice, in its currency, as Odoo booked them.

    The untaxed amount is the line's journal item (``amount_currency``), the tax is the line's share of
    the tax journal items, as the tax engine distributes them (``_round_base_lines_tax_details`` matched
    to the move's own tax lines): the untaxed amounts add up to ``amount_untaxed``, the taxes to
    ``amount_tax``, whatever the rounding method.

    Why not ``price_subtotal`` / ``price_total``: they are the line computed alone. With Odoo 19's
    default, *round globally* (*Round per Tax*), the rounding cent of the document lands on one line's
    journal item and not on its ``price_subtotal`` (3 x 33.33 at 20% included: booked 83.32 + 16.67,
    ``price_subtotal`` 83.33, ``price_total`` 100.00). 18 and 19 share this private part of the tax
    engine (``_get_rounded_base_and_tax_lines``, ``taxes_data[].tax_amount_currency``), so both take this
    path; it lives here because a series that changes it is to be handled here, not in the mapper.
    """
    currency = move.currency_id
    base_lines, _tax_lines = move._get_rounded_base_and_tax_lines()
    amounts = {}
    for base_line in base_lines:
        line = base_line.get('record')
        # Early-payment-discount and cash-rounding base lines are not invoice lines.
        if not isinstance(line, models.BaseModel) or line._name != 'account.move.line' \
                or line.display_type != 'product':
            continue
        tax = sum(tax_data['tax_amount_currency'] for tax_data in base_line['tax_details']['taxes_data'])
        amounts[line] = (currency.round(move.direction_sign * line.amount_currency), currency.round(tax))
    return amounts


def groups_field(model):
    """Name of the groups many2many on users and actions: ``group_ids`` in 19, ``groups_id`` in 18."""
    return 'group_ids' if 'group_ids' in model._fields else 'groups_id'


def cron_commit_progress(env, processed, remaining):
    """Report a scheduled action's progress and commit, as Odoo 19's ``ir.cron._commit_progress``.

    Odoo 18 only has ``_notify_progress`` (deprecated in 19), which records without committing: the
    commit is done here so that callers behave the same on both series. Only call it on cron paths.
    """
    cron = env['ir.cron']
    if hasattr(cron, '_commit_progress'):
        cron._commit_progress(processed, remaining=remaining)
        return
    cron._notify_progress(done=processed, remaining=remaining)
    env.cr.commit()  # pylint: disable=invalid-commit - cron path only, as 19's _commit_progress does


class IrActionsServer(models.Model):
    _inherit = 'ir.actions.server'

    @api.model
    def _qbo_allow_group(self, action_xmlids, group_xmlid):
        """Give a group access to server actions; called from data XML (``<function>``), because the
        field's name differs by series (``group_ids`` in 19) and XML records cannot name it both ways."""
        actions = self.browse([self.env.ref(xmlid).id for xmlid in action_xmlids])
        actions.write({groups_field(actions): [(4, self.env.ref(group_xmlid).id)]})
