from django.http import JsonResponse
from django.views.decorators.http import require_GET

from shipping.quotes import QuoteError, quote


@require_GET
def quote_view(request):
    country = request.GET.get("country", "")
    weight = request.GET.get("weight", "0")
    subtotal = request.GET.get("subtotal", "0")
    try:
        result = quote(country, weight, subtotal)
    except (QuoteError, ValueError) as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse(result)
