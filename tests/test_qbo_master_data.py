"""Master data both ways: customers, vendors and items, each field owned by one side (Odoo by default).

Every test edits one side (Odoo, or QuickBooks through the emulator's control API, as another
QuickBooks user would), runs the change feed and the export as the crons do, and reads the result
back: the Odoo record, the QuickBooks object, and the emulator's request log (what was written).
"""
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import QboTestCommon

VERIFIER = 'master-data-verifier-token'


@tagged('post_install', '-at_install')
class TestQboMasterData(QboTestCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.connection.sudo().webhook_verifier_token = VERIFIER

    # ------------------------------------------------------------------ helpers

    def _own(self, entity, **owners):
        """Set who owns fields of `entity` (e.g. phone='qbo'), as in Settings > Master data ownership."""
        Owner = self.env['qbo.master.field']
        Owner._qbo_ensure_rows(self.connection)
        for key, owner in owners.items():
            Owner.search([('connection_id', '=', self.connection.id), ('entity', '=', entity),
                          ('field_key', '=', key)]).owner = owner

    def _customer(self, name, **vals):
        partner = self.env['res.partner'].create(dict({'name': name, 'is_company': True, 'email': 'old@example.com',
                                                       'phone': '+1 555 0001'}, **vals))
        partner.action_qbo_send()
        binding = partner._qbo_binding(self.connection, 'Customer')
        self.assertEqual(binding.state, 'sent', binding.error_message)
        return partner, binding

    def _vendor(self, name):
        partner = self.env['res.partner'].create({'name': name, 'is_company': True, 'supplier_rank': 1,
                                                  'email': 'vendor@example.com', 'phone': '+1 555 0002'})
        partner.action_qbo_send()
        binding = partner._qbo_binding(self.connection, 'Vendor')
        self.assertEqual(binding.state, 'sent', binding.error_message)
        return partner, binding

    def _item(self, prefix, product_name):
        """A QuickBooks item (imported as reference data) mapped to a new Odoo product."""
        item_id = self.qbo.seed(self.realm, 'Item', 1, prefix=prefix)['ids'][0]
        self.connection.sudo()._qbo_import_references()
        ref = self.env['qbo.ref'].search([('connection_id', '=', self.connection.id), ('entity', '=', 'Item'),
                                          ('qbo_id', '=', item_id)])
        product = self.env['product.product'].create({'name': product_name, 'list_price': 10.0})
        self.env['qbo.mapping'].search([('connection_id', '=', self.connection.id),
                                        ('qbo_ref_id', '=', ref.id)]).unlink()
        self.env['qbo.mapping'].create({'connection_id': self.connection.id, 'mapping_type': 'product',
                                        'res_id': product.id, 'qbo_ref_id': ref.id})
        return product, ref

    def _feed(self):
        """The change feed (one drain, as its cron runs it)."""
        self.connection.sudo()._qbo_drain()
        self.env.invalidate_all()

    def _writes(self):
        """Writes QuickBooks received (POSTs to the company API) since the log was cleared."""
        return [r for r in self.qbo.requests_log(path_contains=f'/v3/company/{self.realm}/')
                if r['method'] == 'POST' and '/query' not in r['path']]

    def _notes(self, record):
        return ' '.join(record.message_ids.mapped('body'))

    # ------------------------------------------------------------------ customers

    def test_quickbooks_edit_of_a_field_it_owns_comes_to_odoo_and_is_not_sent_back(self):
        self._own('Customer', phone='qbo', address='qbo')
        partner, binding = self._customer('Inbound Phone Co')
        self.qbo.patch_entity(self.realm, 'Customer', binding.qbo_id, {
            'PrimaryPhone': {'FreeFormNumber': '+1 555 0199'},
            'PrimaryEmailAddr': {'Address': 'typed-in-qbo@example.com'},
            'BillAddr': {'Line1': '12 Quay St', 'City': 'Sacramento', 'CountrySubDivisionCode': 'CA',
                         'PostalCode': '95814', 'Country': 'United States'}})
        self.qbo.clear_requests_log()
        self._feed()
        self.assertEqual(partner.phone, '+1 555 0199', "QuickBooks owns the phone")
        self.assertEqual((partner.street, partner.city, partner.zip, partner.state_id.code, partner.country_id.code),
                         ('12 Quay St', 'Sacramento', '95814', 'CA', 'US'))
        self.assertEqual(partner.email, 'old@example.com', "Odoo owns the e-mail: QuickBooks' edit is not applied")
        self.assertEqual(binding.state, 'sent', "what came from QuickBooks is not queued back")
        self.assertIn('Updated from QuickBooks', self._notes(partner))
        self.assertEqual(binding.qbo_sync_token, self.qbo_read(self.realm, 'Customer', binding.qbo_id)['SyncToken'])
        self.qbo_drain()
        self._feed()
        self.assertEqual(self._writes(), [], "no loop: nothing written to QuickBooks")

    def test_odoo_edit_of_a_field_it_owns_goes_to_quickbooks_without_the_fields_quickbooks_owns(self):
        self._own('Customer', phone='qbo')
        partner, binding = self._customer('Outbound Mail Co')
        self.qbo.patch_entity(self.realm, 'Customer', binding.qbo_id,
                              {'PrimaryPhone': {'FreeFormNumber': '+1 555 0777'}})
        self._feed()
        self.assertEqual(partner.phone, '+1 555 0777')
        partner.phone = '+1 555 0888'
        self.assertEqual(binding.state, 'sent', "an edit of a field QuickBooks owns alone sends nothing")
        partner.email = 'new@example.com'
        self.assertEqual(binding.state, 'to_send')
        self.qbo.clear_requests_log()
        self.qbo_drain()
        self.assertEqual(binding.state, 'sent', binding.error_message)
        customer = self.qbo_read(self.realm, 'Customer', binding.qbo_id)
        self.assertEqual(customer['PrimaryEmailAddr']['Address'], 'new@example.com')
        self.assertEqual(customer['PrimaryPhone']['FreeFormNumber'], '+1 555 0777', "QuickBooks' own phone is kept")
        self.assertTrue(self._writes(), "the update went")

    def test_echo_of_our_own_export_changes_nothing_and_sends_nothing(self):
        self._own('Customer', name='recent', email='recent', phone='recent', address='recent', terms='recent',
                  active='recent')
        partner, binding = self._customer('Echo Co')
        partner.write({'email': 'echo@example.com', 'phone': '+1 555 0300'})
        self.qbo_drain()
        self.assertEqual(binding.state, 'sent', binding.error_message)
        self.assertEqual(self.qbo_read(self.realm, 'Customer', binding.qbo_id)['PrimaryEmailAddr']['Address'],
                         'echo@example.com')
        messages = len(partner.message_ids)
        write_date = partner.write_date
        self.qbo.clear_requests_log()
        # The CDC answer carries our own update back (same SyncToken as the one we hold).
        self._feed()
        self.assertTrue(self.qbo.requests_log(path_contains='/cdc'), "the change feed did read")
        self.qbo_drain()
        self._feed()
        self.assertEqual(self._writes(), [], "after the echo, zero further writes")
        self.assertEqual(binding.state, 'sent')
        self.assertEqual(partner.write_date, write_date, "the echo wrote nothing on the partner")
        self.assertEqual(len(partner.message_ids), messages)

    def test_most_recent_edit_wins(self):
        self._own('Customer', email='recent')
        partner, binding = self._customer('Recent Co')
        self.qbo.patch_entity(self.realm, 'Customer', binding.qbo_id,
                              {'PrimaryEmailAddr': {'Address': 'older-than-odoo@example.com'}})
        # Odoo's edit is the later one: QuickBooks' value is not applied.
        self.env.cr.execute("UPDATE res_partner SET write_date = %s WHERE id = %s",
                            (fields.Datetime.now() + timedelta(days=1), partner.id))
        self.env.invalidate_all()
        self._feed()
        self.assertEqual(partner.email, 'old@example.com')
        self.qbo.patch_entity(self.realm, 'Customer', binding.qbo_id,
                              {'PrimaryEmailAddr': {'Address': 'newer-than-odoo@example.com'}})
        self.env.cr.execute("UPDATE res_partner SET write_date = %s WHERE id = %s",
                            (fields.Datetime.now() - timedelta(days=1), partner.id))
        self.env.invalidate_all()
        self._feed()
        self.assertEqual(partner.email, 'newer-than-odoo@example.com', "QuickBooks' edit is the later one")
        self.assertEqual(binding.state, 'sent')
        # Both ways: an Odoo edit of the field goes out.
        partner.email = 'odoo-again@example.com'
        self.assertEqual(binding.state, 'to_send')
        self.qbo_drain()
        self.assertEqual(self.qbo_read(self.realm, 'Customer', binding.qbo_id)['PrimaryEmailAddr']['Address'],
                         'odoo-again@example.com')

    def test_inactivation_in_quickbooks_archives_with_a_note_when_quickbooks_owns_active(self):
        partner, binding = self._customer('Kept Active Co')
        self.qbo.delete_entity(self.realm, 'Customer', binding.qbo_id)  # name lists are only made inactive
        self._feed()
        self.assertTrue(partner.active, "Odoo owns 'Active' by default")
        self.assertIn('still active in Odoo', self._notes(partner))

        self._own('Customer', active='qbo')
        partner, binding = self._customer('Archived Co')
        self.qbo.delete_entity(self.realm, 'Customer', binding.qbo_id)
        self.qbo.clear_requests_log()
        self._feed()
        self.assertFalse(partner.active)
        self.assertIn('archived in Odoo', self._notes(partner))
        self.assertEqual(binding.state, 'sent')
        self.qbo_drain()
        self.assertEqual(self._writes(), [])

    # ------------------------------------------------------------------ vendors

    def test_vendor_edit_both_ways_and_merge_relinks(self):
        self._own('Vendor', email='qbo')
        self.qbo_webhooks_on(VERIFIER)
        partner, binding = self._vendor('Both Ways Supplies')
        self.qbo.patch_entity(self.realm, 'Vendor', binding.qbo_id,
                              {'PrimaryEmailAddr': {'Address': 'ap@bothways.example'}})
        self._feed()
        self.assertEqual(partner.email, 'ap@bothways.example')
        self.assertEqual(binding.state, 'sent')
        partner.phone = '+1 555 0444'
        self.assertEqual(binding.state, 'to_send', "Odoo owns the phone")
        self.qbo_drain()
        vendor = self.qbo_read(self.realm, 'Vendor', binding.qbo_id)
        self.assertEqual(vendor['PrimaryPhone']['FreeFormNumber'], '+1 555 0444')
        self.assertEqual(vendor['PrimaryEmailAddr']['Address'], 'ap@bothways.example')

        merged_id = binding.qbo_id
        survivor_id = self.qbo.seed(self.realm, 'Vendor', 1, prefix='Surviving Supplies')['ids'][0]
        self.qbo.merge(self.realm, 'Vendor', merged_id, survivor_id)
        self.qbo_deliver_webhooks()
        event = self.env['qbo.webhook.event'].sudo().search([('operation', '=', 'Merge'),
                                                             ('merged_entity_id', '=', merged_id)])
        self.assertEqual((event.entity, event.state), ('Vendor', 'pending'))
        self.env['qbo.connection']._cron_qbo_change_feed()
        self.env.invalidate_all()
        self.assertEqual(event.state, 'done')
        self.assertEqual(binding.qbo_id, survivor_id)
        self.assertTrue(partner.active, "the merged-away vendor's inactivity archives nothing")
        self.assertIn('Merged in QuickBooks', self._notes(partner))

    # ------------------------------------------------------------------ items

    def test_item_edit_in_quickbooks_updates_the_product_for_the_fields_it_owns(self):
        self._own('Item', name='qbo', price='qbo', active='qbo')
        product, ref = self._item('Consulting Hours', 'Consulting (Odoo)')
        self.qbo.patch_entity(self.realm, 'Item', ref.qbo_id, {'Name': 'Consulting hour', 'UnitPrice': 150.0,
                                                               'Description': 'Typed in QuickBooks'})
        self._feed()
        self.assertEqual(product.name, 'Consulting hour')
        self.assertEqual(product.list_price, 150.0)
        self.assertFalse(product.description_sale, "Odoo owns the description")
        self.assertEqual(ref.name, 'Consulting hour', "the reference data follows QuickBooks")
        self.assertIn('Updated from QuickBooks', self._notes(product.product_tmpl_id))
        self.qbo.delete_entity(self.realm, 'Item', ref.qbo_id)
        self._feed()
        self.assertFalse(product.with_context(active_test=False).active)
        self.assertIn('archived in Odoo', self._notes(product.product_tmpl_id))

    def _item_link(self, product):
        return self.env['qbo.binding'].search([('connection_id', '=', self.connection.id), ('entity', '=', 'Item'),
                                               ('res_model', '=', 'product.product'), ('res_id', '=', product.id)])

    def test_odoo_edits_of_a_mapped_product_update_its_item(self):
        product, ref = self._item('Garden Design', 'Garden design (Odoo)')
        self.assertFalse(self._item_link(product), "nothing to send before an edit")
        template = product.product_tmpl_id
        template.write({'name': 'Garden design: premium', 'description_sale': 'Two visits', 'list_price': 240.0})
        link = self._item_link(product)
        self.assertEqual(link.state, 'to_send')
        self.qbo.clear_requests_log()
        self.qbo_drain()
        self.assertEqual(link.state, 'sent', link.error_message)
        item = self.qbo_read(self.realm, 'Item', ref.qbo_id)
        self.assertEqual((item['Name'], item['Description'], item['UnitPrice'], item['Active']),
                         ('Garden design- premium', 'Two visits', 240.0, True), "':' is refused in item names")
        self.assertEqual(len(self._writes()), 1, "one sparse update")
        self.assertEqual(self.qbo.requests_log(path_contains='/item/'), [], "the answer is not read back")
        self.assertEqual((ref.data['SyncToken'], ref.name), (item['SyncToken'], 'Garden design- premium'),
                         "the reference row follows the write's answer")
        # Archived in Odoo: the item is made inactive (QuickBooks never deletes items).
        template.action_archive()
        self.assertEqual(link.state, 'to_send')
        self.qbo_drain()
        self.assertEqual(link.state, 'sent', link.error_message)
        self.assertFalse(self.qbo_read(self.realm, 'Item', ref.qbo_id)['Active'])
        self.assertFalse(ref.active)
        template.action_unarchive()
        self.qbo_drain()
        self.assertTrue(self.qbo_read(self.realm, 'Item', ref.qbo_id)['Active'])

    def test_item_fields_quickbooks_owns_are_not_sent_and_its_edits_do_not_bounce_back(self):
        self._own('Item', price='qbo', description='qbo')
        product, ref = self._item('Pruning', 'Pruning (Odoo)')
        self.qbo.patch_entity(self.realm, 'Item', ref.qbo_id, {'UnitPrice': 95.0, 'Description': 'Per tree'})
        self.qbo.clear_requests_log()
        self._feed()
        self.assertEqual((product.list_price, product.description_sale), (95.0, 'Per tree'))
        self.assertFalse(self._item_link(product), "what came from QuickBooks is not queued back")
        self.qbo_drain()
        self._feed()
        self.assertEqual(self._writes(), [], "no loop: nothing written to QuickBooks")
        product.product_tmpl_id.write({'list_price': 80.0, 'description_sale': 'Per hedge'})
        self.assertFalse(self._item_link(product), "an edit of fields QuickBooks owns alone queues nothing")
        product.name = 'Pruning service'
        self.assertEqual(self._item_link(product).state, 'to_send')
        self.qbo_drain()
        self.assertEqual(self._item_link(product).state, 'sent', self._item_link(product).error_message)
        item = self.qbo_read(self.realm, 'Item', ref.qbo_id)
        self.assertEqual(item['Name'], 'Pruning service')
        self.assertEqual((item['UnitPrice'], item['Description']), (95.0, 'Per tree'), "QuickBooks' own fields kept")

    def _age_product(self, product):
        """The product's last Odoo edit a day ago (QuickBooks' edits made now are the later ones)."""
        yesterday = fields.Datetime.now() - timedelta(days=1)
        self.env.cr.execute("UPDATE product_template SET write_date = %s WHERE id = %s",
                            (yesterday, product.product_tmpl_id.id))
        self.env.cr.execute("UPDATE product_product SET write_date = %s WHERE id = %s", (yesterday, product.id))
        self.env.invalidate_all()

    def test_item_most_recent_edit_wins_and_the_echo_of_our_update_changes_nothing(self):
        self._own('Item', name='recent', description='recent', price='recent', active='recent')
        product, ref = self._item('Lawn Care', 'Lawn care')
        product.lst_price = 55.0
        link = self._item_link(product)
        self.assertEqual(link.state, 'to_send', "most recent: an Odoo edit goes out")
        self.qbo_drain()
        self.assertEqual(link.state, 'sent', link.error_message)
        self.assertEqual(self.qbo_read(self.realm, 'Item', ref.qbo_id)['UnitPrice'], 55.0)
        write_date, messages = product.product_tmpl_id.write_date, len(product.product_tmpl_id.message_ids)
        self.qbo.clear_requests_log()
        self._feed()  # the CDC answer carries our own update back (the SyncToken we hold)
        self.assertTrue(self.qbo.requests_log(path_contains='/cdc'), "the change feed did read")
        self.qbo_drain()
        self._feed()
        self.assertEqual(self._writes(), [], "after the echo, zero further writes")
        self.assertEqual(link.state, 'sent')
        self.assertEqual(product.product_tmpl_id.write_date, write_date, "the echo wrote nothing on the product")
        self.assertEqual(len(product.product_tmpl_id.message_ids), messages)
        # The other way: a QuickBooks edit later than Odoo's comes to Odoo, and is not sent back.
        self._age_product(product)
        self.qbo.patch_entity(self.realm, 'Item', ref.qbo_id, {'Name': 'Lawn care (weekly)', 'UnitPrice': 60.0})
        self._feed()
        self.assertEqual((product.name, product.list_price), ('Lawn care (weekly)', 60.0))
        self.assertEqual(link.state, 'sent')
        self.qbo_drain()
        self.assertEqual(self._writes(), [])

    def test_item_changed_in_quickbooks_since_our_token_is_read_once_and_sent_again(self):
        self._own('Item', price='qbo')
        product, ref = self._item('Mulching', 'Mulching')
        product.name = 'Mulching (bark)'
        # Another QuickBooks user changes the price before the feed brings it: the SyncToken held is stale.
        self.qbo.patch_entity(self.realm, 'Item', ref.qbo_id, {'UnitPrice': 60.0})
        self.qbo.clear_requests_log()
        self.qbo_drain()
        link = self._item_link(product)
        self.assertEqual(link.state, 'sent', link.error_message)
        self.assertEqual([r['status'] for r in self._writes()], [400, 200], "refused once (5010), then sent")
        self.assertEqual(len(self.qbo.requests_log(path_contains=f'/item/{ref.qbo_id}')), 1, "one read")
        item = self.qbo_read(self.realm, 'Item', ref.qbo_id)
        self.assertEqual((item['Name'], item['UnitPrice']), ('Mulching (bark)', 60.0))
        self.assertEqual(product.list_price, 60.0, "QuickBooks' price, read with the 5010, came to Odoo")
        self.assertEqual(ref.data['SyncToken'], item['SyncToken'])
        self.qbo.clear_requests_log()
        self._feed()
        self.qbo_drain()
        self.assertEqual(self._writes(), [], "the feed's copy of our update is its echo")

    def test_item_rename_to_a_name_quickbooks_has_fails_on_the_product_link_once(self):
        product, ref = self._item('Hedging', 'Hedging')
        product.name = 'services'  # the sandbox's "Services" item: names are unique (whatever the case)
        self.qbo.clear_requests_log()
        self.qbo_drain()
        link = self._item_link(product)
        self.assertEqual((link.state, link.error_code), ('error', '6240'))
        self.assertIn('items have their own', link.error_message)
        self.assertIn('Not sent to QuickBooks (item', self._notes(product.product_tmpl_id))
        self.qbo_drain()
        self.assertEqual(len(self._writes()), 1, "sent once, not again by the next run")
        self.assertEqual(self.qbo_read(self.realm, 'Item', ref.qbo_id)['Name'], ref.name)

    def test_item_edits_of_many_products_go_in_one_batch(self):
        products = [self._item(f'Batch Item {index}', f'Batch product {index}')[0] for index in range(3)]
        self.env['product.product'].browse([p.id for p in products]).product_tmpl_id.write({'list_price': 12.5})
        self.qbo.clear_requests_log()
        self.qbo_drain()
        self.assertEqual(len(self._writes()), 1)
        self.assertIn('/batch', self._writes()[0]['path'])
        for product in products:
            link = self._item_link(product)
            self.assertEqual(link.state, 'sent', link.error_message)
            ref = self.env['qbo.mapping']._qbo_find(self.connection, 'product', product)
            self.assertEqual(self.qbo_read(self.realm, 'Item', ref.qbo_id)['UnitPrice'], 12.5)
        # One item changed in QuickBooks since our token: refused in the batch (5010), then read once and sent
        # once alone; the stale token is not sent a second time.
        stale = self.env['qbo.mapping']._qbo_find(self.connection, 'product', products[0])
        self.qbo.patch_entity(self.realm, 'Item', stale.qbo_id, {'Sku': 'TYPED-IN-QBO'})
        self.env['product.product'].browse([p.id for p in products]).product_tmpl_id.write({'list_price': 14.0})
        self.qbo.clear_requests_log()
        self.qbo_drain()
        self.assertEqual([(r['path'].rsplit('/', 1)[-1], r['status']) for r in self._writes()],
                         [('batch', 200), ('item', 200)])
        self.assertEqual(len(self.qbo.requests_log(path_contains=f'/item/{stale.qbo_id}')), 1, "one read")
        item = self.qbo_read(self.realm, 'Item', stale.qbo_id)
        self.assertEqual((item['UnitPrice'], item['Sku']), (14.0, 'TYPED-IN-QBO'))
        self.assertEqual(self._item_link(products[0]).state, 'sent')

    def test_item_merged_in_quickbooks_maps_the_product_to_the_survivor(self):
        self.qbo_webhooks_on(VERIFIER)
        product, ref = self._item('Old Widget', 'Widget')
        survivor_id = self.qbo.seed(self.realm, 'Item', 1, prefix='New Widget')['ids'][0]
        self.qbo.merge(self.realm, 'Item', ref.qbo_id, survivor_id)
        self.qbo_deliver_webhooks()
        self.env['qbo.connection']._cron_qbo_change_feed()
        self.env.invalidate_all()
        mapping = self.env['qbo.mapping'].search([('connection_id', '=', self.connection.id),
                                                  ('mapping_type', '=', 'product'), ('product_id', '=', product.id)])
        self.assertEqual(mapping.qbo_ref_id.qbo_id, survivor_id)
        self.assertFalse(ref.active)
        self.assertTrue(product.active)
        self.assertIn('Item merged in QuickBooks', self._notes(product.product_tmpl_id))
        # The next Odoo edit goes to the survivor.
        product.lst_price = 33.0
        self.qbo_drain()
        self.assertEqual(self._item_link(product).state, 'sent', self._item_link(product).error_message)
        self.assertEqual(self.qbo_read(self.realm, 'Item', survivor_id)['UnitPrice'], 33.0)
        self.assertNotEqual(self.qbo_read(self.realm, 'Item', ref.qbo_id)['UnitPrice'], 33.0)
