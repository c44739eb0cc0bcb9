"""Purchase orders to QuickBooks purchase orders, and the bills made from them linked to their lines, in real Odoo
against the emulator over HTTP. Every assertion reads what QuickBooks holds afterwards (the emulator's store)."""
from odoo import Command, fields
from odoo.tests import tagged

from odoo.addons.quickbooks_online.tests.test_qbo_payables import QboPayablesCommon


@tagged('post_install', '-at_install')
class TestQboPurchase(QboPayablesCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The connector's test user buys too (res.groups: users on 18.0, user_ids on 19.0).
        buyers = cls.env.ref('purchase.group_purchase_manager').sudo()
        buyers.write({'user_ids' if 'user_ids' in buyers._fields else 'users': [Command.link(cls.env.uid)]})
        # Billed on ordered quantities (no receipts without Inventory); product_b's expense account is mapped.
        (cls.product_a | cls.product_b).write({'purchase_method': 'purchase'})
        cls.product_b.property_account_expense_id = cls.odoo_subcontractors
        cls.company.partner_id.write({'street': '1 Dock St', 'city': 'Oakland', 'zip': '94607',
                                      'country_id': cls.env.ref('base.us').id})

    def setUp(self):
        super().setUp()
        item = self.env['qbo.ref'].search([('connection_id', '=', self.connection.id), ('entity', '=', 'Item'),
                                           ('qbo_id', '=', '1')])
        self._map('product', self.product_a, item)

    # ------------------------------------------------------------------ helpers

    def _order(self, confirm=True):
        """A purchase order: 3 x 40.00 of an item-mapped product, 2 x 62.50 of a product on an expense account."""
        Order = self.env['purchase.order']
        terms = 'note' if 'note' in Order._fields else 'notes'  # 19.0 / 18.0
        order = Order.create({
            'partner_id': self.vendor.id, 'partner_ref': 'Q-7781', terms: '<p>Deliver to the back door</p>',
            'order_line': [Command.create({'product_id': self.product_a.id, 'product_qty': 3, 'price_unit': 40.0}),
                           Command.create({'product_id': self.product_b.id, 'product_qty': 2, 'price_unit': 62.5})]})
        if confirm:
            order.button_confirm()
        return order

    def _sent(self, record):
        binding = record._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'sent', binding.error_message)
        return binding

    def _process(self, record):
        binding = record._qbo_binding(self.connection)
        binding.write({'next_retry_date': False})
        binding._qbo_process()
        return binding

    def _bill_from(self, order):
        action = order.action_create_invoice()
        bill = self.env['account.move'].browse(action['res_id'])
        bill.write({'invoice_date': fields.Date.today(), 'ref': 'NW-INV-55'})
        bill.action_post()
        return bill

    def _qbo_po(self, order):
        return self.qbo_read(self.realm, 'PurchaseOrder', self._sent(order).qbo_id)

    # ------------------------------------------------------------------ tests

    def test_order_becomes_purchase_order_with_its_lines(self):
        """Vendor first, then the purchase order: number, lines (item and account), untaxed total, ship-to
        address, memo and marker as QuickBooks holds them; the QuickBooks line Ids kept on the order lines; an
        edit updates the same purchase order, its lines keeping their Ids."""
        order = self._order()
        order.action_qbo_send()
        po = self._qbo_po(order)
        vendor = self.vendor._qbo_binding(self.connection, 'Vendor')
        self.assertEqual(po['VendorRef']['value'], vendor.qbo_id)
        self.assertEqual((po['DocNumber'], po['POStatus']), (order.name, 'Open'))
        self.assertAlmostEqual(po['TotalAmt'], order.amount_untaxed)
        self.assertAlmostEqual(po['TotalAmt'], 245.0)
        self.assertTrue(po['PrivateNote'].endswith(self._sent(order)._qbo_marker()), po['PrivateNote'])
        self.assertIn('Q-7781', po['PrivateNote'])
        self.assertEqual(po['Memo'], 'Deliver to the back door')
        self.assertEqual((po['ShipAddr']['Line1'], po['ShipAddr']['City']), ('1 Dock St', 'Oakland'))
        item_line, account_line = po['Line']
        self.assertEqual(item_line['ItemBasedExpenseLineDetail']['ItemRef']['value'], '1')
        self.assertEqual((item_line['ItemBasedExpenseLineDetail']['Qty'], item_line['Amount']), (3, 120.0))
        self.assertEqual(account_line['AccountBasedExpenseLineDetail']['AccountRef']['value'],
                         self.qbo_accounts['Subcontractors'].qbo_id)
        self.assertEqual(account_line['Amount'], 125.0)
        self.assertEqual(order.order_line.mapped('qbo_line_id'), [item_line['Id'], account_line['Id']])

        order.write({'order_line': [Command.update(order.order_line[1].id, {'product_qty': 4})]})
        self.assertEqual(order._qbo_binding(self.connection).state, 'to_send')
        self._process(order)
        pos = self.qbo_all(self.realm, 'PurchaseOrder')
        self.assertEqual(len(pos), 1)
        po = self._qbo_po(order)
        self.assertAlmostEqual(po['TotalAmt'], 370.0)
        self.assertEqual([line['Id'] for line in po['Line']], [item_line['Id'], account_line['Id']])
        vendors = [v['DisplayName'] for v in self.qbo_all(self.realm, 'Vendor')]
        self.assertEqual(vendors.count('Northwind Consulting'), 1, vendors)

    def test_bill_from_order_links_its_lines_and_closes_it(self):
        """The bill made from a sent order links each line to its order line (TxnId, TxnLineId): QuickBooks
        closes the purchase order; Odoo's order, fully billed, is sent again as Closed without a second one."""
        order = self._order()
        order.action_qbo_send()
        po_id = self._sent(order).qbo_id
        bill = self._bill_from(order)
        bill.action_qbo_send()
        qbo_bill = self.qbo_read(self.realm, 'Bill', self._sent(bill).qbo_id)
        self.assertAlmostEqual(qbo_bill['TotalAmt'], bill.amount_total)
        links = {line['Description']: line.get('LinkedTxn') for line in qbo_bill['Line']
                 if line.get('DetailType') != 'DescriptionOnly'}
        expected = {order_line.name: [{'TxnId': po_id, 'TxnType': 'PurchaseOrder', 'TxnLineId': order_line.qbo_line_id}]
                    for order_line in order.order_line}
        self.assertEqual(links, expected)
        self.assertEqual(self.qbo_read(self.realm, 'PurchaseOrder', po_id)['POStatus'], 'Closed')
        self.assertEqual(order.invoice_status, 'invoiced')
        self.assertEqual(order._qbo_binding(self.connection).state, 'to_send')
        self._process(order)  # its SyncToken moved with the bill: read again, then sent as Closed
        po = self._qbo_po(order)
        self.assertEqual(po['POStatus'], 'Closed')
        self.assertEqual(len(self.qbo_all(self.realm, 'PurchaseOrder')), 1)
        self.assertIn(qbo_bill['Id'], [link['TxnId'] for link in po.get('LinkedTxn', [])])

    def test_bill_of_an_order_not_in_quickbooks_goes_unlinked_and_says_so(self):
        """An order never sent: its bill is sent without links, with a note saying why."""
        order = self._order()
        bill = self._bill_from(order)
        bill.action_qbo_send()
        qbo_bill = self.qbo_read(self.realm, 'Bill', self._sent(bill).qbo_id)
        self.assertFalse([line for line in qbo_bill['Line'] if line.get('LinkedTxn')])
        self.assertFalse(self.qbo_all(self.realm, 'PurchaseOrder'))
        notes = bill.message_ids.mapped('body')
        self.assertTrue([body for body in notes if order.name in body and 'without its link' in body], notes)

    def test_cancel_closes_the_purchase_order(self):
        """A cancelled order is closed in QuickBooks (kept there, as Odoo keeps it), not deleted; confirmed
        again, it reopens."""
        order = self._order()
        order.action_qbo_send()
        po_id = self._sent(order).qbo_id
        order.button_cancel()
        self.assertEqual(order._qbo_binding(self.connection).state, 'to_send')
        self._process(order)
        self.assertEqual(self.qbo_read(self.realm, 'PurchaseOrder', po_id)['POStatus'], 'Closed')
        self.assertEqual(len(self.qbo_all(self.realm, 'PurchaseOrder')), 1)
        order.button_draft()
        order.button_confirm()
        self._process(order)
        self.assertEqual(self._qbo_po(order)['POStatus'], 'Open')
        self.assertEqual(self._sent(order).qbo_id, po_id)

    def test_cancel_before_it_reached_quickbooks(self):
        """Queued, then cancelled before the export: nothing is created, the link says so."""
        order = self._order()
        binding = self.env['qbo.binding']._qbo_get_or_create(self.connection, order, 'PurchaseOrder')
        order.button_cancel()
        self._process(order)
        self.assertEqual(binding.state, 'voided', binding.error_message)
        self.assertFalse(self.qbo_all(self.realm, 'PurchaseOrder'))

    def test_create_timeout_after_commit_is_sent_once(self):
        """The create commits in QuickBooks but its answer is lost and the retry gets a 429: the next attempt
        finds it (same requestid, marker) and keeps its line Ids, one purchase order in QuickBooks."""
        order = self._order()
        self.vendor.action_qbo_send()
        self.qbo.inject_fault('timeout_after_commit', count=1, path_contains='/purchaseorder', realm_id=self.realm,
                              method='POST')
        self.qbo.inject_fault('429', count=1, path_contains='/purchaseorder', realm_id=self.realm, method='POST')
        order.action_qbo_send()
        binding = order._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'to_send')
        self.assertTrue(binding._qbo_pending_create())
        self.assertEqual(len(self.qbo_all(self.realm, 'PurchaseOrder')), 1)  # created, its answer lost
        self.qbo.clear_faults()
        self.qbo_end_throttle()
        self._process(order)
        po = self._qbo_po(order)
        self.assertEqual(len(self.qbo_all(self.realm, 'PurchaseOrder')), 1)
        self.assertEqual(order.order_line.mapped('qbo_line_id'), [line['Id'] for line in po['Line']])

    def test_auto_send_queues_confirmed_orders(self):
        """With the setting on, a confirmed order is queued by itself (a request for quotation is not)."""
        self.connection.sudo().purchase_auto_send = True
        draft = self._order(confirm=False)
        self.assertFalse(draft._qbo_binding(self.connection))
        draft.button_confirm()
        self.assertEqual(draft._qbo_binding(self.connection).state, 'to_send')
