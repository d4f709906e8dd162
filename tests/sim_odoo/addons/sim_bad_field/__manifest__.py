{'name': 'Bad field', 'version': '1.0', 'depends': ['base'], 'data': ['data.xml'], 'license': 'LGPL-3'}
