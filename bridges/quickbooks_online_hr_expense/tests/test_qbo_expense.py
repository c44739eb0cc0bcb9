"""Expenses to QuickBooks, in real Odoo against the emulator over HTTP.

Employee-paid expenses (an expense report on 18.0, expenses posted one by one on 19.0) become a Bill payable to
the employee's vendor; company-paid ones a Purchase on the card account. Every assertion reads what QuickBooks
holds afterwards (the emulator's store), never what Odoo believes.
"""
from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.quickbooks_online.models import qbo_compat
from odoo.addons.quickbooks_online.tests.test_qbo_payables import QboPayablesCommon


def post_expenses(env, expenses, payment_method=None):
    """Post `expenses` in accounting as Odoo's buttons do: their expense report (the one they are on, reset to
    draft, or a new one) submitted, approved and posted (18.0), or the expenses submitted, approved and posted
    (19.0, with the posting wizard for those the employee paid). Returns their journal entries (in `env`)."""
    expenses = expenses.sudo()
    if 'hr.expense.sheet' in env:
        sheet = expenses.sheet_id[:1]
        if not sheet:
            sheet = env['hr.expense.sheet'].sudo().create({
                'name': f"Report {expenses[0].name}", 'employee_id': expenses[0].employee_id.id,
                'expense_line_ids': [Command.set(expenses.ids)]})
        if payment_method:
            sheet.payment_method_line_id = payment_method
        sheet.action_submit_sheet()
        sheet.action_approve_expense_sheets()
        sheet.action_sheet_move_post()
        moves = sheet.account_move_ids
    else:
        if payment_method:
            expenses.payment_method_line_id = payment_method
        expenses.action_submit()
        expenses.action_approve()
        action = expenses.action_post()
        if action:
            wizard = env['hr.expense.post.wizard'].sudo().with_context(**action['context']).browse(action['res_id'])
            wizard.accounting_date = fields.Date.today()
            wizard.action_post_entry()
        moves = expenses.account_move_id
    return moves.sudo(False).with_env(env)


def reset_expenses(env, expenses):
    """Reset posted `expenses` to draft as a user does: 18.0 resets their report (Odoo reverses its posted
    entries in full); 19.0 refuses to reset an expense whose entry is posted, so the entry is reversed first
    (Reverse, then the credit note posted when Odoo leaves it in draft), then the expenses are reset."""
    expenses = expenses.sudo()
    if 'hr.expense.sheet' in env:
        expenses.sheet_id.action_reset_expense_sheets()
        return
    moves = expenses.account_move_id
    wizard = env['account.move.reversal'].sudo().with_context(active_model='account.move', active_ids=moves.ids).create(
        {'journal_id': moves[:1].journal_id.id, 'date': fields.Date.today()})
    wizard.refund_moves()
    wizard.new_move_ids.filtered(lambda move: move.state == 'draft').action_post()
    expenses.action_reset()


def refuse_expenses(env, expenses, reason):
    """Refuse `expenses` (18.0: their report), as the refusal wizard does."""
    expenses = expenses.sudo()
    (expenses.sheet_id if 'hr.expense.sheet' in env else expenses)._do_refuse(reason)


