"""Chaos with expenses: the core chaos harness (tests/test_qbo_chaos.py of quickbooks_online: seeded random
histories, faults, crashes, quiet points, shrinking) with expense actions added - employee-paid expenses
submitted, approved and posted (18.0: an expense report; 19.0: the expenses themselves), company-paid ones on
the card or the bank, sent from the expense's form or a list (the scheduler is the core's ``cron``), reset to
draft after sending (18.0 resets the report; 19.0 reverses the entry, then resets the expense), the entry
cancelled, the expense refused (its entry reset to draft and deleted: refused while QuickBooks holds it), and
the employee's Bill paid in QuickBooks - and the expense invariant, read back from the emulator at every
quiet point:

* every live posted expense entry (not reset) has exactly one live QuickBooks document by its marker, a Bill
  for an employee-paid one and a Purchase for a company-paid one, at the Odoo total to the cent;
* a reset (reversed in full), cancelled or deleted entry has none live;
* a Bill paid in QuickBooks is paid in Odoo by as much, and neither side is overpaid;
* no live Bill or Purchase of ours without its Odoo entry;
* the core's invariants (invoices, payments, nothing left in error, blocked or queued, no lease or limiter
  slot left open) hold too.

As in the core, one outcome is a conflict, not a violation: an expense reset or cancelled in Odoo after its
Bill was paid in QuickBooks (before the payment came back) cannot be deleted there (QuickBooks refuses:
"payments applied"); its link goes to *Error* saying so, for a person to decide, and the run counts it
(``conflict:reset_but_paid_in_qbo``).

Knobs (environment): ``QBO_EXPENSE_CHAOS_STEPS`` (default 40 per seed: the test command's quick run),
``QBO_EXPENSE_CHAOS_SEED`` (default: seeds 5 and 6), ``QBO_CHAOS_QUIET_EVERY`` and ``QBO_CHAOS_ACTIONS`` as
for the core (expense actions: ex_own, ex_company, ex_send_form, ex_send_list, ex_reset, ex_cancel, ex_refuse,
ex_pay_in_qbo), ``QBO_CHAOS_REPORT`` (the JSON summary). A long run::

    QBO_EXPENSE_CHAOS_STEPS=600 QBO_CHAOS_REPORT=.build/chaos-expense.json \\
        QBO_ODOO_TAGS=/quickbooks_online_hr_expense:TestQboExpenseChaos scripts/test -k nothing
"""
import os

from odoo import Command, fields
from odoo.tests import tagged

from odoo.addons.quickbooks_online.models import qbo_compat

# The module, not its class: a TestCase imported by name would run a second time as one of this bridge's tests.
from odoo.addons.quickbooks_online.tests import test_qbo_chaos

from .test_qbo_expense import post_expenses, refuse_expenses, reset_expenses

# Expense actions and how often each is drawn (the core's actions keep their weights beside them).
EXPENSE_ACTION_WEIGHTS = {'ex_own': 14, 'ex_company': 8, 'ex_send_form': 6, 'ex_send_list': 4, 'ex_reset': 6,
                          'ex_cancel': 3, 'ex_refuse': 3, 'ex_pay_in_qbo': 6}
# Where a fault lands when an expense is the target: the documents' paths, their vendors' and batches.
EXPENSE_FAULT_PATHS = ('/bill', '/purchase', '/vendor', '/batch')


