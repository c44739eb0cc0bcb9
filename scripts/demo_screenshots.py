"""Take the app page's screenshots (static/description/screenshot_*.png) from a running demo.

With ``./scripts/demo`` running, this script sends the demo's posted invoices to the emulator (the
button's method over JSON-RPC, so that the screens have something to show), then opens in headless
Chromium, logged in as the demo admin: the QuickBooks block of the settings, a sent invoice's form
and the list of transfers; each is saved 1000 px wide, as the Apps screen and the app store show it.
Usage: ``.venv19/bin/python scripts/demo_screenshots.py [--odoo URL] [--db NAME]`` (default: the demo's
port 8069; the database is the only one the demo serves).
"""
import argparse
import base64
import io
import os
import sys
import time

from demo_browser_check import Chromium, Odoo
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'static', 'description')
WIDTH = 1000


def shoot(browser, url, ready, what, name, act=None, settled=None):
    """Open `url`, wait for the `ready` JS expression, optionally run the `act` JS statement and wait for the
    `settled` expression, and save the page."""
    browser.call('Page.navigate', url=url)
    browser.wait_for(ready, what)
    if act:
        browser.evaluate(act)
        browser.wait_for(settled or 'true', what)
    time.sleep(1.5)  # fonts, icons and the last re-render
    shot = browser.call('Page.captureScreenshot', format='png')
    image = Image.open(io.BytesIO(base64.b64decode(shot['data']))).convert('RGB')
    image = image.resize((WIDTH, round(image.height * WIDTH / image.width)), Image.LANCZOS)
    path = os.path.join(OUT, name)
    # A 256-colour palette keeps a screen of flat colours small (tens of kB) and sharp.
    image.quantize(256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    print(f"screenshots: {os.path.relpath(path)} ({os.path.getsize(path) // 1024} kB): {what}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--odoo', default='http://127.0.0.1:8069')
    parser.add_argument('--db', default=None)
    args = parser.parse_args()

    odoo = Odoo(args.odoo, args.db, 'admin', 'admin')
    invoices = odoo.call('account.move', 'search', [('move_type', '=', 'out_invoice'), ('state', '=', 'posted')],
                         order='id')
    if not invoices:
        raise SystemExit("screenshots: the demo database has no posted invoice")
    odoo.call('account.move', 'action_qbo_send', invoices)

    browser = Chromium()
    try:
        browser.call('Network.enable')
        browser.call('Emulation.setDeviceMetricsOverride', width=1366, height=800, deviceScaleFactor=1, mobile=False)
        host = args.odoo.split('//', 1)[1].split(':', 1)[0].split('/', 1)[0]
        browser.call('Network.setCookie', name='session_id', value=odoo.session.cookies['session_id'],
                     domain=host, path='/')
        block = "[...document.querySelectorAll('h2')].find(e => e.textContent.trim() == 'QuickBooks Online')"
        shoot(browser, f"{odoo.url}/odoo/settings#account", block,
              "the QuickBooks Online block of the settings", 'screenshot_settings.png',
              act=f"({block}).scrollIntoView({{block: 'start'}})")
        shoot(browser, f"{odoo.url}/odoo/customer-invoices/{invoices[0]}",
              "[...document.querySelectorAll('.alert-success')].find(e => e.textContent.includes('In QuickBooks'))",
              "a sent invoice's form", 'screenshot_invoice.png')
        # The menu opens the failed transfers only (none here): the facet is removed to list them all.
        shoot(browser, f"{odoo.url}/odoo/action-quickbooks_online.qbo_binding_action",
              "document.querySelector('.o_searchview_facet .o_facet_remove')", "the list of transfers",
              'screenshot_transfers.png', act="document.querySelector('.o_searchview_facet .o_facet_remove').click()",
              settled="document.querySelectorAll('.o_list_view .o_data_row').length > 0")
    finally:
        browser.close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
