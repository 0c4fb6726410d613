"""Agency notices (thông báo của cơ quan BHXH): the typed notice, its XML, the agency seal and a PDF.

`tbgd` (01/TB-GD, pure Python) holds the notice and its XML codec; `pdf` renders a Django template
to PDF; `services.issue_registration_confirmation` seals the XML and renders the PDF. No models: the
caller stores the files. See docs/notices.md.
"""
