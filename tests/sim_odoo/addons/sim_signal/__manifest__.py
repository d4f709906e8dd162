{
    'name': 'Simulator: signal_changes from an install hook',
    'version': '1.0.0',
    'depends': ['base'],
    'post_init_hook': 'post_init',
    'license': 'LGPL-3',
}
