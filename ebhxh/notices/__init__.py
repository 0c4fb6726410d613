"""Agency notices (thông báo của cơ quan BHXH): the typed notice, its XML, the agency seal and a PDF.

`tbgd` (01/TB-GD) and `tbts` (02/TB-TS, the dossier receipt) hold the notices and their XML codecs
(pure Python, sharing `xmlbase`); `pdf` renders a Django template to PDF; `services` seals the XML
(`issue_registration_confirmation`, `issue_receipt`) and renders PDFs (`receipt_pdf`). No models:
the caller stores the files. See docs/notices.md.
"""
