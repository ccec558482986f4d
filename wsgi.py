"""What ``flask --app wsgi`` and gunicorn load."""

from webapp import create_app

app = create_app()
