{
    'name': 'QuickBooks Online Connector - Timesheets',
    'version': '1.0.0',  # Odoo prefixes the running series: 18.0.1.0.0 / 19.0.1.0.0
    'category': 'Accounting/Accounting',
    'summary': 'Send timesheets to QuickBooks Online as time activities, and employees as employees, exactly once.',
    'author': 'QuickBooks Online connector team',
    'website': 'https://github.com/',
    'license': 'LGPL-3',
    # A bridge: installed by itself when both the connector and Timesheets are.
    'depends': ['quickbooks_online', 'hr_timesheet'],
    'auto_install': True,
    'data': [
        'security/ir.model.access.csv',
        'data/qbo_server_actions.xml',
        'views/account_analytic_line_views.xml',
        'views/hr_employee_views.xml',
        'views/res_config_settings_views.xml',
    ],
    'assets': {
        'web.assets_tests': [
            'quickbooks_online_hr_timesheet/static/tests/tours/**/*',
        ],
    },
}
