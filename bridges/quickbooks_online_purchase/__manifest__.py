{
    'name': 'QuickBooks Online Connector - Purchase',
    'version': '1.0.0',  # Odoo prefixes the running series: 18.0.1.0.0 / 19.0.1.0.0
    'category': 'Accounting/Accounting',
    'summary': 'Send confirmed purchase orders to QuickBooks Online, and link the bills made from them, exactly once.',
    'author': 'QuickBooks Online connector team',
    'website': 'https://github.com/',
    'license': 'LGPL-3',
    # A bridge: installed by itself when both the connector and Purchase are.
    'depends': ['quickbooks_online', 'purchase'],
    'auto_install': True,
    'data': [
        'data/qbo_server_actions.xml',
        'views/purchase_order_views.xml',
        'views/res_config_settings_views.xml',
    ],
}
