{
    'name': 'Simulator test addon',
    'version': '1.0.0',
    'depends': ['base'],
    'data': [
        'security/ir.model.access.csv',
        'data/ir_cron.xml',
        'views/res_config_settings_views.xml',
    ],
    'post_init_hook': 'post_init',
    'license': 'LGPL-3',
}