class QboExpenseCommon(QboPayablesCommon):
    """Two expense categories on their own expense accounts (mapped in QuickBooks), an employee, a company card."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        admin = cls.qbo_admin.sudo()
        admin.write({qbo_compat.groups_field(admin): [Command.link(env.ref('hr_expense.group_hr_expense_manager').id)]})
        Account = env['account.account']
        cls.odoo_travel = Account.create({'name': 'Travel', 'code': '625101', 'account_type': 'expense'})
        cls.odoo_meals = Account.create({'name': 'Meals', 'code': '625102', 'account_type': 'expense'})
        Product = env['product.product']
        cls.cat_travel = Product.create({'name': 'Train tickets', 'can_be_expensed': True, 'standard_price': 0.0,
                                         'property_account_expense_id': cls.odoo_travel.id,
                                         'supplier_taxes_id': [Command.clear()]})
        cls.cat_meals = Product.create({'name': 'Client meals', 'can_be_expensed': True, 'standard_price': 0.0,
                                        'property_account_expense_id': cls.odoo_meals.id,
                                        'supplier_taxes_id': [Command.clear()]})
        # Expenses are entered tax included (Odoo computes them so, whatever the tax's own setting).
        cls.tax_purchase = env['account.tax'].create({
            'name': 'Purchase 8%', 'amount': 8.0, 'amount_type': 'percent', 'type_tax_use': 'purchase',
            'company_id': cls.company.id})
        cls.employee = env['hr.employee'].sudo().create({'name': 'Erin Travels', 'work_email': 'erin@example.com'})
        cls.card = env['account.journal'].create({'name': 'Company Visa', 'type': 'credit', 'code': 'CVISA',
                                                  'company_id': cls.company.id})
        cls.card_method = cls.card.outbound_payment_method_line_ids[:1]
        cls.card_method.payment_account_id = cls.card.default_account_id
        cls.bank = cls.company_data['default_journal_bank']

    def setUp(self):
        super().setUp()
        with self.connection._qbo_client_session() as client:
            for name in ('Travel', 'Meals'):
                client.create('Account', {'Name': name, 'AccountType': 'Expense',
                                          'AccountSubType': 'OtherMiscellaneousServiceCost'},
                              request_id=f"test-account-{name}-{self.realm}")
        self.connection._qbo_import_references()
        Ref = self.env['qbo.ref']
        self.qbo_accounts = {ref.name: ref for ref in Ref.search([('connection_id', '=', self.connection.id),
                                                                   ('entity', '=', 'Account')])}
        self._map('account', self.odoo_travel, self.qbo_accounts['Travel'])
        self._map('account', self.odoo_meals, self.qbo_accounts['Meals'])
        self._map('account', self.employee.sudo().work_contact_id.property_account_payable_id,
                  self.qbo_accounts['Trade payables'])
        self._map('deposit_account', self.card, self.qbo_accounts['Company Visa'])
        self._map('deposit_account', self.bank, self.qbo_accounts['Checking'])

    # ------------------------------------------------------------------ helpers

    def _expense(self, category, amount, name, mode='own_account', **extra):
        return self.env['hr.expense'].sudo().create(dict({
            'name': name, 'employee_id': self.employee.id, 'product_id': category.id,
            'total_amount_currency': amount, 'payment_mode': mode, 'date': fields.Date.today(),
            'tax_ids': [Command.clear()]}, **extra))

    def _post(self, expenses, payment_method=None):
        """Post `expenses` in accounting as Odoo's buttons do (see `post_expenses`); returns their entries."""
        moves = post_expenses(self.env, expenses, payment_method)
        self.assertTrue(moves and set(moves.mapped('state')) == {'posted'}, moves.mapped('state'))
        return moves

    def _bill_of(self, move):
        binding = move._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'sent', binding.error_message)
        self.assertEqual(binding.entity, 'Bill')
        return self.qbo_read(self.realm, 'Bill', binding.qbo_id)

    def _lines_by_account(self, document):
        return sorted((line['AccountBasedExpenseLineDetail']['AccountRef']['value'], line['Amount'])
                      for line in document['Line'] if line.get('DetailType') == 'AccountBasedExpenseLineDetail')

    def _employee_vendor(self):
        partner = self.employee.sudo().work_contact_id
        binding = partner._qbo_binding(self.connection, 'Vendor')
        self.assertTrue(binding.qbo_id, binding.error_message)
        return self.qbo_read(self.realm, 'Vendor', binding.qbo_id)


