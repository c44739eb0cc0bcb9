"""The app as the Apps screen shows it: its icon and its description page (static/description/).

An integrator finds the addon in Apps, sees its icon on the card and opens its page (what it does,
screenshots, setup, supported versions). The server side is checked first (the module record's icon
and description, each file served as a PNG), then the same screens in headless Chromium.
"""
import io
import json
import re

from PIL import Image

from odoo.tests import HttpCase, new_test_user, tagged

ICON = '/quickbooks_online/static/description/icon.png'
# Headings of static/description/index.html: README.rst, the description Odoo falls back on, has none of them.
PAGE_TEXTS = ('What it does', 'Screenshots', 'Setup', 'Supported versions')
# Polls a JS condition in the page (the screens render asynchronously); rejects with what it waited for.
JS_WAIT = """
const wait = async (what, condition, timeout = 30000) => {
    const end = Date.now() + timeout;
    while (Date.now() < end) {
        try { const value = condition(); if (value) { return value; } } catch (e) { /* not rendered yet */ }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('timed out waiting for ' + what);
};
const loaded = (img) => img && img.complete && img.naturalWidth > 0;
"""


@tagged('post_install', '-at_install')
class TestQboAppPage(HttpCase):
    """The icon and the app page, on the module record and in the browser."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.module = cls.env['ir.module.module'].search([('name', '=', 'quickbooks_online')])
        cls.integrator = new_test_user(cls.env, login='qbo_app_admin', password='qbo_app_admin',
                                       groups='base.group_system', email=False)

    def _get_png(self, url):
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200, url)
        self.assertEqual(response.headers['Content-Type'].split(';')[0], 'image/png', url)
        return Image.open(io.BytesIO(response.content))

    def test_module_record_has_the_icon_and_the_page(self):
        self.assertEqual(self.module.icon, ICON, "the icon of the Apps screen is the addon's, not Odoo's default")
        icon = self._get_png(ICON)
        self.assertEqual(icon.format, 'PNG')
        self.assertEqual(icon.size, (128, 128))
        self.assertTrue(self.module.icon_image, "the module form's icon (read from the same file)")

        html = self.module.description_html
        self.assertTrue(html)
        for text in PAGE_TEXTS:
            self.assertIn(f'<h2>{text}</h2>', html)
        self.assertIn('18.0', html)
        self.assertIn('19.0', html)
        # Odoo points the page's relative image paths at the module's static/description/: each is served.
        screenshots = re.findall(r'src="(/quickbooks_online/static/description/screenshot_\w+\.png)"', html)
        self.assertEqual(len(screenshots), 3, html)
        for url in screenshots:
            self.assertGreaterEqual(self._get_png(url).size[0], 800, url)

    def test_apps_screen_shows_the_icon_and_the_page(self):
        # The Apps screen opens on applications only: like a person, remove that filter and search the name.
        self.browser_js('/odoo/action-base.open_module_tree', JS_WAIT + """
            (async () => {
                try {
                    const facet = await wait('the search facet', () => document.querySelector('.o_facet_remove'));
                    facet.click();
                    await wait('the facet removed', () => !document.querySelector('.o_facet_remove'));
                    const input = document.querySelector('.o_searchview_input');
                    input.value = 'QuickBooks Online Connector';
                    input.dispatchEvent(new InputEvent('input', {bubbles: true}));
                    // Enter picks the first proposal ("Search Module for: ..."), once the proposals are shown.
                    await wait('the search proposals', () => document.querySelector(
                        '.o_searchview_autocomplete .o-dropdown-item, .o_searchview_autocomplete li'));
                    input.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}));
                    const card = await wait('the addon card', () => [...document.querySelectorAll('.o_kanban_record')]
                        .find((c) => c.textContent.includes('QuickBooks Online Connector')));
                    const icon = card.querySelector('.o_field_widget[name=icon] img');
                    await wait('the icon loaded on the card', () => loaded(icon));
                    if (!icon.src.endsWith('%s')) { throw new Error('card icon is ' + icon.src); }
                    console.log('test successful');
                } catch (e) {
                    console.error('Apps screen: ' + e.message);
                }
            })()
        """ % ICON, login='qbo_app_admin', timeout=90)

        self.browser_js(f'/odoo/action-base.open_module_tree/{self.module.id}', JS_WAIT + """
            (async () => {
                try {
                    const page = await wait('the description page', () => document.querySelector(
                        '.o_form_view .o_field_widget[name=description_html]'));
                    const texts = %s;
                    await wait('its headings', () => texts.every((t) => page.textContent.includes(t)));
                    const shots = [...page.querySelectorAll('img')];
                    if (shots.length !== 3) { throw new Error(shots.length + ' images on the page'); }
                    await wait('the screenshots loaded', () => shots.every(loaded));
                    const icon = document.querySelector('.o_form_view .o_field_widget[name=icon_image] img');
                    await wait('the icon loaded on the form', () => loaded(icon));
                    if (icon.naturalWidth !== 128) { throw new Error('form icon is ' + icon.naturalWidth + ' px'); }
                    console.log('test successful');
                } catch (e) {
                    console.error('module form: ' + e.message);
                }
            })()
        """ % json.dumps(PAGE_TEXTS), login='qbo_app_admin', timeout=90)
