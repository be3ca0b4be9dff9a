"""Server-rendered pages: the identity pools' hosted pages (templates/hosted/) and their icons.
It may import only i18n; the HTTP surfaces render it."""
