{'name': 'Missing dependency', 'version': '1.0', 'depends': ['base', 'sim_does_not_exist'],
 'license': 'LGPL-3'}