@tagged('post_install', '-at_install')
class TestQboExpense(QboExpenseCommon):

    def test_employee_paid_expenses_bill_then_paid_in_quickbooks(self):
        """Two expenses the employee paid (one with tax included): one Bill to the employee's vendor, one line
        per expense on its category's mapped account, total to the cent; paid in QuickBooks -> paid in Odoo."""
        self.connection.sudo().expense_auto_send = True
        expenses = self._expense(self.cat_travel, 184.37, 'Train to Lyon') | self._expense(
            self.cat_meals, 107.44, 'Dinner with Contoso', tax_ids=[Command.set(self.tax_purchase.ids)])
        moves = self._post(expenses)
        self.assertEqual(len(moves), 1, "one bill (18.0 report) or one receipt (19.0) for the employee")
        move = moves
        self.assertEqual(move.move_type, 'in_invoice' if 'hr.expense.sheet' in self.env else 'in_receipt')
        binding = move._qbo_binding(self.connection)
        self.assertEqual((binding.state, binding.entity), ('to_send', 'Bill'), "queued by 'Send expenses "
                                                                               "automatically'")
        self.env['qbo.binding']._cron_qbo_export()
        bill = self._bill_of(move)
        vendor = self._employee_vendor()
        self.assertEqual(bill['VendorRef']['value'], vendor['Id'])
        self.assertEqual(vendor['DisplayName'], self.employee.sudo().work_contact_id.name)
        self.assertEqual(bill['TotalAmt'], 291.81, "184.37 + 107.44, tax included, to the cent")
        self.assertEqual(self._lines_by_account(bill), sorted([(self.qbo_accounts['Travel'].qbo_id, 184.37),
                                                               (self.qbo_accounts['Meals'].qbo_id, 107.44)]))
        self.assertEqual(bill['APAccountRef']['value'], self.qbo_accounts['Trade payables'].qbo_id)
        self.assertTrue(bill['PrivateNote'].rstrip().endswith(binding._qbo_marker()))
        self.assertEqual(len(self.qbo_all(self.realm, 'Bill')), 1)
        self.assertEqual(set(expenses.mapped('qbo_state')), {'sent'})
        if 'hr.expense.sheet' in self.env:
            self.assertEqual((expenses.sheet_id.qbo_state, expenses.sheet_id.qbo_entity), ('sent', 'Bill'))
        # Paid in QuickBooks (Expenses > Pay bills, by check from Checking): paid in Odoo by the change feed.
        payment = self.qbo.record_bill_payment(self.realm, pay_type='Check',
                                               bank_account_id=self.qbo_accounts['Checking'].qbo_id,
                                               bills=[{'id': binding.qbo_id, 'amount': None}], reference='2044')
        self.connection._qbo_drain()
        record = self.env['qbo.payment.import'].search([('connection_id', '=', self.connection.id),
                                                        ('qbo_entity', '=', 'BillPayment'),
                                                        ('qbo_id', '=', payment['Id'])])
        self.assertEqual(record.state, 'imported', record.message)
        odoo_payment = record.payment_id
        self.assertEqual((odoo_payment.payment_type, odoo_payment.partner_type), ('outbound', 'supplier'))
        self.assertEqual((odoo_payment.amount, odoo_payment.journal_id), (291.81, self.bank))
        self.assertEqual(odoo_payment.partner_id, move.commercial_partner_id)
        self.assertEqual(move.amount_residual, 0.0)
        self.assertIn(move.payment_state, ('paid', 'in_payment'))
        self.assertEqual(self.qbo_read(self.realm, 'Bill', binding.qbo_id)['Balance'], 0)
        # Read again: still one Odoo payment, the bill not sent again.
        self.connection._qbo_drain()
        self.assertEqual(self.env['account.payment'].search_count(
            [('partner_id', '=', move.commercial_partner_id.id), ('state', '!=', 'canceled')]), 1)
        self.assertEqual(len(self.qbo_all(self.realm, 'Bill')), 1)

    def test_employee_reimbursed_in_odoo_is_a_bill_payment(self):
        """The employee reimbursed from Odoo (Register payment on the entry): a BillPayment of the expense's Bill
        from Checking, sent once, the Bill paid in QuickBooks."""
        self.connection.sudo().payment_export = True
        move = self._post(self._expense(self.cat_travel, 230.15, 'Hotel in Lyon'))
        move.action_qbo_send()
        bill_id = self._bill_of(move)['Id']
        self.env['account.payment.register'].with_context(active_model='account.move', active_ids=move.ids).create(
            {'journal_id': self.bank.id})._create_payments()
        self.assertEqual(move.amount_residual, 0.0)
        self.env['account.payment']._qbo_enqueue_payment_exports()
        self.env['account.payment']._qbo_enqueue_payment_exports()
        payments = self.qbo_all(self.realm, 'BillPayment')
        self.assertEqual(len(payments), 1, "sent once")
        self.assertEqual(payments[0]['Line'][0]['LinkedTxn'][0], {'TxnId': bill_id, 'TxnType': 'Bill'})
        self.assertEqual((payments[0]['PayType'], payments[0]['TotalAmt']), ('Check', 230.15))
        self.assertEqual(payments[0]['CheckPayment']['BankAccountRef']['value'], self.qbo_accounts['Checking'].qbo_id)
        self.assertEqual(self.qbo_read(self.realm, 'Bill', bill_id)['Balance'], 0)

    def test_company_card_expense_is_a_purchase_with_its_receipt(self):
        """A company-card expense: a Purchase (CreditCard) on the card's QuickBooks account, its category's
        account line, the receipt attached; never a Bill."""
        self.connection.sudo().send_attachments = True
        expense = self._expense(self.cat_meals, 64.9, 'Lunch with Fabrikam', mode='company_account')
        receipt = self.env['ir.attachment'].create({
            'name': 'lunch-receipt.pdf', 'raw': b'%PDF-1.4 receipt', 'mimetype': 'application/pdf',
            'res_model': 'hr.expense', 'res_id': expense.id})
        expense.sudo().message_main_attachment_id = receipt
        move = self._post(expense, payment_method=self.card_method)
        self.assertEqual(move.journal_id, self.card)
        self.assertEqual(expense.qbo_state, 'not_sent')
        expense.with_env(self.env).action_qbo_send()
        binding = move._qbo_binding(self.connection)
        self.assertEqual((binding.state, binding.entity), ('sent', 'Purchase'), binding.error_message)
        purchase = self.qbo_read(self.realm, 'Purchase', binding.qbo_id)
        self.assertEqual(purchase['PaymentType'], 'CreditCard')
        self.assertEqual(purchase['AccountRef']['value'], self.qbo_accounts['Company Visa'].qbo_id)
        self.assertEqual(purchase['TotalAmt'], 64.9)
        self.assertEqual(self._lines_by_account(purchase), [(self.qbo_accounts['Meals'].qbo_id, 64.9)])
        self.assertNotIn('EntityRef', purchase, "no merchant recorded on the expense")
        self.assertFalse(self.qbo_all(self.realm, 'Bill'))
        self.assertEqual(expense.qbo_state, 'sent')
        attached = [a for a in self.qbo_all(self.realm, 'Attachable')
                    if any(ref['EntityRef'] == {'type': 'Purchase', 'value': binding.qbo_id}
                           for ref in a.get('AttachableRef') or [])]
        self.assertEqual([a['FileName'] for a in attached], ['lunch-receipt.pdf'])
        # Sent again: nothing new in QuickBooks.
        expense.with_env(self.env).action_qbo_send()
        self.assertEqual(len(self.qbo_all(self.realm, 'Purchase')), 1)

    def test_rebilled_expense_is_billable_to_the_customer(self):
        """An expense on a project's analytic account (a customer's): its Bill line is billable to that
        customer, sent first."""
        expense = self._expense(self.cat_travel, 412.5, 'Flight to the client site',
                                analytic_distribution={str(self.project.id): 100})
        other = self._expense(self.cat_meals, 23.1, 'Team coffee')
        move = self._post(expense | other)
        move.action_qbo_send()
        bill = self._bill_of(move)
        customer = self.project_customer._qbo_binding(self.connection, 'Customer')
        self.assertTrue(customer.qbo_id, customer.error_message)
        details = {line['Amount']: line['AccountBasedExpenseLineDetail'] for line in bill['Line']
                   if line.get('DetailType') == 'AccountBasedExpenseLineDetail'}
        self.assertEqual(details[412.5]['CustomerRef']['value'], customer.qbo_id)
        self.assertEqual(details[412.5]['BillableStatus'], 'Billable')
        self.assertNotIn('CustomerRef', details[23.1])
        self.assertEqual(details[23.1].get('BillableStatus', 'NotBillable'), 'NotBillable')
        self.assertEqual(bill['TotalAmt'], 435.6)

    def _send_losing_the_answer(self, move):
        """Send the employee's vendor, then `move`'s Bill: its create commits in QuickBooks but the answer is
        lost (a timeout after commit) and the retry meets a 429."""
        self.employee.sudo().work_contact_id.with_env(self.env).action_qbo_send()  # the vendor first
        self.qbo.inject_fault('timeout_after_commit', count=1, path_contains='/bill', realm_id=self.realm,
                              method='POST')
        self.qbo.inject_fault('429', count=1, path_contains='/bill', realm_id=self.realm, method='POST')
        move.action_qbo_send()

    def test_create_timeout_after_commit_then_429_is_sent_once(self):
        """The Bill's create commits in QuickBooks but its answer is lost, the retry gets a 429: one Bill."""
        move = self._post(self._expense(self.cat_travel, 77.77, 'Taxi'))
        self._send_losing_the_answer(move)
        binding = move._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'to_send', binding.error_message)
        self.assertEqual(len(self.qbo_all(self.realm, 'Bill')), 1, "QuickBooks holds it already")
        self.qbo.clear_faults()
        self.qbo_end_throttle()
        binding.write({'next_retry_date': False})
        binding._qbo_process()
        self.assertEqual(binding.state, 'sent', binding.error_message)
        bills = self.qbo_all(self.realm, 'Bill')
        self.assertEqual([b['Id'] for b in bills], [binding.qbo_id], "found by its marker, not created again")
        self.assertEqual(bills[0]['TotalAmt'], 77.77)

    def test_purchase_create_timeout_after_commit_then_429_is_sent_once(self):
        """The same for a company-paid expense's Purchase."""
        move = self._post(self._expense(self.cat_meals, 18.4, 'Parking', mode='company_account'),
                          payment_method=self.card_method)
        self.qbo.inject_fault('timeout_after_commit', count=1, path_contains='/purchase', realm_id=self.realm,
                              method='POST')
        self.qbo.inject_fault('429', count=1, path_contains='/purchase', realm_id=self.realm, method='POST')
        move.action_qbo_send()
        binding = move._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'to_send', binding.error_message)
        self.qbo.clear_faults()
        self.qbo_end_throttle()
        binding.write({'next_retry_date': False})
        binding._qbo_process()
        self.assertEqual(binding.state, 'sent', binding.error_message)
        purchases = self.qbo_all(self.realm, 'Purchase')
        self.assertEqual([p['Id'] for p in purchases], [binding.qbo_id])

    def test_expense_bills_are_not_sent_as_ordinary_bills(self):
        """'Send posted vendor bills automatically' leaves expense moves alone: only 'Send expenses
        automatically' queues them, at posting and in the sweep; an unmapped journal says what to map."""
        self.connection.sudo().write({'auto_send_bills': True, 'expense_auto_send': False})
        own = self._post(self._expense(self.cat_travel, 50.0, 'Bus'))
        card = self._post(self._expense(self.cat_meals, 12.0, 'Snack', mode='company_account'),
                          payment_method=self.card_method)
        ordinary = self._bill([self._line(90.0)])
        self.assertFalse(own._qbo_binding(self.connection) or card._qbo_binding(self.connection))
        self.assertTrue(ordinary._qbo_binding(self.connection), "ordinary bills still go by themselves")
        self.connection.sudo().next_auto_export = False
        queued = self.env['qbo.connection']._qbo_enqueue_auto_send_all()
        self.assertFalse(queued.filtered(lambda b: b.res_id in (own | card).ids))
        self.connection.sudo().expense_auto_send = True
        queued = self.env['qbo.connection']._qbo_enqueue_auto_send_all()
        self.assertEqual(sorted(queued.filtered(lambda b: b.res_id in (own | card).ids).mapped('entity')),
                         ['Bill', 'Purchase'])
        self.env['qbo.mapping'].search([('mapping_type', '=', 'deposit_account'),
                                        ('res_id', '=', self.card.id)]).unlink()
        card.action_qbo_send()
        binding = card._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'blocked')
        self.assertIn("'Bank or card account'", binding.error_message)
        self.assertFalse(self.qbo_all(self.realm, 'Purchase'))

    def test_bridge_is_auto_installed_on_both_apps(self):
        """auto_install on the connector and Expenses; the screens of the series' expense models are there."""
        module = self.env['ir.module.module'].sudo().search([('name', '=', 'quickbooks_online_hr_expense')])
        self.assertTrue(module.auto_install)
        self.assertEqual(set(module.dependencies_id.mapped('name')), {'quickbooks_online', 'hr_expense'})
        form = self.env['hr.expense'].get_views([(False, 'form')])['views']['form']['arch']
        self.assertIn('action_qbo_send', form)
        report_view = self.env.ref('quickbooks_online_hr_expense.view_hr_expense_sheet_form_qbo',
                                   raise_if_not_found=False)
        if 'hr.expense.sheet' in self.env:
            self.assertTrue(report_view, "18.0: the expense report's screens are loaded")
            arch = self.env['hr.expense.sheet'].get_views([(False, 'form')])['views']['form']['arch']
            self.assertIn('action_qbo_send', arch)
        else:
            self.assertFalse(report_view, "19.0 has no expense reports")

    # ------------------------------------------------------------------ reset, refuse, cancel after sending

    def _live(self, entity):
        return [document for document in self.qbo_all(self.realm, entity) if document.get('status') != 'Deleted']

    def _notes(self, move):
        return ' '.join(move.sudo().message_ids.mapped('body'))

    def test_reset_sent_employee_expense_deletes_its_bill_then_posts_a_new_one(self):
        """A sent employee-paid expense reset to draft (its entry reversed in full): its Bill is deleted in
        QuickBooks by the export, the reversal sends nothing (no VendorCredit, even with vendor bills sent by
        themselves), the entry's chatter says so; posted again, one new Bill, the old one stays gone."""
        self.connection.sudo().write({'expense_auto_send': True, 'auto_send_bills': True})
        expense = self._expense(self.cat_travel, 142.3, 'Train to Lille')
        move = self._post(expense)
        self.env['qbo.binding']._cron_qbo_export()
        bill_id = self._bill_of(move)['Id']
        reset_expenses(self.env, expense)
        self.assertTrue(move._qbo_expense_withdrawn())
        reversal = move.reversal_move_ids
        self.assertEqual(reversal.state, 'posted')
        self.assertFalse(reversal._qbo_sends())
        self.assertFalse(reversal._qbo_binding(self.connection), "the reversal is not queued")
        binding = move._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'to_send', "the removal is queued")
        self.assertEqual([b['Id'] for b in self._live('Bill')], [bill_id], "nothing removed before the export")
        self.env['qbo.binding']._cron_qbo_export()
        self.assertEqual(binding.state, 'voided', binding.error_message)
        self.assertEqual(self.qbo_read(self.realm, 'Bill', bill_id).get('status'), 'Deleted')
        self.assertFalse(self._live('Bill'))
        self.assertFalse(self.qbo_all(self.realm, 'VendorCredit'), "the reversal never reaches QuickBooks")
        self.assertIn('is deleted there by the next export', self._notes(move))
        self.assertIn(f'Bill (Id {bill_id}) was deleted', self._notes(move))
        # Posted again (a new entry): one new Bill at its total; the reset entry sends nothing more.
        new_move = self._post(expense)
        self.assertNotEqual(new_move, move)
        self.env['qbo.binding']._cron_qbo_export()
        move.action_qbo_send()
        bills = self._live('Bill')
        self.assertEqual(len(bills), 1)
        self.assertEqual((bills[0]['Id'], bills[0]['TotalAmt']), (self._bill_of(new_move)['Id'], 142.3))
        self.assertNotEqual(bills[0]['Id'], bill_id)
        self.assertEqual(binding.state, 'voided')

    def test_reset_sent_company_paid_expense_deletes_its_purchase(self):
        """A sent company-card expense reset to draft: its Purchase is deleted in QuickBooks, the chatter says so."""
        expense = self._expense(self.cat_meals, 58.6, 'Client dinner', mode='company_account')
        move = self._post(expense, payment_method=self.card_method)
        expense.with_env(self.env).action_qbo_send()
        binding = move._qbo_binding(self.connection)
        self.assertEqual((binding.state, binding.entity), ('sent', 'Purchase'), binding.error_message)
        purchase_id = binding.qbo_id
        reset_expenses(self.env, expense)
        self.assertTrue(move._qbo_expense_withdrawn())
        self.assertEqual(binding.state, 'to_send')
        self.env['qbo.binding']._cron_qbo_export()
        self.assertEqual(binding.state, 'voided', binding.error_message)
        self.assertEqual(self.qbo_read(self.realm, 'Purchase', purchase_id).get('status'), 'Deleted')
        self.assertFalse(self._live('Purchase'))
        self.assertIn(f'Purchase (Id {purchase_id}) was deleted', self._notes(move))

    def test_reset_after_an_unknown_create_deletes_what_reached_quickbooks(self):
        """The Bill's create commits in QuickBooks but its answer is lost (then a 429): the expense is reset
        before any retry. The export finds the Bill by its marker and deletes it: nothing is left live."""
        expense = self._expense(self.cat_travel, 61.05, 'Airport shuttle')
        move = self._post(expense)
        self._send_losing_the_answer(move)
        binding = move._qbo_binding(self.connection)
        self.assertTrue(binding._qbo_pending_create() and not binding.qbo_id)
        self.assertEqual(len(self._live('Bill')), 1, "QuickBooks holds it, Odoo does not know its Id")
        self.qbo.clear_faults()
        self.qbo_end_throttle()
        reset_expenses(self.env, expense)
        binding.write({'next_retry_date': False})
        self.env['qbo.binding']._cron_qbo_export()
        self.assertEqual(binding.state, 'voided', binding.error_message)
        self.assertFalse(self._live('Bill'), "found by its marker and deleted, never created again")
        self.assertIn('was deleted', self._notes(move))

    def test_reset_before_sending_creates_nothing(self):
        """Queued, reset before the export ran: nothing is created in QuickBooks, the link says why."""
        self.connection.sudo().expense_auto_send = True
        expense = self._expense(self.cat_meals, 33.0, 'Breakfast')
        move = self._post(expense)
        reset_expenses(self.env, expense)
        self.env['qbo.binding']._cron_qbo_export()
        binding = move._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'voided', binding.error_message)
        self.assertIn('nothing to delete', binding.error_message)
        self.assertFalse(self.qbo_all(self.realm, 'Bill'))

    def test_refusing_a_sent_expense_is_refused_then_cancel_deletes_its_bill(self):
        """The entry of a sent expense reset to draft and the expense refused: Odoo would delete the entry, which
        the connector refuses while QuickBooks holds its Bill (the core's rule, with its advice); cancelling the
        entry deletes the Bill there and the chatter says so."""
        expense = self._expense(self.cat_travel, 97.2, 'Rental car')
        move = self._post(expense)
        move.action_qbo_send()
        bill_id = self._bill_of(move)['Id']
        move.sudo().button_draft()
        # The refusal's transaction is rolled back, as the request's would be (19.0 deletes the entry's lines
        # before the entry's own check refuses).
        with self.assertRaisesRegex(UserError, 'is in QuickBooks .*Cancel it instead'), self.env.cr.savepoint():
            refuse_expenses(self.env, expense, 'Not a business trip')
        self.env.invalidate_all()
        self.assertTrue(move.exists())
        self.assertEqual([b['Id'] for b in self._live('Bill')], [bill_id], "still live: nothing was deleted")
        move.sudo().button_cancel()
        self.env['qbo.binding']._cron_qbo_export()
        binding = move._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'voided', binding.error_message)
        self.assertFalse(self._live('Bill'))
        self.assertIn(f'Bill (Id {bill_id}) was deleted', self._notes(move))
