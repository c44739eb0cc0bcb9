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


def line_totals(line):
    """A product line's ``(untaxed, tax included)`` amounts, unrounded, as 18's ``price_subtotal`` and
    ``price_total`` hold them.

    19 stores them rounded, the untaxed amount and the tax of each line separately (3 x 33.33 at 20%
    included: 83.33 + 16.67 = 100.00 while the customer owes 99.99). Computed here the same way on
    both series, through the tax engine they share, so that payloads are identical.
    """
    base_line = line.move_id._prepare_product_base_line_for_taxes_computation(line)
    line.env['account.tax']._add_tax_details_in_base_line(base_line, line.company_id)
    details = base_line['tax_details']
    return details['raw_total_excluded_currency'], details['raw_total_included_currency']


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
