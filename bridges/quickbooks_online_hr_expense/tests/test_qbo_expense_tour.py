"""The expense's screens in headless Chromium: Send to QuickBooks from the form, its transfer state."""
from odoo.tests import tagged

from .test_qbo_expense import QboExpenseCommon


@tagged('post_install', '-at_install')
class TestQboExpenseTour(QboExpenseCommon):

    def test_send_a_company_card_expense_from_its_form(self):
        expense = self._expense(self.cat_meals, 38.25, 'Tour lunch', mode='company_account')
        move = self._post(expense, payment_method=self.card_method)
        url = f'/odoo/action-hr_expense.hr_expense_actions_all/{expense.id}'
        self.start_tour(url, 'qbo_expense_send', login='qbo_admin')
        binding = move._qbo_binding(self.connection)
        self.assertEqual((binding.state, binding.entity), ('sent', 'Purchase'), binding.error_message)
        purchase = self.qbo_read(self.realm, 'Purchase', binding.qbo_id)
        self.assertEqual((purchase['PaymentType'], purchase['TotalAmt']), ('CreditCard', 38.25))
        self.assertEqual(purchase['AccountRef']['value'], self.qbo_accounts['Company Visa'].qbo_id)
