{'name': 'Bad view', 'version': '1.0', 'depends': ['base'], 'data': ['view.xml'], 'license': 'LGPL-3'}
