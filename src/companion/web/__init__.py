"""HTTP adapter: the FastAPI app factory, routers, the widget and the admin pages."""
