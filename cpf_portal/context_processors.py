def navigation(request):
    """The current URL's name and namespace, for aria-current in the menus (none on a 404)."""
    match = getattr(request, "resolver_match", None)
    return {
        "current_url_name": match.url_name if match else "",
        "current_namespace": match.namespace if match else "",
    }
