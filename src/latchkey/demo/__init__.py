"""`latchkey demo`: Latchkey, a login server and a web app on three local origins."""
