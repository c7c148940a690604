import uuid

from core.utils import get_client_ip


class RequestIdMiddleware:
    """Tag every request with an id (and remember the client ip) for the logs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request.META.get("HTTP_X_REQUEST_ID") or uuid.uuid4().hex
        request.client_ip = get_client_ip(request)
        response = self.get_response(request)
        response["X-Request-Id"] = request.request_id
        return response
