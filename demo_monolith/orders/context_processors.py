from orders.cart import CART_SESSION_KEY


def cart(request):
    session = getattr(request, "session", None)
    if session is None:
        return {"cart_count": 0}
    return {"cart_count": sum(session.get(CART_SESSION_KEY, {}).values())}
