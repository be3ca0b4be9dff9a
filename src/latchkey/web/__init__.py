"""Server-rendered pages: the identity pools' hosted pages (templates/hosted/)."""
