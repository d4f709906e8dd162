{'name': 'External dependency', 'version': '1.0', 'depends': ['base'],
 'external_dependencies': {'python': ['sim_no_such_python_lib']}, 'license': 'LGPL-3'}