@tagged('post_install', '-at_install', 'qbo_chaos')
class TestQboExpenseChaos(test_qbo_chaos.TestQboChaos):

    # Odoo's loader runs only a class's own test methods unless told: the core's random histories are run here
    # (with expenses); its fixed history is the core's test, not run again.
    allow_inherited_tests_method = True
    test_token_refresh_lost_by_a_rollback_history = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.steps = int(os.environ.get('QBO_EXPENSE_CHAOS_STEPS', '40'))
        seed = os.environ.get('QBO_EXPENSE_CHAOS_SEED')
        cls.seeds = [int(seed)] if seed else [5, 6]
        wanted = os.environ.get('QBO_CHAOS_ACTIONS')
        cls.actions.update({name: weight for name, weight in EXPENSE_ACTION_WEIGHTS.items()
                            if not wanted or name in wanted.split(',')})
        env = cls.env
        admin = cls.qbo_admin.sudo()
        admin.write({qbo_compat.groups_field(admin): [Command.link(env.ref('hr_expense.group_hr_expense_manager').id)]})
        # Categories on the expense account the core's world maps (QuickBooks 'Advertising'); one with tax.
        expense_account = cls.company_data['default_account_expense']
        cls.ex_tax = env['account.tax'].create({'name': 'Chaos purchase 8%', 'amount': 8.0, 'amount_type': 'percent',
                                                'type_tax_use': 'purchase', 'company_id': cls.company.id})
        cls.ex_categories = env['product.product'].create([
            {'name': f'Chaos category {i}', 'can_be_expensed': True, 'standard_price': 0.0,
             'property_account_expense_id': expense_account.id, 'supplier_taxes_id': [Command.clear()]}
            for i in range(2)])
        cls.ex_employees = env['hr.employee'].sudo().create(
            [{'name': f'Chaos Spender {i}', 'work_email': f'spender{i}@example.com'} for i in range(2)])
        cls.ex_card = env['account.journal'].create({'name': 'Chaos Visa', 'type': 'credit', 'code': 'CHVSA',
                                                     'company_id': cls.company.id})
        card_method = cls.ex_card.outbound_payment_method_line_ids[:1]
        card_method.payment_account_id = cls.ex_card.default_account_id
        cls.ex_bank = cls.company_data['default_journal_bank']
        # A company-paid expense is paid by card (Purchase CreditCard) or from the bank (Purchase Check).
        cls.ex_methods = card_method | cls.ex_bank.outbound_payment_method_line_ids[:1]

    # ------------------------------------------------------------------ the world

    def _fresh_world(self):
        """The core's world, with expenses sent by themselves once posted (every live expense entry belongs in
        QuickBooks) and the card and bank journals mapped to QuickBooks' seeded card and bank accounts."""
        res = super()._fresh_world()
        self.connection.sudo().expense_auto_send = True
        Mapping, Ref = self.env['qbo.mapping'], self.env['qbo.ref']
        for journal, name in ((self.ex_card, 'Mastercard'), (self.ex_bank, 'Checking')):
            # The seeded accounts keep their Ids in every fresh company: a mapping made once stays right.
            if not Mapping._qbo_find(self.connection, 'deposit_account', journal):
                ref = Ref.search([('connection_id', '=', self.connection.id), ('entity', '=', 'Account'),
                                  ('name', '=', name)])
                Mapping.create({'connection_id': self.connection.id, 'mapping_type': 'deposit_account',
                                'res_id': journal.id, 'qbo_ref_id': ref.id})
        self.expense_moves = self.env['account.move']
        self.deleted_expense_moves = []  # ids of expense entries deleted in Odoo
        return res

    def _draw_step(self, rng):
        """The core's steps, faults also on the expenses' paths, crashes also of an expense send or reset."""
        action, params = super()._draw_step(rng)
        if action == 'faults' and rng.random() < 0.4:
            params['faults'] = [(kind, rng.choice(EXPENSE_FAULT_PATHS), count)
                                for kind, _path, count in params['faults']]
        if action == 'crash' and rng.random() < 0.5:
            params['inner'] = rng.choice(['ex_send_form', 'ex_send_list', 'ex_reset', 'ex_own'])
        return action, params

    def _live_expense_moves(self, rng=None, unpaid=False, mode=None):
        """The tracked expense entries that stand (posted, not reset), optionally only those Odoo shows unpaid (a
        person resets, cancels or refuses only those) or of one payment mode; one drawn when `rng` is given."""
        moves = self.expense_moves.exists().filtered(
            lambda m: m.state == 'posted' and not m._qbo_expense_withdrawn()
            and (not mode or m._qbo_expense_payment_mode() == mode)
            and (not unpaid or m._qbo_expense_payment_mode() == 'company_account'
                 or m.amount_residual == m.amount_total))
        if rng is None:
            return moves
        return rng.choice(moves) if moves else None

    def _new_expenses(self, rng, mode):
        employee = rng.choice(self.ex_employees)
        return self.env['hr.expense'].sudo().create([{
            'name': f'Chaos expense {rng.randrange(10 ** 6)}', 'employee_id': employee.id,
            'product_id': rng.choice(self.ex_categories).id, 'total_amount_currency': round(rng.uniform(5, 400), 2),
            'payment_mode': mode, 'date': fields.Date.today(),
            'tax_ids': [Command.set(self.ex_tax.ids if rng.random() < 0.3 else [])]}
            for _i in range(rng.randint(1, 3) if mode == 'own_account' else 1)])

    def _user_action(self, action, rng):
        if not action.startswith('ex_'):
            return super()._user_action(action, rng)
        expenses = self.expense_moves.exists().sudo().line_ids.expense_id
        if action == 'ex_own':
            self.expense_moves |= post_expenses(self.env, self._new_expenses(rng, 'own_account'))
        elif action == 'ex_company':
            self.expense_moves |= post_expenses(self.env, self._new_expenses(rng, 'company_account'),
                                                payment_method=rng.choice(self.ex_methods))
        elif action == 'ex_send_form' and expenses:
            expense = rng.choice(expenses)
            if 'hr.expense.sheet' in self.env and expense.sheet_id and rng.random() < 0.5:
                expense.sheet_id.with_env(self.env).action_qbo_send()  # 18.0: the report's button
            else:
                expense.with_env(self.env).action_qbo_send()
        elif action == 'ex_send_list' and expenses:
            chosen = rng.sample(list(expenses), min(len(expenses), rng.randint(2, 6)))
            self.env['hr.expense'].browse([expense.id for expense in chosen]).action_qbo_send()
        elif action == 'ex_reset':
            move = self._live_expense_moves(rng, unpaid=True)
            if move:
                reset_expenses(self.env, move.sudo().line_ids.expense_id)
                self.counts['ex_reset_done'] += 1
                if rng.random() < 0.5:  # submitted and posted again at once: a new entry
                    self.expense_moves |= post_expenses(self.env, move.sudo().line_ids.expense_id)
        elif action == 'ex_cancel':
            move = self._live_expense_moves(rng, unpaid=True, mode='own_account')
            if move:
                move.sudo().button_draft()
                move.sudo().button_cancel()
                self.counts['ex_cancel_done'] += 1
        elif action == 'ex_refuse':
            move = self._live_expense_moves(rng, unpaid=True, mode='own_account')
            if move:
                # Refusing deletes the entry reset to draft: refused (UserError) while QuickBooks may hold it.
                move_id = move.id
                move.sudo().button_draft()
                refuse_expenses(self.env, move.sudo().line_ids.expense_id, 'Chaos refusal')
                if not move.exists():
                    self.deleted_expense_moves.append(move_id)
                    self.counts['ex_deleted'] += 1
        elif action == 'ex_pay_in_qbo':
            move = self._live_expense_moves(rng, mode='own_account')
            binding = move and move._qbo_binding(self.connection)
            if binding and binding.qbo_id and binding.state == 'sent' and binding.entity == 'Bill':
                balance = float(self.qbo_read(self.realm, 'Bill', binding.qbo_id).get('Balance') or 0)
                if balance > 0:
                    amount = balance if rng.random() < 0.6 else round(balance / 2, 2)
                    self.qbo.record_bill_payment(self.realm, bills=[{'id': binding.qbo_id, 'amount': amount}])
                    self.counts['qbo_bill_payment'] += 1
        return None

    # ------------------------------------------------------------------ the expense invariant

    def _check_invariants(self, history):
        """The core's invariants, then the expenses' (see the module's docstring). A conflict of an expense (see
        there) is no violation: its link's 'left in error' line is taken out of the core's report."""
        dbuuid = self.env['ir.config_parameter'].sudo().get_param('database.uuid')
        problems, conflicts = self._expense_problems(dbuuid)
        try:
            res = super()._check_invariants(history)
        except test_qbo_chaos.ChaosViolation as violation:
            text = str(violation)
            for binding in conflicts:
                text = text.replace(f"{binding.record_name}: left {binding.state}: {binding.error_message}", '')
            problems = [line for line in text.split('\n') if line.strip()] + problems
            res = None
        if problems:
            raise test_qbo_chaos.ChaosViolation(problems, list(history))
        return res

    def _live_expense_documents(self):
        """{marker: [(entity, document)]} of this realm's live Bills and Purchases (QuickBooks deletes them: no
        void), by our marker, the last word of the private note."""
        live = {}
        for entity in ('Bill', 'Purchase'):
            for document in self.qbo_all(self.realm, entity):
                if document.get('status') == 'Deleted':
                    continue
                words = (document.get('PrivateNote') or '').split()
                marker = ':'.join(words[-1].split(':')[:4]) if words else ''
                live.setdefault(marker, []).append((entity, document))
        return live

    def _expense_problems(self, dbuuid):
        """(problems, conflict bindings) of the expense entries, read from what QuickBooks holds."""
        self.env.invalidate_all()
        live = self._live_expense_documents()
        problems, conflicts = [], self.env['qbo.binding']
        moves = self.expense_moves.exists().sudo()
        for move in moves:
            marker = f"odoo:{dbuuid}:account.move:{move.id}"
            documents = live.get(marker, [])
            mode = move._qbo_expense_payment_mode()
            label = f"expense entry {move.name} (id {move.id}, {mode})"
            if move.state == 'posted' and not move._qbo_expense_withdrawn():
                if len(documents) != 1:
                    problems.append(f"{label}: {len(documents)} live QuickBooks documents")
                    continue
                entity, document = documents[0]
                wanted = 'Bill' if mode == 'own_account' else 'Purchase'
                if entity != wanted:
                    problems.append(f"{label}: a QuickBooks {entity}, not a {wanted}")
                # The Odoo total: the entry's (the employee's bill or receipt), else the expense's (paid by card).
                odoo_total = move.amount_total if mode == 'own_account' else sum(
                    move.line_ids.expense_id.mapped('total_amount_currency'))
                if move.currency_id.compare_amounts(float(document['TotalAmt']), odoo_total):
                    problems.append(f"{label}: QuickBooks total {document['TotalAmt']} != Odoo {odoo_total}")
                if entity != 'Bill':
                    continue
                balance = float(document.get('Balance') or 0)
                applied = float(document['TotalAmt']) - balance
                paid_in_odoo = move.amount_total - move.amount_residual
                if balance < 0 or move.amount_residual < 0:
                    problems.append(f"{label}: overpaid (QuickBooks balance {balance}, Odoo residual "
                                    f"{move.amount_residual})")
                if move.currency_id.compare_amounts(applied, paid_in_odoo):
                    problems.append(f"{label}: QuickBooks applied {applied:.2f}, Odoo shows {paid_in_odoo:.2f} paid")
                self.counts['ex_paid_checked'] += bool(applied)
            elif documents:
                binding = move._qbo_binding(self.connection)
                paid_there = any(float(d.get('Balance') or 0) < float(d['TotalAmt']) for _e, d in documents)
                if paid_there and binding.state == 'error':
                    conflicts |= binding  # reset or cancelled after a payment in QuickBooks: for a person
                    self.counts['conflict:reset_but_paid_in_qbo'] += 1
                else:
                    problems.append(f"{label} ({'reset' if move.state == 'posted' else move.state}): "
                                    f"{len(documents)} live QuickBooks documents")
        for move_id in self.deleted_expense_moves:
            if live.get(f"odoo:{dbuuid}:account.move:{move_id}"):
                problems.append(f"deleted expense entry id {move_id}: still live in QuickBooks")
        # A live document of ours must have its Odoo entry (the core's moves: invoices' bills; deleted ones are
        # reported above or by the core).
        known = {f"odoo:{dbuuid}:account.move:{move_id}"
                 for move_id in moves.ids + self.moves.ids + self.deleted + self.deleted_expense_moves}
        for marker, documents in live.items():
            if marker.startswith(f"odoo:{dbuuid}:account.move:") and marker not in known:
                entity, document = documents[0]
                problems.append(f"{entity} {document['Id']} ({marker}): no Odoo entry behind it")
        self.counts['ex_entries_checked'] += len(moves)
        return problems, conflicts
