{
    'name': 'QuickBooks Online Connector',
    'version': '1.0.0',  # Odoo prefixes the running series: 18.0.1.0.0 / 19.0.1.0.0
    'category': 'Accounting/Accounting',
    'summary': 'Export customers, invoices and credit notes to QuickBooks Online, exactly once.',
    'author': 'QuickBooks Online connector team',
    'website': 'https://github.com/',
    'license': 'LGPL-3',
    'depends': ['account', 'web'],
    'data': [
        'security/ir.model.access.csv',
        'security/qbo_security.xml',
        'data/ir_cron_data.xml',
        'data/qbo_connect_cron.xml',
        'data/qbo_server_actions.xml',
        'data/qbo_client_actions.xml',
        'data/qbo_inbound_cron_data.xml',
        'views/qbo_connection_views.xml',
        'views/res_config_settings_views.xml',
        'views/account_move_views.xml',
        'views/res_partner_views.xml',
        'views/account_journal_views.xml',
        'views/qbo_templates.xml',
        'views/qbo_payment_views.xml',
        'views/qbo_match_views.xml',
        'views/qbo_dry_run_views.xml',
        'views/qbo_dashboard_views.xml',
        'views/qbo_reconciliation_views.xml',
        'views/qbo_master_field_views.xml',
    ],
    'assets': {
        'web.assets_backend': [
            'quickbooks_online/static/src/**/*',
        ],
        'web.assets_tests': [
            'quickbooks_online/static/tests/tours/**/*',
        ],
    },
}
