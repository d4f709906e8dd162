{
    'name': 'Base',
    'version': '1.3',
    'category': 'Hidden',
    'summary': 'The kernel of the simulated Odoo, needed for all installation.',
    'depends': [],
    'data': [
        'security/ir.model.access.csv',
        'data/base_data.xml',
    ],
    'installable': True,
    'auto_install': True,
    'license': 'LGPL-3',
}
