"""Agency notices (thông báo của cơ quan BHXH): the typed notice, its XML, the agency seal and a PDF.

`tbgd` (01/TB-GD), `tbts` (02/TB-TS, the dossier receipt) and `result` (03/TB-TS, the result) hold
the notices and their XML codecs (pure Python, sharing `xmlbase`); `pdf` renders a Django template to
PDF; `services` seals the XML (`issue_registration_confirmation`, `issue_receipt`, `issue_result`) and
renders PDFs (`receipt_pdf`, `result_pdf`). No models: the caller stores the files. See
docs/notices.md.
"""
