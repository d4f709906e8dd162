{'name': 'Numbercall', 'version': '1.0', 'depends': ['base'], 'data': ['cron.xml'], 'license': 'LGPL-3'}
