"""Plain functions holding the product's rules. They never read ``request`` or
``current_user``; callers pass what they need and own the transaction."""
