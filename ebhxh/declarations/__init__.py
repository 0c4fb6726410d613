"""The declarations rules package: form models, XML and Excel codecs, validation rules and the
contribution calculator. Pure Python (no Django): the server and the offline validator run the
same code, and payroll software can import it as a library.
"""
